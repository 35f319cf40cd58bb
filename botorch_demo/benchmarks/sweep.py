"""Sensitivity of DEMO to the editing noise level m (the paper's Figure 4).

The sweep is a benchmark run of the method variants ``demo[m=<m>]``, one per m
(:func:`botorch_demo.benchmarks.harness.run_cells`): the same cell store, locks,
executors and resume as ``botorch-demo bench``. The variants differ only in a
phase-2 field, so they share one pseudo-target DEMO fit per (task, seed), and
every m is a ``generate(q, seed=seed, m=m)`` call on that fit (no retraining).
m = 0 returns the top-K offline designs unchanged; m = M starts from (almost)
pure noise. From the cells it writes ``m_sweep.json``, ``m_sweep.csv`` and
``m_sweep.png`` (score against m, D(best) dashed).

    >>> from botorch_demo.benchmarks.sweep import run_m_sweep
    >>> result = run_m_sweep(tasks=["tfbind8", "levy"], seeds=8, profile="fast")
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botorch_demo.benchmarks.environment import environment, utc_now
from botorch_demo.benchmarks.executors import ExecutorLike
from botorch_demo.benchmarks.harness import BenchmarkResult, CellRun, RunOptions, run_cells
from botorch_demo.benchmarks.plots import plot_m_sweep
from botorch_demo.benchmarks.profiles import BenchProfile, get_profile
from botorch_demo.fileio import atomic_write_json, atomic_write_text
from botorch_demo.tasks.protocol import mean_and_stderr

#: m from 0 to 1000 in steps of 100 (the paper's Figure 4).
DEFAULT_MS = tuple(range(0, 1001, 100))

#: Metrics of the sweep's summary and CSV.
SWEEP_METRICS = ("p100", "p50", "proportion_above_d_best")


@dataclass
class SweepResult:
    """What :func:`run_m_sweep` did and wrote.

    Attributes:
        out: Output folder.
        computed: ``(task, seed)`` groups with a cell computed by this call.
        skipped: Groups whose cells were all found finished.
        results: The content of ``m_sweep.json``.
        files: Paths of ``json``, ``csv`` and ``plot``.
        cells: The underlying cells: computed, skipped, corrupt and busy ones.
    """

    out: Path
    computed: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    cells: BenchmarkResult | None = None


def sweep_methods(ms: Sequence[int]) -> list[str]:
    """The method variants of the sweep: ``demo[m=<m>]`` for each m."""
    return [f"demo[m={int(m)}]" for m in ms]


def run_m_sweep(
    tasks: Sequence[str] | str = ("tfbind8", "levy"),
    seeds: int | Sequence[int] = 8,
    profile: str | BenchProfile = "fast",
    out: str | Path = "sweep-m",
    ms: Sequence[int] = DEFAULT_MS,
    workers: int = 1,
    device: str = "cpu",
    data_dir: str | Path | None = None,
    progress: bool = True,
    overwrite: bool = False,
    executor: ExecutorLike | None = None,
    threads_per_cell: int | None = None,
) -> SweepResult:
    """Run (or resume) the m-sensitivity sweep and write json, csv and png.

    Args:
        tasks: Task names.
        seeds: Number of seeds (``0..n-1``) or explicit seeds.
        profile: Benchmark profile (its DEMO configuration and K are used).
        out: Output folder.
        ms: Noise levels, each in ``[0, M]``.
        workers: Parallel processes over (task, seed) groups.
        device: Torch device of the fits.
        data_dir: Folder with design-bench data (else ``BOTORCH_DEMO_DATA``).
        progress: Show a progress bar.
        overwrite: Recompute cells stored with another profile in ``out``.
        executor: Runs the (task, seed) groups, as in
            :func:`~botorch_demo.benchmarks.harness.run_benchmark`.
        threads_per_cell: Torch threads of each group run by ``executor``.

    Returns:
        A :class:`SweepResult`.

    Raises:
        ValueError: For a noise level outside ``[0, M]``, and as
            :func:`~botorch_demo.benchmarks.harness.run_benchmark`.
    """
    prof = get_profile(profile)
    levels = sorted({int(m) for m in ms})
    if not levels or levels[0] < 0 or levels[-1] > prof.demo.M:
        raise ValueError(f"Every m must lie in [0, M={prof.demo.M}], got {list(ms)}.")
    options = RunOptions(workers, device, data_dir, progress, overwrite, executor, threads_per_cell)
    run = run_cells(tasks, sweep_methods(levels), seeds, prof, out, options, desc="sweep-m")
    computed = {(k.task, k.seed) for k in run.result.computed}
    groups = list(dict.fromkeys((r["task"], r["seed"]) for r in run.records.values()))
    result = SweepResult(
        out=run.store.root,
        computed=[g for g in groups if g in computed],
        skipped=[g for g in groups if g not in computed],
        cells=run.result,
    )
    result.results, result.files = write_sweep_outputs(run, levels, device)
    return result


def _rows(run: CellRun) -> list[dict[str, Any]]:
    """One row per cell, task by task, seed by seed, m by m."""
    m_of = {m.name: dict(m.overrides)["m"] for m in run.methods}
    rows = [{"m": m_of[key.method], **record} for key, record in run.records.items()]
    return sorted(
        rows, key=lambda r: (run.tasks.index(r["task"]), run.seeds.index(r["seed"]), r["m"])
    )


def summarize_sweep(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (task, m): mean and standard error over seeds of each metric.

    Args:
        rows: Cell records, each with its ``m``, ordered by task, seed and m.

    Returns:
        One row per (task, m), task by task and m by m.
    """
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["task"], r["m"])].append(r)
    summary = []
    for (task, m), cells in groups.items():
        row: dict[str, Any] = {"task": task, "m": m, "n_seeds": len(cells)}
        for metric in SWEEP_METRICS:
            values = [c[metric] for c in cells]
            if len(values) >= 2:
                mean, se = mean_and_stderr(values)
                row[f"{metric}_mean"], row[f"{metric}_se"] = float(mean), float(se)
            else:
                row[f"{metric}_mean"], row[f"{metric}_se"] = float(values[0]), None
        summary.append(row)
    return summary


def write_sweep_outputs(
    run: CellRun, ms: Sequence[int], device: str
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Write ``m_sweep.json``, ``m_sweep.csv`` and ``m_sweep.png`` from the sweep's cells.

    Returns:
        The m_sweep.json content and the written paths.
    """
    rows = _rows(run)
    summary = summarize_sweep(rows)
    d_best = {r["task"]: r["d_best"] for r in rows}
    results = {
        "created": utc_now(),
        "tasks": run.tasks,
        "seeds": run.seeds,
        "ms": list(ms),
        "methods": [m.name for m in run.methods],
        "configuration": {
            "profile": run.profile.to_dict(),
            "fingerprint": run.profile.fingerprint(),
            "environment": environment(device),
        },
        "d_best": d_best,
        "summary": summary,
        "cells": list(run.records.values()),
    }
    root = run.store.root
    files = {
        "json": root / "m_sweep.json",
        "csv": root / "m_sweep.csv",
        "plot": root / "m_sweep.png",
    }
    atomic_write_json(files["json"], results)
    buf = io.StringIO()
    columns = ["task", "seed", "m", *SWEEP_METRICS, "d_best"]
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(files["csv"], buf.getvalue())
    plot_m_sweep(summary, d_best, run.tasks, files["plot"])
    return results, files
