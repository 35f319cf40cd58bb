"""The side-by-side benchmark: every method on every task and seed, resumable.

    >>> from botorch_demo.benchmarks.harness import run_benchmark
    >>> result = run_benchmark(tasks=["tfbind8", "levy"], methods=["demo", "grad"],
    ...                        seeds=8, profile="fast", out="results/")
    >>> result.computed, result.skipped, result.files["markdown"]

Work is grouped by (task, seed): the methods of a group share their trained
components (:mod:`botorch_demo.benchmarks.group`), and groups are
independent, so ``workers > 1`` runs groups in parallel processes. Each finished
(task, method, seed) cell is stored at once (:mod:`botorch_demo.benchmarks.store`);
a rerun skips finished (and verified) cells and only builds the components that
the missing cells need. ``executor=`` runs the groups on Ray, SLURM (submitit)
or any ``concurrent.futures``-like executor
(:mod:`botorch_demo.benchmarks.executors`); the store is then the shared state
of the run.

Each cell's key is built once, in the scan of the store, and each stored cell
is verified (hashed) once: the scan keeps the records of the finished cells, the
workers return the records they write, and only cells that another worker may
have finished meanwhile are looked at again.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from botorch_demo.benchmarks import plots, report
from botorch_demo.benchmarks.environment import environment, utc_now
from botorch_demo.benchmarks.executors import ExecutorLike, run_on_executor
from botorch_demo.benchmarks.group import GroupJob, Record, run_group, run_group_remote
from botorch_demo.benchmarks.methods import Method, resolve_methods
from botorch_demo.benchmarks.profiles import BenchProfile, get_profile
from botorch_demo.benchmarks.runner import run_jobs
from botorch_demo.benchmarks.store import CellKey, CellStore
from botorch_demo.fileio import atomic_write_json, atomic_write_text
from botorch_demo.runtime import resolve_device
from botorch_demo.tasks.registry import get_spec, list_tasks
from botorch_demo.tasks.suite import suite_tasks

logger = logging.getLogger(__name__)

#: The files :func:`write_outputs` writes into the output folder, by key of
#: :attr:`BenchmarkResult.files`.
OUTPUT_FILES = {
    "json": "results.json",
    "csv": "results.csv",
    "markdown": "results.md",
    "reliability": "reliability.png",
    "distributions": "score_distributions.png",
}


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` did and wrote.

    Attributes:
        out: Output folder.
        computed: Cells computed by this call.
        skipped: Cells found finished and not recomputed.
        corrupt: Cells found stored but failing their integrity check (then
            recomputed), with the reason.
        busy: Cells left to another worker holding their lock (not in the outputs).
        results: The content of ``results.json``.
        files: Paths of the written files (``json``, ``csv``, ``markdown``,
            ``reliability``, ``distributions``).
        not_run: ``"<method> on <task>: <reason>"`` for the pairs a method does
            not support (see ``Method.unsupported``); their cells are skipped.
    """

    out: Path
    computed: list[CellKey] = field(default_factory=list)
    skipped: list[CellKey] = field(default_factory=list)
    corrupt: list[tuple[CellKey, str]] = field(default_factory=list)
    busy: list[CellKey] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    not_run: list[str] = field(default_factory=list)


@dataclass
class CellRun:
    """The cells of one run: what was asked, and the verified finished records.

    Attributes:
        tasks: Task names.
        methods: The methods (and variants), in output order.
        seeds: Seeds.
        profile: The benchmark profile.
        store: The output folder's store.
        result: What was computed, skipped, found corrupt or busy.
        records: Every finished cell's record, in task, method, seed order.
    """

    tasks: list[str]
    methods: list[Method]
    seeds: list[int]
    profile: BenchProfile
    store: CellStore
    result: BenchmarkResult
    records: dict[CellKey, Record]


# ---------------------------------------------------------------- validation
def resolve_tasks(tasks: Iterable[str] | str) -> list[str]:
    """Validate task names; return their short names (no repeats, in order).

    Raises:
        ValueError: For an unknown name (the message lists the known ones), or
            a task whose oracle is not available here.
    """
    if isinstance(tasks, str):
        tasks = tasks.split(",")
    names: list[str] = []
    for name in tasks:
        if not name.strip():
            continue
        spec = get_spec(name)
        if spec.oracle_kind == "unavailable":
            raise ValueError(
                f"Task {spec.name!r} has no oracle in this package, so it cannot be "
                "benchmarked; tasks with an oracle: "
                + ", ".join(n for n in list_tasks() if get_spec(n).oracle_kind != "unavailable")
                + "."
            )
        if spec.name not in names:
            names.append(spec.name)
    if not names:
        raise ValueError("No tasks given.")
    return names


def resolve_seeds(seeds: int | Iterable[int]) -> list[int]:
    """``n`` -> ``[0, ..., n-1]``; a list of ints is validated and kept."""
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}.")
        return list(range(seeds))
    out = []
    for s in seeds:
        if not isinstance(s, int) or isinstance(s, bool) or s < 0:
            raise ValueError(f"Seeds must be non-negative ints, got {s!r}.")
        if s not in out:
            out.append(s)
    if not out:
        raise ValueError("No seeds given.")
    return out


# ---------------------------------------------------------------- the run
def run_benchmark(
    tasks: Sequence[str] | str = ("tfbind8", "levy"),
    methods: Sequence[str] | str | None = None,
    seeds: int | Sequence[int] = 8,
    profile: str | BenchProfile = "fast",
    out: str | Path = "results",
    workers: int = 1,
    device: str = "cpu",
    data_dir: str | Path | None = None,
    progress: bool = True,
    overwrite: bool = False,
    executor: ExecutorLike | None = None,
    threads_per_cell: int | None = None,
    suite: str | None = None,
) -> BenchmarkResult:
    """Run (or resume) the benchmark and write results.json/csv/md and plots.

    Args:
        tasks: Task names (e.g. ``["tfbind8", "levy"]``).
        methods: Method names or a comma-separated string; ``None`` for all
            (see :func:`botorch_demo.benchmarks.methods.list_methods`). A name
            may be a variant, ``demo[m=200,guidance_weight=3]``: the method run
            with those ``DEMOConfig`` fields of the profile replaced.
        seeds: Number of seeds (``0..n-1``) or explicit seeds.
        profile: ``"fast"``, ``"paper"``, ``"smoke"`` or a :class:`BenchProfile`.
        out: Output folder; finished cells in it are skipped.
        workers: Parallel processes over (task, seed) groups.
        device: Torch device of the model-based methods (``"cuda"`` for
            ``paper``); BO-qEI runs on the CPU.
        data_dir: Folder with design-bench data (else ``BOTORCH_DEMO_DATA``).
        progress: Show a progress bar over cells with the current phase.
        overwrite: Recompute cells stored with another profile in ``out``.
        executor: Runs the (task, seed) groups: any object with
            ``submit(fn, *args)`` returning a future-like object
            (``concurrent.futures``, ``submitit.AutoExecutor``,
            :class:`~botorch_demo.benchmarks.executors.RayExecutor`). ``None``:
            the built-in local runner (``workers`` processes).
        threads_per_cell: Torch threads of each group run by ``executor``
            (``None``: the worker's default; SLURM's ``SLURM_CPUS_PER_TASK`` wins).
        suite: A suite name (``"robustness"``, ``"paper"``; see
            :func:`botorch_demo.tasks.suite_tasks`); its tasks replace ``tasks``.

    Returns:
        A :class:`BenchmarkResult`.

    Raises:
        ValueError: On unknown tasks, methods or profiles (listing the known
            ones), bad variants, seeds or workers, or an ``out`` folder written
            with another profile (unless ``overwrite``).
    """
    options = RunOptions(workers, device, data_dir, progress, overwrite, executor, threads_per_cell)
    run = run_cells(
        suite_tasks(suite) if suite is not None else tasks, methods, seeds, profile, out, options
    )
    run.result.results, run.result.files = write_outputs(
        run.store, run.records, run.tasks, run.methods, run.profile, device, workers
    )
    return run.result


@dataclass(frozen=True)
class RunOptions:
    """How the cells of a run are computed, as opposed to which cells.

    The fields are the arguments of :func:`run_benchmark` of the same names.
    """

    workers: int = 1
    device: str = "cpu"
    data_dir: str | Path | None = None
    progress: bool = True
    overwrite: bool = False
    executor: ExecutorLike | None = None
    threads_per_cell: int | None = None

    @property
    def executor_name(self) -> str:
        """``"local"`` for the built-in runner, else the executor's class name."""
        return "local" if self.executor is None else type(self.executor).__name__


def run_cells(
    tasks: Sequence[str] | str,
    methods: Sequence[str] | str | None,
    seeds: int | Sequence[int],
    profile: str | BenchProfile,
    out: str | Path,
    options: RunOptions = RunOptions(),
    desc: str = "bench",
) -> CellRun:
    """Compute (or find) every cell of a run; write no summary files.

    The arguments are those of :func:`run_benchmark`; ``desc`` names the
    progress bar. :func:`run_benchmark` and
    :func:`~botorch_demo.benchmarks.sweep.run_m_sweep` write their outputs
    from the returned records.

    Returns:
        A :class:`CellRun`.
    """
    prof = get_profile(profile)
    task_names, method_list, seed_list = _resolve(tasks, methods, seeds, prof, options)
    store = CellStore(Path(out).expanduser())
    fingerprint = prof.fingerprint()
    store.check_fingerprint(fingerprint, prof.name, options.overwrite)
    result = BenchmarkResult(out=store.root)
    skip = {
        (t, m.name): reason
        for t in task_names
        for m in method_list
        if m.unsupported is not None and (reason := m.unsupported(t)) is not None
    }
    result.not_run = [f"{m} on {t}: {reason}" for (t, m), reason in skip.items()]
    keys = [
        CellKey(t, m.name, s)
        for t in task_names
        for m in method_list
        for s in seed_list
        if (t, m.name) not in skip
    ]
    found = _scan(store, keys, fingerprint, result)
    groups: dict[tuple[str, int], list[CellKey]] = {}
    for key in keys:
        if key not in found:
            groups.setdefault((key.task, key.seed), []).append(key)
    data = None if options.data_dir is None else str(Path(options.data_dir).expanduser())
    jobs = [
        GroupJob(
            tuple(cells),
            prof,
            str(store.root),
            options.device,
            data,
            options.threads_per_cell,
            options.executor_name,
        )
        for cells in groups.values()
    ]
    computed = _execute(jobs, store, options, desc, len(keys))
    result.computed.extend(computed)
    records = _collect(store, keys, found | computed, fingerprint, result)
    return CellRun(task_names, method_list, seed_list, prof, store, result, records)


def _resolve(
    tasks: Sequence[str] | str,
    methods: Sequence[str] | str | None,
    seeds: int | Sequence[int],
    profile: BenchProfile,
    options: RunOptions,
) -> tuple[list[str], list[Method], list[int]]:
    """Validate the arguments of a run before anything is written."""
    task_names = resolve_tasks(tasks)
    method_list = resolve_methods(methods, profile.demo)
    seed_list = resolve_seeds(seeds)
    workers = options.workers
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}.")
    resolve_device(options.device, here=False)
    return task_names, method_list, seed_list


def _scan(
    store: CellStore, keys: Sequence[CellKey], fingerprint: str, result: BenchmarkResult
) -> dict[CellKey, Record]:
    """Verify the stored cells once; return the finished ones' records.

    Finished cells go to ``result.skipped``, corrupt ones (recomputed) to
    ``result.corrupt`` with a warning.
    """
    found: dict[CellKey, Record] = {}
    for key in keys:
        status = store.status(key, fingerprint)
        if status.done:
            found[key] = status.record
            result.skipped.append(key)
        elif status.state == "corrupt":
            message = f"Benchmark cell {key} in {store.root} is {status}; recomputing it."
            logger.warning(message)
            warnings.warn(message, stacklevel=4)
            result.corrupt.append((key, status.reason))
    return found


def _execute(
    jobs: Sequence[GroupJob], store: CellStore, options: RunOptions, desc: str, total: int
) -> dict[CellKey, Record]:
    """Run the groups (locally or on the executor) under one progress bar over cells."""
    pending = sum(len(job.cells) for job in jobs)
    bar = tqdm(
        total=total,
        initial=total - pending,
        desc=desc,
        unit="cell",
        disable=not options.progress,
        dynamic_ncols=True,
    )
    with bar:
        if options.executor is not None:
            bar.set_postfix_str(f"{len(jobs)} groups on {options.executor_name}", refresh=False)
            return run_on_executor(
                jobs, run_group_remote, options.executor, store, on_cell=lambda key: bar.update(1)
            )
        computed: dict[CellKey, Record] = {}
        on_event = _bar_events(bar)
        for records in run_jobs(jobs, run_group, workers=options.workers, on_event=on_event):
            computed.update(records)
        return computed


def _bar_events(bar: Any) -> Callable[[str, str], None]:
    def on_event(kind: str, text: str) -> None:
        if kind == "phase":
            bar.set_postfix_str(text, refresh=False)
        elif kind == "done":
            bar.update(1)

    return on_event


def _collect(
    store: CellStore,
    keys: Sequence[CellKey],
    known: dict[CellKey, Record],
    fingerprint: str,
    result: BenchmarkResult,
) -> dict[CellKey, Record]:
    """The records of every finished cell, in ``keys`` order.

    ``known`` holds the records found by the scan and written by the workers;
    the other cells (held by another worker during the run) are looked at once
    more: finished ones are included, the rest go to ``result.busy`` with a
    warning.
    """
    records: dict[CellKey, Record] = {}
    for key in keys:
        record = known.get(key)
        if record is None:
            status = store.status(key, fingerprint)
            record = status.record if status.done else None
        if record is not None:
            records[key] = record
            continue
        result.busy.append(key)
        owner = store.lock_owner(key)
        message = (
            f"Benchmark cell {key} is not finished"
            + (f" (locked by {owner})" if owner is not None else "")
            + "; it is left out of the outputs. Rerun the same command to include it."
        )
        logger.warning(message)
        warnings.warn(message, stacklevel=4)
    return records


# ---------------------------------------------------------------- outputs
def write_outputs(
    store: CellStore,
    cells: Mapping[CellKey, dict[str, Any]],
    tasks: Sequence[str],
    methods: Sequence[Method],
    profile: BenchProfile,
    device: str,
    workers: int,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Aggregate finished cells and write results.json/csv/md and the plots.

    Args:
        store: The run's store (its folder receives the files).
        cells: The verified records of the finished cells, in table order.
        tasks: Task order.
        methods: The methods (and variants), in table order.
        profile: The benchmark profile.
        device: The ``device`` argument of the run.
        workers: The ``workers`` argument of the run.

    Returns:
        The results.json content and the written paths.
    """
    records = list(cells.values())
    summary = report.summarize(records)
    sharing = report.sharing_summary(records)
    names = [m.name for m in methods]
    labels = {m.name: m.label for m in methods}
    seeds = sorted({k.seed for k in cells})
    created = utc_now()
    settings = {
        m.name: {
            "label": m.label,
            "description": m.description,
            "components": list(m.components),
            "overrides": dict(m.overrides),
        }
        for m in methods
    }
    results: dict[str, Any] = {
        "created": created,
        "tasks": list(tasks),
        "methods": names,
        "seeds": seeds,
        "configuration": {
            "profile": profile.to_dict(),
            "fingerprint": profile.fingerprint(),
            "workers": workers,
            "method_settings": settings,
            "environment": environment(device),
        },
        "summary": summary,
        "mean_rank": {metric: report.mean_ranks(summary, metric) for metric in report.METRICS},
        "sharing": sharing,
        "cells": records,
    }
    files = {name: store.root / file for name, file in OUTPUT_FILES.items()}
    meta = {
        "profile": profile.name,
        "q": profile.q,
        "seeds": f"{len(seeds)} ({', '.join(map(str, seeds))})",
        "device": device,
        "created": created,
    }
    atomic_write_json(files["json"], results)
    atomic_write_text(files["csv"], report.csv_text(records))
    atomic_write_text(
        files["markdown"], report.markdown_text(summary, sharing, tasks, names, labels, meta)
    )
    grid = plots.Grid(tasks, names, labels)
    plots.plot_reliability(summary, grid, files["reliability"])
    d_best = {r["task"]: r["d_best"] for r in records}
    scores = report.normalized_scores(store, list(cells))
    plots.plot_distributions(scores, d_best, grid, files["distributions"])
    return results, files
