"""The ``botorch-demo`` command line.

``botorch-demo run`` (also ``python -m botorch_demo``) fits DEMO on an offline
task, generates K candidates, scores them with the task's exact oracle and
prints the paper's metrics. With no arguments it uses the embedded TF Bind 8
task and the ``fast`` preset, so it works on a fresh install with no data folder.

``botorch-demo bench`` runs the side-by-side benchmark (DEMO, its ablations and
the baselines; see ``docs/benchmarks_harness.md``), ``botorch-demo sweep-m``
the sensitivity of DEMO to the noise level m, and ``botorch-demo campaign``
closed-loop campaigns (an offline batch, then online rounds) of several Ax
generation strategies side by side (``docs/campaigns.md``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import torch

from botorch_demo.config import PRESETS, DEMOConfig
from botorch_demo.fileio import atomic_torch_save, atomic_write_json
from botorch_demo.model import DEMO
from botorch_demo.rows import n_distinct
from botorch_demo.runtime import idle_threads, resolve_device
from botorch_demo.validation import validate_q, validate_seed


class UsageError(Exception):
    """A bad command-line argument: :func:`main` prints one line and exits with 2."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line naming the argument.

    ``argparse`` prints the whole usage before its message; here the message
    alone is printed (``botorch-demo run: error: argument --q: invalid int
    value: 'x' (see botorch-demo run --help)``) and the exit status is 2.
    """

    def error(self, message: str) -> NoReturn:
        """Print ``message`` on one line with a pointer to ``--help`` and exit with 2."""
        message = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


#: Most torch threads ``--threads`` accepts.
MAX_THREADS = 1024
#: Most noise levels one ``sweep-m --m`` takes.
MAX_LEVELS = 10_000
#: The subcommands; any other first argument means ``run``.
COMMANDS = ("run", "bench", "sweep-m", "campaign")


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
    elif threads > MAX_THREADS:
        raise UsageError(f"--threads must be <= {MAX_THREADS}, got {threads}")
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
        # Through the atomic writer: a symlink planted at a name is replaced, never
        # written through, and a concurrent run never sees a half-written file.
        atomic_torch_save(
            args.out / "candidates.pt",
            {"candidates": candidates.cpu(), "predicted": predicted.cpu()},
        )
        model.save(args.out / "demo_model.pt")
        atomic_write_json(args.out / "summary.json", summary)
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
        help=(
            "fast (CPU default), default (DEMOConfig() with fast's search budgets), "
            "paper (the paper's settings, for a GPU) or smoke (tiny)"
        ),
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
    ex.add_argument(
        "--ray-address", default=None, help="Ray cluster (ray; default: a local instance)"
    )
    ex.add_argument(
        "--cpus-per-cell", type=int, default=None, help="CPUs (threads) per group (default 1)"
    )
    ex.add_argument("--gpus-per-cell", type=int, default=None, help="GPUs per group (default 0)")
    ex.add_argument("--slurm-partition", default=None, help="SLURM partition (submitit)")
    ex.add_argument(
        "--slurm-time", default=None, help="minutes, h:mm:ss or d-hh:mm:ss per job (default 60)"
    )
    ex.add_argument("--log-folder", default=None, help="submitit logs (default: OUT/submitit)")


#: The executor options and the executors they apply to; given with another
#: executor (``local`` included) they are refused rather than ignored.
EXECUTOR_OPTIONS = {
    "ray_address": ("ray",),
    "cpus_per_cell": ("ray", "submitit"),
    "gpus_per_cell": ("ray", "submitit"),
    "slurm_partition": ("submitit",),
    "slurm_time": ("submitit",),
    "log_folder": ("submitit",),
}


def _check_executor_options(args: argparse.Namespace) -> None:
    """Refuse executor options that do not apply to ``--executor``, and check the others.

    Raises:
        ValueError: Naming the option.
    """
    from botorch_demo.benchmarks.executors import parse_slurm_time

    for name, executors in EXECUTOR_OPTIONS.items():
        value = getattr(args, name, None)
        option = "--" + name.replace("_", "-")
        if value is not None and args.executor not in executors:
            raise ValueError(
                f"{option} applies to --executor {' or '.join(executors)} only, not "
                f"--executor {args.executor}."
            )
    if args.cpus_per_cell is not None and not 1 <= args.cpus_per_cell <= MAX_THREADS:
        raise ValueError(
            f"--cpus-per-cell must lie in [1, {MAX_THREADS}], got {args.cpus_per_cell}."
        )
    if args.gpus_per_cell is not None and not 0 <= args.gpus_per_cell <= 64:
        raise ValueError(f"--gpus-per-cell must lie in [0, 64], got {args.gpus_per_cell}.")
    if args.slurm_time is not None:
        parse_slurm_time(args.slurm_time)
    if args.ray_address is not None and not args.ray_address.strip():
        raise ValueError("--ray-address is empty.")
    if args.log_folder is not None:
        folder = Path(args.log_folder).expanduser()
        for parent in (folder, *folder.parents):
            if parent.exists():
                if not parent.is_dir():
                    raise ValueError(
                        f"--log-folder {args.log_folder!r} lies under a file ({parent})."
                    )
                break


def _validated(args: argparse.Namespace) -> tuple[list[str], list[str] | None]:
    """Check task, method and profile names before any work starts.

    Returns:
        The task names and the canonical method names (``None``: all methods).

    Raises:
        UsageError: With a message naming the bad argument (and listing the
            known names for tasks, methods, variant fields and profiles).
    """
    from botorch_demo.benchmarks.harness import MAX_SEEDS, resolve_seeds, resolve_tasks
    from botorch_demo.benchmarks.methods import resolve_methods
    from botorch_demo.benchmarks.profiles import get_profile
    from botorch_demo.tasks.suite import suite_tasks

    try:
        if args.suite is not None and args.task:
            raise ValueError("give --suite or --task, not both.")
        if args.suite is not None:
            tasks = resolve_tasks(suite_tasks(args.suite))
        elif args.task is not None:
            names = _split(args.task)
            if not names:
                raise ValueError(f"--task {','.join(args.task)!r} names no task.")
            tasks = resolve_tasks(names)
        else:
            tasks = resolve_tasks(["tfbind8", "levy"])
        profile = get_profile(args.profile)
        methods = getattr(args, "methods", None)
        if methods is not None:
            methods = [m.name for m in resolve_methods(methods, profile.demo)]
        if not 1 <= args.seeds <= MAX_SEEDS:
            raise ValueError(f"--seeds must lie in [1, {MAX_SEEDS}], got {args.seeds}.")
        resolve_seeds(args.seeds)
        if not 1 <= args.workers <= MAX_THREADS:
            raise ValueError(f"--workers must lie in [1, {MAX_THREADS}], got {args.workers}.")
        _check_executor_options(args)
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
            cpus_per_cell=1 if args.cpus_per_cell is None else args.cpus_per_cell,
            gpus_per_cell=0 if args.gpus_per_cell is None else args.gpus_per_cell,
            slurm_partition=args.slurm_partition,
            slurm_time="60" if args.slurm_time is None else args.slurm_time,
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
                threads_per_cell=None if executor is None else (args.cpus_per_cell or 1),
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
        else:
            ms = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(
            f"bad --m {text!r}; use start:stop:step (step >= 1) or a comma-separated list"
        ) from None
    if ":" in text:
        # Checked arithmetically: the list is built only for a range that fits.
        if start > stop:
            raise UsageError(f"--m {text!r} gives no noise levels (is start above stop?)")
        if start < 0 or stop > M:
            raise UsageError(
                f"--m: noise levels {start}..{stop} lie outside [0, M={M}] of the profile"
            )
        count = (stop - start) // step + 1
        if count > MAX_LEVELS:
            raise UsageError(f"--m {text!r} gives {count} noise levels; at most {MAX_LEVELS}")
        ms = list(range(start, stop + 1, step))
    elif len(ms) > MAX_LEVELS:
        raise UsageError(f"--m gives {len(ms)} noise levels; at most {MAX_LEVELS}")
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


def _add_campaign(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "campaign",
        help="closed-loop campaigns: an offline batch of k0, then rounds of batch designs "
        "scored by the oracle, per strategy; write results.csv/md/json and plots",
    )
    _add_common(p, "campaigns")
    from botorch_demo.benchmarks.campaign_registry import STRATEGIES

    p.add_argument(
        "--strategies",
        action="append",
        default=None,
        help=f"comma-separated strategy names (default: all): {', '.join(STRATEGIES)}",
    )
    p.add_argument("--k0", type=int, default=128, help="designs of round 0 (default 128)")
    p.add_argument("--rounds", type=int, default=4, help="online rounds after round 0 (default 4)")
    p.add_argument("--batch", type=int, default=16, help="designs per online round (default 16)")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="compute nothing: write the outputs from the finished cells in --out "
        "(the others are named in a warning and left out)",
    )
    p.set_defaults(func=campaign_command)


def _validated_campaign(args: argparse.Namespace) -> list[str] | None:
    """Check the campaign's own options (strategies, sizes) before any work.

    Returns:
        The strategy names (``None``: all).

    Raises:
        UsageError: Naming the option.
    """
    from botorch_demo.benchmarks.campaign import (
        STRATEGIES,
        check_campaign,
        resolve_strategies,
    )

    try:
        strategies = None
        if args.strategies is not None:
            names = _split(args.strategies)
            if not names:
                raise ValueError(f"--strategies {','.join(args.strategies)!r} names no strategy.")
            strategies = resolve_strategies(names)
        if args.device != "cpu":
            raise ValueError("--device: campaigns run on the CPU only (Ax's GP nodes do).")
        check_campaign(
            strategies or list(STRATEGIES), args.k0, args.rounds, args.batch, prefix="--"
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    return strategies


def campaign_command(args: argparse.Namespace) -> dict:
    """Run (or resume) closed-loop campaigns and print where the results are.

    Args:
        args: Parsed ``campaign`` arguments.

    Returns:
        The results.json content.
    """
    from botorch_demo.benchmarks.campaign import run_campaign

    strategies = _validated_campaign(args)

    def run(**kwargs: Any) -> Any:
        kwargs.pop("device", None)
        kwargs.pop("methods", None)
        return run_campaign(
            strategies=strategies,
            k0=args.k0,
            rounds=args.rounds,
            batch=args.batch,
            report_only=args.report_only,
            **kwargs,
        )

    result = _run_harness(args, run)
    print(
        f"{len(result.computed)} campaign cells computed, {len(result.skipped)} skipped "
        f"(already in {result.out})"
        + (f", {len(result.missing)} not finished and left out" if result.missing else "")
    )
    print(result.files["markdown"].read_text())
    print("wrote " + ", ".join(str(p) for p in result.files.values()))
    return result.results


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = OneLineParser(prog="botorch-demo", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    _add_run(sub)
    _add_bench(sub)
    _add_sweep(sub)
    _add_campaign(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``botorch-demo`` console script."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        # Options without a subcommand are ``run``'s (``botorch-demo --q 8``).
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except UsageError as err:
        parser.exit(2, f"botorch-demo {args.command}: error: {err}\n")


if __name__ == "__main__":
    main()
