"""The side-by-side benchmark: every method on every task and seed, resumable.

    >>> from botorch_demo.benchmarks.harness import run_benchmark
    >>> result = run_benchmark(tasks=["tfbind8", "levy"], methods=["demo", "grad"],
    ...                        seeds=8, profile="fast", out="results/")
    >>> result.computed, result.skipped, result.files["markdown"]

Work is grouped by (task, seed): the methods of a group share their trained
components (:mod:`botorch_demo.benchmarks.components`), and groups are
independent, so ``workers > 1`` runs groups in parallel processes. Each finished
(task, method, seed) cell is stored at once (:mod:`botorch_demo.benchmarks.store`);
a rerun skips finished (and verified) cells and only builds the components that
the missing cells need. ``executor=`` runs the groups on Ray, SLURM (submitit)
or any ``concurrent.futures``-like executor
(:mod:`botorch_demo.benchmarks.executors`); the store is then the shared state
of the run.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from botorch_demo.benchmarks.components import SharedModels
from botorch_demo.benchmarks.environment import environment, utc_now
from botorch_demo.benchmarks.executors import (
    CellFailed,
    ExecutorLike,
    run_on_executor,
    worker_identity,
)
from botorch_demo.benchmarks.methods import (
    MethodContext,
    resolve_methods,
)
from botorch_demo.benchmarks.profiles import BenchProfile, get_profile
from botorch_demo.benchmarks.runner import Report, run_jobs
from botorch_demo.benchmarks.store import CellKey, CellStore, atomic_write_json, atomic_write_text
from botorch_demo.rows import n_distinct
from botorch_demo.runtime import allocated_threads, resolve_device, set_threads
from botorch_demo.tasks.loaders import load_task
from botorch_demo.tasks.protocol import batch_metrics, score_candidates
from botorch_demo.tasks.registry import get_spec, list_tasks
from botorch_demo.tasks.suite import suite_tasks
from botorch_demo.tasks.task import OfflineTask


@dataclass(frozen=True)
class GroupJob:
    """The pending cells of one (task, seed) group.

    Attributes:
        task: Task name.
        seed: Seed.
        methods: Names of the methods still to run, in registry order.
        profile: The benchmark profile.
        out: Output folder.
        device: Torch device name (``"auto"``: ``cuda`` when a GPU is visible).
        data_dir: Optional data folder for :func:`load_task`.
        threads: Torch threads of a remote worker (``None``: leave as is).
        executor: Name of the executor, stored in the cells' records.
    """

    task: str
    seed: int
    methods: tuple[str, ...]
    profile: BenchProfile
    out: str
    device: str = "cpu"
    data_dir: str | None = None
    threads: int | None = None
    executor: str = "local"


logger = logging.getLogger(__name__)


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


# ---------------------------------------------------------------- one group
@cache
def cached_task(name: str, data_dir: str | None) -> OfflineTask:
    """:func:`load_task`, loaded once per process."""
    return load_task(name, data_dir=data_dir)


def run_group(job: GroupJob, report: Report) -> list[CellKey]:
    """Run the pending methods of one (task, seed) group and store each cell.

    Each cell is claimed (a lock file in the store) before it is computed and
    checked again once claimed: a cell finished or held by another worker is
    left alone, so two workers never write the same cell.

    Args:
        job: The group.
        report: Progress events: ``("phase", text)`` and ``("done", cell)``.

    Returns:
        The cells computed.

    Raises:
        CellFailed: Naming the cell, the host and the original error.
    """
    profile = job.profile
    task = cached_task(job.task, job.data_dir)
    device = resolve_device(job.device, here=False)
    store = CellStore(job.out)
    fingerprint = profile.fingerprint()
    methods = [
        m
        for m in resolve_methods(job.methods)
        if not store.is_done(CellKey(job.task, m.name, job.seed), fingerprint)
    ]
    current = {"method": ""}

    def on_phase(text: str) -> None:
        report("phase", f"{job.task} seed {job.seed} {current['method']}: {text}")

    needed = {c for m in methods for c in m.components}
    shared = SharedModels(task, job.seed, profile.demo, device, needed, on_phase)
    shared_by = {c: sum(c in m.components for m in methods) for c in needed}
    done = []
    for method in methods:
        key = CellKey(job.task, method.name, job.seed)
        try:
            lock = store.claim(key, {"executor": job.executor})
        except OSError as err:
            raise CellFailed(
                f"Benchmark cell {key}: cannot create its lock file {store.lock_path(key)}: {err}"
            ) from err
        if lock is None:
            continue  # another worker computes it
        try:
            if store.is_done(key, fingerprint):
                continue  # finished by another worker since the scan
            current["method"] = method.name
            on_phase("starting")
            _run_cell(job, method, key, task, shared, shared_by, device, store, on_phase)
        except Exception as err:
            who = worker_identity()
            raise CellFailed(
                f"Benchmark cell {key} failed on {who['host']} (pid {who['pid']}, "
                f"executor {job.executor}): {type(err).__name__}: {err}"
            ) from err
        finally:
            lock.release()
        report("done", str(key))
        done.append(key)
    return done


def run_group_remote(job: GroupJob) -> list[CellKey]:
    """The function every executor runs: one (task, seed) group, no progress events.

    Sets the torch threads to the job's CPU allocation, then calls
    :func:`run_group`.

    Returns:
        The cells computed by this call.
    """
    threads = allocated_threads(job.threads)
    if threads:
        set_threads(threads)
    return run_group(job, lambda kind, text: None)


def _run_cell(
    job: GroupJob,
    method: Any,
    key: CellKey,
    task: OfflineTask,
    shared: SharedModels,
    shared_by: dict[str, int],
    device: torch.device,
    store: CellStore,
    on_phase: Any,
) -> None:
    """Run one method of a group, score its candidates and store the cell."""
    profile = job.profile
    built_before = sum(shared.seconds.values())
    tic = time.perf_counter()
    ctx = MethodContext(task, job.seed, profile, shared, device, on_phase)
    output = method.run(ctx)
    elapsed = time.perf_counter() - tic
    own = max(0.0, elapsed - (sum(shared.seconds.values()) - built_before))
    on_phase("scoring with the oracle")
    X = output.candidates.detach().to("cpu", torch.float64)
    scores = score_candidates(task, X, budget=profile.q)
    record = {
        "task": job.task,
        "method": method.name,
        "label": method.label,
        "seed": job.seed,
        "profile": profile.name,
        "fingerprint": profile.fingerprint(),
        "q": profile.q,
        "p100": float(scores.p100),
        "p50": float(scores.p50),
        "proportion_above_d_best": float(scores.proportion_above_best),
        **batch_metrics(task, X, scores.y_normalized),
        "d_best": float(task.d_best),
        "n_distinct": n_distinct(X),
        "own_seconds": own,
        "components": {c: float(shared.seconds[c]) for c in method.components},
        "shared_by": {c: shared_by[c] for c in method.components},
        "device": str(device),
        "host": worker_identity()["host"],
        "executor": job.executor,
        "torch_threads": torch.get_num_threads(),
        "finished_at": utc_now(),
        "info": output.info,
    }
    tensors = {
        "candidates": X,
        "y": scores.y,
        "y_normalized": scores.y_normalized,
        "predicted": None
        if output.predicted is None
        else output.predicted.detach().to("cpu", torch.float64),
    }
    store.save(key, record, tensors)


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
            (see :func:`botorch_demo.benchmarks.methods.list_methods`).
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
            ones), bad seeds or workers, or an ``out`` folder written with
            another profile (unless ``overwrite``).
    """
    task_names = resolve_tasks(suite_tasks(suite) if suite is not None else tasks)
    method_list = resolve_methods(methods)
    seed_list = resolve_seeds(seeds)
    prof = get_profile(profile)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}.")
    resolve_device(device, here=False)
    out_path = Path(out).expanduser()
    store = CellStore(out_path)
    fingerprint = prof.fingerprint()
    store.check_fingerprint(fingerprint, prof.name, overwrite)
    data = None if data_dir is None else str(Path(data_dir).expanduser())

    executor_name = "local" if executor is None else type(executor).__name__
    result = BenchmarkResult(out=out_path)
    skip = {
        (t, m.name): reason
        for t in task_names
        for m in method_list
        if m.unsupported is not None and (reason := m.unsupported(t)) is not None
    }
    result.not_run = [f"{m} on {t}: {reason}" for (t, m), reason in skip.items()]
    jobs = []
    for task in task_names:
        for seed in seed_list:
            pending = []
            for m in method_list:
                if (task, m.name) in skip:
                    continue
                key = CellKey(task, m.name, seed)
                status = store.status(key, fingerprint)
                if status == "done":
                    result.skipped.append(key)
                    continue
                if status.startswith("corrupt"):
                    _warn_corrupt(key, status, store)
                    result.corrupt.append((key, status.removeprefix("corrupt: ")))
                pending.append(m.name)
            if pending:
                jobs.append(
                    GroupJob(
                        task,
                        seed,
                        tuple(pending),
                        prof,
                        str(out_path),
                        device,
                        data,
                        threads_per_cell,
                        executor_name,
                    )
                )
    total = (len(task_names) * len(method_list) - len(skip)) * len(seed_list)
    with tqdm(
        total=total,
        initial=len(result.skipped),
        desc="bench",
        unit="cell",
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:

        def on_event(kind: str, text: str) -> None:
            if kind == "phase":
                bar.set_postfix_str(text, refresh=False)
            elif kind == "done":
                bar.update(1)

        if executor is None:
            for keys in run_jobs(jobs, run_group, workers=workers, on_event=on_event):
                result.computed.extend(keys)
        else:
            bar.set_postfix_str(f"{len(jobs)} groups on {executor_name}", refresh=False)
            result.computed.extend(
                run_on_executor(
                    jobs, run_group_remote, executor, store, on_cell=lambda key: bar.update(1)
                )
            )

    all_keys = []
    for key in (
        CellKey(t, m.name, s)
        for t in task_names
        for m in method_list
        for s in seed_list
        if (t, m.name) not in skip
    ):
        if store.is_done(key, fingerprint):
            all_keys.append(key)
            continue
        result.busy.append(key)
        owner = store.lock_owner(key)
        message = (
            f"Benchmark cell {key} is not finished"
            + (f" (locked by {owner})" if owner is not None else "")
            + "; it is left out of the outputs. Rerun the same command to include it."
        )
        logger.warning(message)
        warnings.warn(message, stacklevel=2)
    results, files = write_outputs(
        store, all_keys, task_names, [m.name for m in method_list], prof, device, workers
    )
    result.results, result.files = results, files
    return result


def _warn_corrupt(key: CellKey, status: str, store: CellStore) -> None:
    message = f"Benchmark cell {key} in {store.root} is {status}; recomputing it."
    logger.warning(message)
    warnings.warn(message, stacklevel=3)


def write_outputs(
    store: CellStore,
    keys: Sequence[CellKey],
    tasks: Sequence[str],
    methods: Sequence[str],
    profile: BenchProfile,
    device: str,
    workers: int,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Aggregate the given cells and write results.json/csv/md and the plots.

    Returns:
        The results.json content and the written paths.
    """
    from botorch_demo.benchmarks import plots, report
    from botorch_demo.benchmarks.methods import METHODS

    records = [store.load_record(k) for k in keys]
    summary = report.summarize(records)
    sharing = report.sharing_summary(records)
    labels = {m: METHODS[m].label if m in METHODS else m for m in methods}
    seeds = sorted({k.seed for k in keys})
    created = utc_now()
    results: dict[str, Any] = {
        "created": created,
        "tasks": list(tasks),
        "methods": list(methods),
        "seeds": seeds,
        "configuration": {
            "profile": profile.to_dict(),
            "fingerprint": profile.fingerprint(),
            "workers": workers,
            "method_settings": {
                m: {
                    "label": labels[m],
                    "description": METHODS[m].description if m in METHODS else None,
                    "components": list(METHODS[m].components) if m in METHODS else [],
                }
                for m in methods
            },
            "environment": environment(device),
        },
        "summary": summary,
        "mean_rank": {
            metric: report.mean_ranks(summary, metric)
            for metric in ("p100", "p50", "proportion_above_d_best")
        },
        "sharing": sharing,
        "cells": records,
    }
    root = store.root
    files = {
        "json": root / "results.json",
        "csv": root / "results.csv",
        "markdown": root / "results.md",
        "reliability": root / "reliability.png",
        "distributions": root / "score_distributions.png",
    }
    atomic_write_json(files["json"], results)
    atomic_write_text(files["csv"], report.csv_text(records))
    meta = {
        "profile": profile.name,
        "q": profile.q,
        "seeds": f"{len(seeds)} ({', '.join(map(str, seeds))})",
        "device": device,
        "created": created,
    }
    atomic_write_text(
        files["markdown"], report.markdown_text(summary, sharing, tasks, methods, labels, meta)
    )
    plots.plot_reliability(summary, tasks, methods, labels, files["reliability"])
    d_best = {r["task"]: r["d_best"] for r in records}
    plots.plot_distributions(
        report.normalized_scores(store, keys),
        d_best,
        tasks,
        methods,
        labels,
        files["distributions"],
    )
    return results, files
