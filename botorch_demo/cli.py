"""The ``botorch-demo`` command line.

``botorch-demo run`` (also ``python -m botorch_demo``) fits DEMO on an offline
task, generates K candidates, scores them with the task's exact oracle and
prints the paper's metrics. With no arguments it uses the embedded TF Bind 8
task and the ``fast`` preset, so it works on a fresh install with no data folder.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from botorch_demo.config import DEMOConfig
from botorch_demo.model import DEMO

PRESETS = {
    "fast": DEMOConfig.fast,
    "default": DEMOConfig,
    "paper": DEMOConfig.paper,
    "smoke": DEMOConfig.smoke,
}


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="fit DEMO on a task, generate K candidates and score them")
    p.add_argument("--task", default="tfbind8", help="tfbind8 (embedded), tfbind10 or levy")
    p.add_argument("--data-dir", default=None, help="a design_bench_data folder (optional)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="fast")
    p.add_argument("--q", type=int, default=256, help="number of candidates K")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--out", type=Path, default=None, help="folder for candidates and model")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> dict:
    """Fit, generate, score and report one DEMO run.

    Args:
        args: Parsed ``run`` arguments.

    Returns:
        The printed summary as a dict.
    """
    from botorch_demo.benchmarks import load_task, score_candidates

    task = load_task(args.task, data_dir=args.data_dir)
    config = PRESETS[args.preset]()
    device = torch.device(args.device)
    X, Y, bounds = (t.to(device) for t in (task.train_X, task.train_Y, task.bounds))
    print(
        f"DEMO on {task.name}: {X.shape[0]} offline designs x {X.shape[1]}, "
        f"preset '{args.preset}', K = {args.q}, seed {args.seed}, device {device}"
    )
    tic = time.perf_counter()
    model = DEMO(config).fit(X, Y, bounds, task.categorical_features or None, seed=args.seed)
    candidates, predicted = model.generate(args.q, seed=args.seed)
    seconds = time.perf_counter() - tic
    scores = score_candidates(task, candidates.cpu(), budget=None)
    summary = {
        "task": task.name,
        "preset": args.preset,
        "q": args.q,
        "seed": args.seed,
        "d_best": round(task.d_best, 4),
        "p100": round(float(scores.p100), 4),
        "p50": round(float(scores.p50), 4),
        "proportion_above_d_best": round(float(scores.proportion_above_best), 4),
        "seconds": round(seconds, 1),
        "phase_seconds": {k: round(v, 1) for k, v in model.fit_seconds.items()},
    }
    print(
        f"normalised score: 100th percentile {summary['p100']:.3f}, "
        f"50th {summary['p50']:.3f} (D(best) = {summary['d_best']:.3f}); "
        f"{100 * summary['proportion_above_d_best']:.0f}% of candidates beat D(best)"
    )
    print(f"wall time {seconds:.1f} s; phases: {summary['phase_seconds']}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        torch.save(
            {"candidates": candidates.cpu(), "predicted": predicted.cpu()},
            args.out / "candidates.pt",
        )
        model.save(args.out / "demo_model.pt")
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"wrote {args.out}/candidates.pt, demo_model.pt and summary.json")
    return summary


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = argparse.ArgumentParser(prog="botorch-demo", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    _add_run(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``botorch-demo`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    args.func(args)
