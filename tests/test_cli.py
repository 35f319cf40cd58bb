"""The botorch-demo command line: run, bench and sweep-m."""

import json
from pathlib import Path

import pytest
import torch

from botorch_demo import DEMO
from botorch_demo.cli import _validated, build_parser, main
from botorch_demo.tasks import suite_tasks


# ------------------------------------------------------------------ run
@pytest.mark.slow
def test_run_scores_saves_and_reloads(tmp_path) -> None:
    args = build_parser().parse_args(
        ["run", "--preset", "smoke", "--q", "16", "--seed", "1", "--out", str(tmp_path)]
    )
    summary = args.func(args)
    assert summary["task"] == "tfbind8"
    assert summary["p100"] > summary["d_best"]
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved == summary
    cands = torch.load(tmp_path / "candidates.pt")["candidates"]
    assert cands.shape == (16, 8)
    model = DEMO.load(tmp_path / "demo_model.pt")
    assert torch.equal(model.generate(16, seed=1)[0], cands)


def test_default_subcommand_is_run() -> None:
    args = build_parser().parse_args(["run"])
    assert (args.task, args.preset, args.q) == ("tfbind8", "fast", 256)


# ------------------------------------------------------------------ bench and sweep-m
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["bench", "--methods", "demo,nope", "--profile", "smoke"], ("nope", "bo-qei")),
        (["bench", "--task", "nope"], ("nope", "tfbind8", "levy")),
        (["sweep-m", "--task", "levy", "--profile", "turbo"], ("turbo", "smoke")),
        (["bench", "--suite", "nope"], ("nope", "paper", "robustness")),
        (["bench", "--suite", "paper", "--task", "levy"], ("--suite or --task",)),
        (["bench", "--methods", "demo[nope=1]"], ("demo[nope=1]", "Valid fields", "m, M")),
        (["bench", "--methods", "demo[m=5000]", "--profile", "smoke"], ("M=1000",)),
        (["bench", "--methods", "demo[m=1"], ("Unbalanced brackets",)),
    ],
)
def test_cli_errors_name_the_argument_and_list_known_names(argv, expected, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--out", str(tmp_path / "out")])
    assert info.value.code == 2  # A usage error: one line on stderr.
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    for text in expected:
        assert text in err
    assert not (tmp_path / "out").exists()  # refused before any work


def test_suites_resolve_to_their_tasks(tmp_path) -> None:
    out = ["--out", str(tmp_path)]
    args = build_parser().parse_args(
        "bench --suite robustness --profile smoke --seeds 1 --methods demo,grad".split() + out
    )
    tasks, methods = _validated(args)
    assert tasks == suite_tasks("robustness")
    assert len(tasks) >= 8
    assert methods == ["demo", "grad"]
    args = build_parser().parse_args(["bench", "--suite", "paper", *out])
    assert _validated(args)[0] == ["tfbind8", "tfbind10", "levy"]


def test_method_variants_are_validated_with_the_profile(tmp_path) -> None:
    args = build_parser().parse_args(
        [
            "bench",
            "--methods",
            "grad,demo[m=200,guidance_weight=3]",
            "--methods",
            "demo[ascent_optimizer=sgd]",
            "--profile",
            "smoke",
            "--out",
            str(tmp_path),
        ]
    )
    assert _validated(args)[1] == [
        "demo[guidance_weight=3.0,m=200]",
        "demo[ascent_optimizer=sgd]",
        "grad",
    ]


def test_cli_parses_the_documented_command() -> None:
    args = build_parser().parse_args(
        "bench --task tfbind8 --task levy --methods demo,bo-qei,grad --seeds 8 "
        "--profile fast --out results/".split()
    )
    assert args.task == ["tfbind8", "levy"]
    assert args.methods == ["demo,bo-qei,grad"]
    assert (args.seeds, args.profile, args.workers, args.device) == (8, "fast", 1, "cpu")
    sweep = build_parser().parse_args(["sweep-m", "--task", "tfbind8", "--task", "levy"])
    assert sweep.m == "0:1000:100"
    assert (sweep.executor, sweep.out) == ("local", Path("sweep-m"))


@pytest.mark.parametrize("command", ["bench", "sweep-m"])
def test_cli_executor_options(command: str, tmp_path, capsys) -> None:
    argv = [command, "--executor", "submitit", "--slurm-partition", "gpu"]
    argv += ["--slurm-time", "4:00:00", "--gpus-per-cell", "1", "--cpus-per-cell", "8"]
    args = build_parser().parse_args(argv)
    assert (args.executor, args.slurm_partition, args.slurm_time, args.gpus_per_cell) == (
        "submitit",
        "gpu",
        "4:00:00",
        1,
    )
    assert build_parser().parse_args([command]).executor == "local"
    bad = [command, "--task", "levy", "--seeds", "1", "--out", str(tmp_path)]
    with pytest.raises(SystemExit) as info:
        main([*bad, "--profile", "smoke", "--executor", "submitit", "--slurm-time", "1:30"])
    assert info.value.code == 2
    assert "slurm-time must be" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # refused before any work


def test_sweep_m_runs_as_harness_cells(tmp_path, capsys) -> None:
    argv = ["sweep-m", "--task", "seq-l6-v5", "--seeds", "1", "--profile", "smoke"]
    main([*argv, "--m", "0,400", "--out", str(tmp_path), "--no-progress"])
    printed = capsys.readouterr().out
    assert "task       m  p100 (mean)  p50 (mean)  above D(best)" in printed
    assert f"wrote {tmp_path / 'm_sweep.json'}" in printed
    assert sorted(p.name for p in (tmp_path / "cells" / "seq-l6-v5").iterdir()) == [
        "demo[m=0]",
        "demo[m=400]",
    ]
    rows = json.loads((tmp_path / "m_sweep.json").read_text())["summary"]
    assert [row["m"] for row in rows] == [0, 400]
