"""Bad command lines: one line on stderr and exit status 2, before any training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from botorch_demo import DEMO
from botorch_demo.cli import main

# {tmp} is an empty folder of the test's own, {file} an existing file in it.
CLI_CASES = {
    "unknown task": (["run", "--task", "nope"], "Unknown task 'nope'"),
    "q zero": (["run", "--preset", "smoke", "--q", "0"], "--q: q must be a positive int, got 0"),
    "q negative": (["run", "--preset", "smoke", "--q", "-5"], "got -5"),
    "q above the space": (
        ["run", "--preset", "smoke", "--q", "40000"],
        "exceeds the 32768 distinct",
    ),
    "task without data": (["run", "--task", "tfbind10"], "No data for task 'tfbind10'"),
    "out is a file": (["run", "--preset", "smoke", "--out", "{file}"], "is an existing file"),
    "out below a file": (
        ["run", "--preset", "smoke", "--out", "{file}/sub"],
        "is not writable",
    ),
    "unknown device": (["run", "--preset", "smoke", "--device", "foo"], "unknown --device 'foo'"),
    "negative seed": (["run", "--preset", "smoke", "--seed", "-1"], "--seed must lie in"),
    "zero threads": (["run", "--preset", "smoke", "--threads", "0"], "--threads must be >= 1"),
    "sweep without levels": (
        ["sweep-m", "--m", "5:1:1", "--out", "{tmp}/s"],
        "gives no noise levels",
    ),
    "sweep beyond M": (
        ["sweep-m", "--m", "0:2000:500", "--out", "{tmp}/s"],
        "outside [0, M=1000]",
    ),
    "sweep bad range": (["sweep-m", "--m", "x", "--out", "{tmp}/s"], "bad --m 'x'"),
    "bench unknown task": (
        ["bench", "--task", "nope", "--out", "{tmp}/b"],
        "Unknown task 'nope'",
    ),
    "bench out is a file": (["bench", "--out", "{file}"], "is an existing file"),
    "bench zero seeds": (["bench", "--seeds", "0", "--out", "{tmp}/b"], "seeds must be >= 1"),
    "bench missing data folder": (
        ["bench", "--data-dir", "{tmp}/none", "--out", "{tmp}/b"],
        "not a folder",
    ),
    "sweep unknown device": (
        ["sweep-m", "--device", "foo", "--out", "{tmp}/s"],
        "unknown --device 'foo'",
    ),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_prints_one_line_and_exits_2_before_training(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    template, fragment = CLI_CASES[case]
    argv = [arg.format(tmp=tmp_path, file=a_file) for arg in template]
    monkeypatch.delenv("BOTORCH_DEMO_DATA", raising=False)

    def no_training(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(DEMO, "fit", no_training)
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err
    assert err.startswith(f"botorch-demo {argv[0]}: error: ")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present")
def test_cli_rejects_an_absent_device(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "--device", "cuda"])
    assert info.value.code == 2
    assert "CUDA is not available" in capsys.readouterr().err
