"""The ``botorch-demo`` command line.

``botorch-demo run`` (also ``python -m botorch_demo``) fits DEMO on an offline
task, generates K candidates, scores them with the task's exact oracle and
prints the paper's metrics. With no arguments it uses the embedded TF Bind 8
task and the ``fast`` preset, so it works on a fresh install with no data folder.

``botorch-demo bench`` runs the side-by-side benchmark (DEMO, its ablations and
the baselines; see ``docs/benchmarks_harness.md``), and ``botorch-demo sweep-m``
the sensitivity of DEMO to the noise level m.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from botorch_demo.config import PRESETS, DEMOConfig
from botorch_demo.model import DEMO
from botorch_demo.rows import n_distinct
from botorch_demo.runtime import idle_threads, resolve_device
from botorch_demo.validation import validate_q, validate_seed


class UsageError(Exception):
    """A bad command-line argument: :func:`main` prints one line and exits with 2."""


def validate_device(name: str, here: bool = True) -> torch.device:
    """Check ``--device`` (see :func:`botorch_demo.runtime.resolve_device`).

    Args:
        name: The ``--device`` value.
        here: Also check that the device exists on this machine. ``False`` for
            runs whose cells execute elsewhere (Ray, SLURM): only the name is checked.

    Raises:
        UsageError: For an unknown device string or an absent device.
    """
    try:
        return resolve_device(name, here=here, what="--device")
    except ValueError as err:
        raise UsageError(str(err)) from None


def validate_out_dir(out: Path) -> Path:
    """Create ``--out`` if needed and check that files can be written there.

    Raises:
        UsageError: If ``out`` is an existing file, cannot be created, or is not
            writable.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is an existing file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise UsageError(f"--out {str(out)!r} is not writable ({err.strerror or err})") from None
    return out


def _apply_threads(threads: int | None) -> None:
    if threads is None:
        threads = idle_threads()
    elif threads < 1:
        raise UsageError(f"--threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="fit DEMO on a task, generate K candidates and score them")
    p.add_argument("--task", default="tfbind8", help="tfbind8 (embedded), tfbind10 or levy")
    p.add_argument("--data-dir", default=None, help="a design_bench_data folder (optional)")
    p.add_argument("--preset", choices=sorted(PRESETS), default="fast")
    p.add_argument("--q", type=int, default=256, help="number of candidates K")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    p.add_argument("--out", type=Path, default=None, help="folder for candidates and model")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: the cores this process may use minus the load "
        "average of other processes, at least 1)",
    )
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> dict:
    """Fit, generate, score and report one DEMO run.

    Args:
        args: Parsed ``run`` arguments.

    Returns:
        The printed summary as a dict.

    Raises:
        UsageError: For any bad argument; every check (task and its data, q,
            seed, device, output folder) runs before training starts.
    """
    from botorch_demo.tasks import load_task, score_candidates
    from botorch_demo.tasks.registry import get_spec

    try:
        get_spec(args.task)
        seed = validate_seed(args.seed, "--seed")
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None
    device = validate_device(args.device)
    _apply_threads(getattr(args, "threads", None))
    try:
        task = load_task(args.task, data_dir=args.data_dir)
    except (FileNotFoundError, ValueError) as err:
        raise UsageError(str(err)) from None
    try:
        validate_q(args.q, n_distinct(task.train_X))
    except ValueError as err:
        raise UsageError(f"--q: {err}") from None
    if args.out is not None:
        validate_out_dir(args.out)
    config = DEMOConfig.preset(args.preset)
    X, Y, bounds = (t.to(device) for t in (task.train_X, task.train_Y, task.bounds))
    print(
        f"DEMO on {task.name}: {X.shape[0]} offline designs x {X.shape[1]}, "
        f"preset '{args.preset}', K = {args.q}, seed {args.seed}, device {device}"
    )
    tic = time.perf_counter()
    model = DEMO(config).fit(X, Y, bounds, task.categorical_features or None, seed=seed)
    candidates, predicted = model.generate(args.q, seed=seed)
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
        torch.save(
            {"candidates": candidates.cpu(), "predicted": predicted.cpu()},
            args.out / "candidates.pt",
        )
        model.save(args.out / "demo_model.pt")
        (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"wrote {args.out}/candidates.pt, demo_model.pt and summary.json")
    return summary


def _split(values: list[str] | None) -> list[str] | None:
    """Flatten repeated and comma-separated option values."""
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _add_common(p: argparse.ArgumentParser, out_default: str) -> None:
    """The options of ``bench`` and ``sweep-m``: tasks, seeds, profile, output, executor."""
    p.add_argument(
        "--task",
        action="append",
        default=None,
        help="task name (repeat, or comma-separate); default: tfbind8 and levy",
    )
    p.add_argument(
        "--suite",
        default=None,
        help="a named task list instead of --task: robustness (the generated suite, "
        "docs/tasks.md) or paper (tfbind8, tfbind10, levy)",
    )
    p.add_argument("--seeds", type=int, default=8, help="number of seeds, 0..N-1 (default 8)")
    p.add_argument(
        "--profile",
        default="fast",
        help="fast (CPU default), paper (the paper's settings, for a GPU) or smoke (tiny)",
    )
    p.add_argument("--out", type=Path, default=Path(out_default), help="output folder")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="parallel processes over (task, seed) groups, each with cores // N torch threads",
    )
    p.add_argument("--device", default="cpu", help="torch device of the DEMO fits, e.g. cuda")
    p.add_argument("--data-dir", default=None, help="a design_bench_data folder (optional)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="recompute cells stored in --out with another profile",
    )
    # Executors (botorch_demo.benchmarks.executors; docs/benchmarks_harness.md).
    ex = p.add_argument_group("executor (where the (task, seed) groups run)")
    ex.add_argument(
        "--executor",
        choices=("local", "ray", "submitit"),
        default="local",
        help="local processes (--workers), Ray tasks or submitit/SLURM jobs",
    )
    ex.add_argument("--ray-address", default=None, help="Ray cluster (default: a local instance)")
    ex.add_argument("--cpus-per-cell", type=int, default=1, help="CPUs (threads) per group")
    ex.add_argument("--gpus-per-cell", type=int, default=0, help="GPUs per group")
    ex.add_argument("--slurm-partition", default=None, help="SLURM partition (submitit)")
    ex.add_argument("--slurm-time", default="60", help="minutes, h:mm:ss or d-hh:mm:ss per job")
    ex.add_argument("--log-folder", default=None, help="submitit logs (default: OUT/submitit)")


def _validated(args: argparse.Namespace) -> tuple[list[str], list[str] | None]:
    """Check task, method and profile names before any work starts.

    Returns:
        The task names and the canonical method names (``None``: all methods).

    Raises:
        UsageError: With a message naming the bad argument (and listing the
            known names for tasks, methods, variant fields and profiles).
    """
    from botorch_demo.benchmarks.harness import resolve_seeds, resolve_tasks
    from botorch_demo.benchmarks.methods import resolve_methods
    from botorch_demo.benchmarks.profiles import get_profile
    from botorch_demo.tasks.suite import suite_tasks

    try:
        if args.suite is not None and args.task:
            raise ValueError("give --suite or --task, not both.")
        if args.suite is not None:
            tasks = resolve_tasks(suite_tasks(args.suite))
        else:
            tasks = resolve_tasks(_split(args.task) or ["tfbind8", "levy"])
        profile = get_profile(args.profile)
        methods = getattr(args, "methods", None)
        if methods is not None:
            methods = [m.name for m in resolve_methods(methods, profile.demo)]
        resolve_seeds(args.seeds)
        if args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}.")
    except ValueError as err:
        raise UsageError(str(err)) from None
    # ``auto`` is resolved by each worker; on Ray or SLURM the device is the worker's.
    if args.device != "auto":
        validate_device(args.device, here=args.executor == "local")
    if args.data_dir is not None and not Path(args.data_dir).expanduser().is_dir():
        raise UsageError(f"--data-dir {args.data_dir!r} is not a folder")
    if hasattr(args, "m"):
        args.ms = _parse_ms(args.m, profile.demo.M)
    validate_out_dir(args.out)  # Last: it creates the folder.
    return tasks, methods


def _run_harness(args: argparse.Namespace, run: Callable[..., Any]) -> Any:
    """Validate the arguments, make the executor and call ``run`` with the common options.

    Args:
        args: Parsed ``bench`` or ``sweep-m`` arguments.
        run: :func:`~botorch_demo.benchmarks.harness.run_benchmark` or
            :func:`~botorch_demo.benchmarks.sweep.run_m_sweep` with its
            command's own arguments bound.

    Returns:
        What ``run`` returns.

    Raises:
        UsageError: For a bad argument (checked before any work starts).
        SystemExit: When a cell fails, with the message naming it.
    """
    from botorch_demo.benchmarks.executors import CellFailed, make_executor
    from botorch_demo.benchmarks.store import OutputFolderConflict

    tasks, methods = _validated(args)
    try:
        with make_executor(
            args.executor,
            out=args.out,
            ray_address=args.ray_address,
            cpus_per_cell=args.cpus_per_cell,
            gpus_per_cell=args.gpus_per_cell,
            slurm_partition=args.slurm_partition,
            slurm_time=args.slurm_time,
            log_folder=args.log_folder,
        ) as executor:
            return run(
                tasks=tasks,
                seeds=args.seeds,
                profile=args.profile,
                out=args.out,
                workers=args.workers,
                device=args.device,
                data_dir=args.data_dir,
                progress=not args.no_progress,
                overwrite=args.overwrite,
                executor=executor,
                threads_per_cell=None if executor is None else args.cpus_per_cell,
                **({} if methods is None else {"methods": methods}),
            )
    except (OutputFolderConflict, ImportError, ValueError) as err:
        raise UsageError(str(err)) from None
    except CellFailed as err:
        raise SystemExit(f"botorch-demo {args.command}: error: {err}") from None


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="run every method on every task and seed; write results.json/csv/md and plots",
    )
    _add_common(p, "results")
    p.add_argument(
        "--methods",
        action="append",
        default=None,
        help="comma-separated method names (default: all): "
        "demo, demo-no-pseudo-target, demo-no-editing, ddom, grad, cma-es, bo-qei; "
        "a variant such as demo[ascent_optimizer=sgd,m=200] runs a method with "
        "DEMOConfig fields of the profile replaced",
    )
    p.set_defaults(func=bench_command)


def bench_command(args: argparse.Namespace) -> dict:
    """Run (or resume) the benchmark and print where the results are.

    Args:
        args: Parsed ``bench`` arguments.

    Returns:
        The results.json content.
    """
    from botorch_demo.benchmarks.harness import run_benchmark

    result = _run_harness(args, run_benchmark)
    print(
        f"{len(result.computed)} cells computed, {len(result.skipped)} skipped (already "
        f"in {result.out})"
    )
    for line in result.not_run:
        print(f"not run: {line}")
    print(result.files["markdown"].read_text())
    print("wrote " + ", ".join(str(p) for p in result.files.values()))
    return result.results


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep-m",
        help="DEMO's sensitivity to the noise level m (one trained model per task and seed)",
    )
    _add_common(p, "sweep-m")
    p.add_argument(
        "--m",
        default="0:1000:100",
        help="noise levels: start:stop:step (inclusive) or a comma-separated list "
        "(default 0:1000:100)",
    )
    p.set_defaults(func=sweep_command)


def _parse_ms(text: str, M: int) -> list[int]:
    """Parse ``--m`` (``start:stop:step`` inclusive, or a list) and check ``0 <= m <= M``.

    Raises:
        UsageError: For bad syntax, an empty range or a level outside ``[0, M]``.
    """
    try:
        if ":" in text:
            start, stop, step = (int(v) for v in text.split(":"))
            if step < 1:
                raise ValueError
            ms = list(range(start, stop + 1, step))
        else:
            ms = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(
            f"bad --m {text!r}; use start:stop:step (step >= 1) or a comma-separated list"
        ) from None
    if not ms:
        raise UsageError(f"--m {text!r} gives no noise levels (is start above stop?)")
    outside = [m for m in ms if not 0 <= m <= M]
    if outside:
        raise UsageError(f"--m: noise levels {outside} lie outside [0, M={M}] of the profile")
    return ms


def sweep_command(args: argparse.Namespace) -> dict:
    """Run (or resume) the m-sweep as harness cells and print a table of the results.

    Args:
        args: Parsed ``sweep-m`` arguments.

    Returns:
        The m_sweep.json content.
    """
    from botorch_demo.benchmarks.sweep import run_m_sweep

    result = _run_harness(args, lambda **kw: run_m_sweep(ms=args.ms, **kw))
    print("task       m  p100 (mean)  p50 (mean)  above D(best)")
    for row in result.results["summary"]:
        print(
            f"{row['task']:<9}{row['m']:>4}  {row['p100_mean']:>10.3f}  {row['p50_mean']:>10.3f}"
            f"  {row['proportion_above_d_best_mean']:>12.3f}"
        )
    print("wrote " + ", ".join(str(p) for p in result.files.values()))
    return result.results


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = argparse.ArgumentParser(prog="botorch-demo", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    _add_run(sub)
    _add_bench(sub)
    _add_sweep(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``botorch-demo`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    try:
        args.func(args)
    except UsageError as err:
        parser.exit(2, f"botorch-demo {args.command}: error: {err}\n")
