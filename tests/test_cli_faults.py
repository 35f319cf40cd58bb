"""Bad command lines, second pass: one line naming the argument, nothing built first.

Argparse's own errors are one line with a pointer to ``--help``; counts and
ranges are checked arithmetically before any list is built; options that do
not apply to the chosen executor are refused; files in ``--out`` are written
through the atomic writer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import TINY

from botorch_demo import DEMO
from botorch_demo.cli import main

# case: (argv with {tmp} for a fresh folder and {file} for a file in it, fragments of the message)
CASES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "q not an int": (["run", "--q", "x"], ("argument --q", "invalid int value", "--help")),
    "unknown preset": (["run", "--preset", "nope"], ("argument --preset", "--help")),
    "unknown option": (["run", "--bogus", "1"], ("--bogus", "--help")),
    "q zero without a subcommand": (["--q", "0"], ("--q: q must be a positive int",)),
    "seeds not an int": (["bench", "--seeds", "x"], ("argument --seeds", "--help")),
    "unknown executor": (["bench", "--executor", "nope"], ("argument --executor", "--help")),
    "threads 2**40": (["run", "--threads", str(2**40)], ("--threads must be <= 1024",)),
    "threads a million": (["run", "--threads", "1000000"], ("--threads must be <= 1024",)),
    "seeds a billion": (["bench", "--seeds", "1000000000"], ("--seeds must lie in [1, 10000]",)),
    "seeds 10**20": (["bench", "--seeds", str(10**20)], ("--seeds must lie in",)),
    "seeds negative": (["bench", "--seeds", "-3"], ("--seeds must lie in",)),
    "m up to 1e8": (["sweep-m", "--m", "0:100000000:1"], ("--m", "outside [0, M=1000]")),
    "m up to 1e12": (["sweep-m", "--m", f"0:{10**12}:1"], ("--m", "outside [0, M=1000]")),
    "m negative start": (["sweep-m", "--m=-5:10:1"], ("--m", "outside")),
    "m zero step": (["sweep-m", "--m", "0:10:0"], ("bad --m",)),
    "task empty": (["bench", "--task", ""], ("--task", "names no task")),
    "task a comma": (["bench", "--task", ","], ("--task", "names no task")),
    "sweep task empty": (["sweep-m", "--task", " , "], ("--task", "names no task")),
    "slurm time with local": (
        ["bench", "--slurm-time", "abc"],
        ("--slurm-time applies to --executor submitit only",),
    ),
    "ray address with local": (
        ["bench", "--ray-address", "bogus:1"],
        ("--ray-address applies to --executor ray",),
    ),
    "log folder with local": (
        ["bench", "--log-folder", "{file}/logs"],
        ("--log-folder applies to --executor submitit",),
    ),
    "partition with local": (["bench", "--slurm-partition", "gpu"], ("--slurm-partition",)),
    "cpus per cell with local": (["bench", "--cpus-per-cell", "4"], ("--cpus-per-cell applies",)),
    "gpus per cell with local": (["bench", "--gpus-per-cell", "1"], ("--gpus-per-cell applies",)),
    "slurm partition with ray": (
        ["bench", "--executor", "ray", "--slurm-partition", "gpu"],
        ("--slurm-partition applies to --executor submitit only, not --executor ray",),
    ),
    "log folder under a file": (
        ["bench", "--executor", "submitit", "--log-folder", "{file}/logs"],
        ("--log-folder", "lies under a file"),
    ),
    "bad slurm time": (
        ["bench", "--executor", "submitit", "--slurm-time", "abc"],
        ("--slurm-time must be",),
    ),
    "zero cpus per cell": (
        ["bench", "--executor", "ray", "--cpus-per-cell", "0"],
        ("--cpus-per-cell must lie in",),
    ),
    "workers a billion": (["bench", "--workers", "1000000000"], ("--workers must lie in",)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_command_lines_print_one_line_naming_the_argument(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    template, fragments = CASES[case]
    argv = [arg.format(tmp=tmp_path, file=a_file) for arg in template]
    if argv[0] in ("bench", "sweep-m"):
        argv += ["--out", str(tmp_path / "out")]

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(DEMO, "fit", no_training)
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("botorch-demo"), err
    for fragment in fragments:
        assert fragment in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("not json {", "is not readable JSON"), ("[1, 2]", "holds a list")],
)
def test_a_bad_run_json_in_out_is_named(
    content: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "run.json").write_text(content)
    argv = ["bench", "--task", "levy", "--methods", "grad", "--seeds", "1"]
    with pytest.raises(SystemExit) as info:
        main([*argv, "--profile", "smoke", "--out", str(tmp_path), "--no-progress"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "run.json") in err and fragment in err, err


def test_run_out_replaces_planted_symlinks_and_never_writes_through_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``candidates.pt``, ``summary.json`` and the model are written through the
    atomic writer: the outside targets of planted symlinks keep their content."""
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    for name in ("candidates.pt", "summary.json", "demo_model.pt"):
        (outside / name).write_text("keep me")
        (out / name).symlink_to(outside / name)
    fit = DEMO.fit

    def small_fit(self: DEMO, X: torch.Tensor, Y: torch.Tensor, bounds, cats=None, **kw: Any):
        self.config = TINY
        return fit(self, X[:64], Y[:64], bounds, cats, **kw)

    monkeypatch.setattr(DEMO, "fit", small_fit)
    main(["run", "--preset", "smoke", "--q", "4", "--out", str(out), "--threads", "1"])
    capsys.readouterr()
    for name in ("candidates.pt", "summary.json", "demo_model.pt"):
        assert (outside / name).read_text() == "keep me"
        assert not (out / name).is_symlink()
    assert json.loads((out / "summary.json").read_text())["q"] == 4
    assert torch.load(out / "candidates.pt", weights_only=True)["candidates"].shape == (4, 8)
    assert sorted(p.name for p in out.iterdir()) == [
        "candidates.pt",
        "demo_model.pt",
        "summary.json",
    ]
