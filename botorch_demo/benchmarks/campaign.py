"""Closed-loop campaigns measured side by side: strategies over rounds, resumable.

    >>> from botorch_demo.benchmarks.campaign import run_campaign
    >>> result = run_campaign(tasks=["tfbind8"], strategies=["qei", "demo-then-qei"],
    ...                       k0=128, rounds=4, batch=16, seeds=8, profile="fast",
    ...                       out="campaigns/")
    >>> result.files["markdown"]

A campaign starts from a task's offline data; round 0 proposes ``k0`` designs,
each later round ``batch``; every design is scored by the task's exact oracle
and reported to Ax before the next round, so every strategy makes
``k0 + rounds * batch`` oracle calls. Each strategy is an Ax
``GenerationStrategy`` run through an Ax ``Client``
(:mod:`botorch_demo.benchmarks.campaign_cell`), the code a user runs.

A cell is one (task, strategy, seed), stored in the harness's cell store (locks,
atomic writes, integrity hashes; :mod:`botorch_demo.benchmarks.store`), with
its finished rounds beside it (:mod:`botorch_demo.benchmarks.campaign_store`):
a killed campaign resumes at its last finished round, and a rerun with more
``rounds`` extends the finished cells. Cells run in local processes
(``workers``) or on any executor of :mod:`botorch_demo.benchmarks.executors`
(Ray, submitit).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from botorch_demo.benchmarks import campaign_report
from botorch_demo.benchmarks.campaign_cell import (
    CampaignJob,
    run_campaign_cell,
    run_campaign_remote,
)
from botorch_demo.benchmarks.campaign_registry import (
    STRATEGIES,
    CampaignSettings,
    check_campaign,
    resolve_strategies,
)
from botorch_demo.benchmarks.environment import environment, utc_now
from botorch_demo.benchmarks.executors import ExecutorLike, run_on_executor
from botorch_demo.benchmarks.harness import resolve_seeds, resolve_tasks
from botorch_demo.benchmarks.profiles import BenchProfile, get_profile
from botorch_demo.benchmarks.runner import run_jobs
from botorch_demo.benchmarks.store import CellKey, CellStore
from botorch_demo.fileio import atomic_write_json, atomic_write_text, clean_orphaned_temps
from botorch_demo.tasks.suite import suite_tasks

logger = logging.getLogger(__name__)


@dataclass
class CampaignResult:
    """What :func:`run_campaign` did and wrote.

    Attributes:
        out: Output folder.
        computed: Cells computed (or finished) by this call.
        skipped: Cells found finished and not recomputed.
        busy: Cells left to another worker holding their lock.
        missing: Cells not finished and not computed (``report_only``).
        results: The content of ``results.json``.
        files: Paths of the written files.
    """

    out: Path
    computed: list[CellKey] = field(default_factory=list)
    skipped: list[CellKey] = field(default_factory=list)
    busy: list[CellKey] = field(default_factory=list)
    missing: list[CellKey] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def run_campaign(
    tasks: Sequence[str] | str = ("tfbind8",),
    strategies: Sequence[str] | str | None = None,
    k0: int = 128,
    rounds: int = 4,
    batch: int = 16,
    seeds: int | Sequence[int] = 8,
    profile: str | BenchProfile = "fast",
    out: str | Path = "campaigns",
    workers: int = 1,
    data_dir: str | Path | None = None,
    progress: bool = True,
    overwrite: bool = False,
    executor: ExecutorLike | None = None,
    threads_per_cell: int | None = None,
    suite: str | None = None,
    report_only: bool = False,
) -> CampaignResult:
    """Run (or resume) closed-loop campaigns and write results.csv/md/json and plots.

    Args:
        tasks: Task names.
        strategies: Strategy names or a comma-separated string (``None``: all;
            see :data:`STRATEGIES`).
        k0: Designs of round 0.
        rounds: Online rounds after round 0 (rounds ``0..rounds``).
        batch: Designs of each online round.
        seeds: Number of seeds (``0..n-1``) or explicit seeds.
        profile: ``"fast"``, ``"paper"``, ``"smoke"`` or a :class:`BenchProfile`.
        out: Output folder; finished cells and rounds in it are reused.
        workers: Parallel processes over cells (local executor).
        data_dir: Folder with design-bench data (else ``BOTORCH_DEMO_DATA``).
        progress: Show a progress bar over rounds.
        overwrite: Accept an ``out`` folder written with other settings.
        executor: Runs the cells (see
            :func:`botorch_demo.benchmarks.harness.run_benchmark`); ``None``:
            local processes.
        threads_per_cell: Torch threads of each cell run by ``executor``.
        suite: A suite name; its tasks replace ``tasks``.
        report_only: Compute nothing: write the outputs from the cells of
            ``out`` that are finished for ``rounds`` rounds and list the others
            in ``CampaignResult.missing`` (with a warning).

    Returns:
        A :class:`CampaignResult`.

    Raises:
        ValueError: For unknown tasks, strategies or profiles, bad sizes, seeds
            or workers, or an ``out`` folder written with other settings
            (unless ``overwrite``).
    """
    task_names = resolve_tasks(suite_tasks(suite) if suite is not None else tasks)
    names = resolve_strategies(strategies)
    k0, rounds, batch = check_campaign(names, k0, rounds, batch)
    seed_list = resolve_seeds(seeds)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}.")
    prof = get_profile(profile)
    settings = CampaignSettings(prof, k0, batch)
    store = CellStore(Path(out).expanduser())
    fingerprint = settings.fingerprint()
    store.check_fingerprint(fingerprint, prof.name, overwrite)
    clean_orphaned_temps(store.root, recursive=True)
    result = CampaignResult(out=store.root)
    keys = [CellKey(t, s, seed) for t in task_names for s in names for seed in seed_list]
    found: dict[CellKey, dict[str, Any]] = {}
    for key in keys:
        status = store.status(key, fingerprint)
        if status.done and int(status.record.get("rounds", -1)) >= rounds:
            found[key] = status.record
            result.skipped.append(key)
    data = None if data_dir is None else str(Path(data_dir).expanduser())
    executor_name = "local" if executor is None else type(executor).__name__
    jobs = [
        CampaignJob(key, settings, rounds, str(store.root), data, threads_per_cell, executor_name)
        for key in keys
        if key not in found and not report_only
    ]
    computed = _execute(jobs, store, executor, workers, progress, len(keys) * (rounds + 1))
    result.computed.extend(k for k in keys if k in computed)
    records: dict[CellKey, dict[str, Any]] = {}
    for key in keys:
        record = found.get(key) or computed.get(key)
        if record is None:
            status = store.status(key, fingerprint)
            if status.done and int(status.record.get("rounds", -1)) >= rounds:
                record = status.record
        if record is None:
            if report_only:
                result.missing.append(key)
                message = (
                    f"Campaign cell {key} has not finished {rounds} rounds; it is left out "
                    "of the outputs (--report-only computes nothing)."
                )
            else:
                result.busy.append(key)
                message = (
                    f"Campaign cell {key} is not finished (held by another worker?); it is "
                    "left out of the outputs. Rerun the same command to include it."
                )
            logger.warning(message)
            warnings.warn(message, stacklevel=2)
            continue
        records[key] = record
    result.results, result.files = write_campaign_outputs(
        store, records, task_names, names, settings, rounds
    )
    return result


def _execute(
    jobs: Sequence[CampaignJob],
    store: CellStore,
    executor: ExecutorLike | None,
    workers: int,
    progress: bool,
    total: int,
) -> dict[CellKey, dict[str, Any]]:
    """Run the cells under one progress bar over rounds."""
    pending = sum(job.rounds + 1 for job in jobs)
    bar = tqdm(
        total=total,
        initial=total - pending,
        desc="campaign",
        unit="round",
        disable=not progress,
        dynamic_ncols=True,
    )
    with bar:
        if executor is not None:
            by_key = {job.key: job.rounds + 1 for job in jobs}
            return run_on_executor(
                jobs,
                run_campaign_remote,
                executor,
                store,
                on_cell=lambda key: bar.update(by_key.get(key, 0)),
            )

        def on_event(kind: str, text: str) -> None:
            if kind == "phase":
                bar.set_postfix_str(text, refresh=False)
            elif kind == "round":
                bar.update(1)

        computed: dict[CellKey, dict[str, Any]] = {}
        for records in run_jobs(jobs, run_campaign_cell, workers=workers, on_event=on_event):
            computed.update(records)
        return computed


#: The files :func:`write_campaign_outputs` writes, by key of ``CampaignResult.files``.
OUTPUT_FILES = {"json": "results.json", "csv": "results.csv", "markdown": "results.md"}


def write_campaign_outputs(
    store: CellStore,
    records: dict[CellKey, dict[str, Any]],
    tasks: Iterable[str],
    strategies: Sequence[str],
    settings: CampaignSettings,
    rounds: int,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Write results.json/csv/md and one best-so-far plot per task.

    Returns:
        The results.json content and the written paths (``plot_<task>`` for
        the plots).
    """
    tasks = list(tasks)
    rows = campaign_report.round_rows(records.values(), rounds)
    summary = campaign_report.summarize(rows)
    labels = {name: STRATEGIES[name].label for name in strategies}
    created = utc_now()
    results = {
        "created": created,
        "tasks": tasks,
        "strategies": list(strategies),
        "seeds": sorted({k.seed for k in records}),
        "k0": settings.k0,
        "batch": settings.batch,
        "rounds": rounds,
        "configuration": {
            "profile": settings.profile.to_dict(),
            "fingerprint": settings.fingerprint(),
            "strategies": {
                name: {"label": s.label, "description": s.description}
                for name, s in STRATEGIES.items()
                if name in strategies
            },
            "environment": environment("cpu"),
        },
        "summary": summary,
        "rows": rows,
    }
    files = {name: store.root / file for name, file in OUTPUT_FILES.items()}
    meta = {
        "profile": settings.profile.name,
        "k0": settings.k0,
        "batch": settings.batch,
        "rounds": rounds,
        "seeds": f"{len(results['seeds'])} ({', '.join(map(str, results['seeds']))})",
        "created": created,
    }
    atomic_write_json(files["json"], results)
    atomic_write_text(files["csv"], campaign_report.csv_text(rows))
    atomic_write_text(
        files["markdown"],
        campaign_report.markdown_text(summary, tasks, list(strategies), labels, rounds, meta),
    )
    for task in tasks:
        path = store.root / f"best_so_far_{task}.png"
        d_best = next((r["d_best"] for r in rows if r["task"] == task), None)
        campaign_report.plot_best_so_far(summary, task, list(strategies), labels, d_best, path)
        files[f"plot_{task}"] = path
    return results, files
