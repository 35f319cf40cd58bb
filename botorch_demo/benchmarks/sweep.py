"""Sensitivity of DEMO to the editing noise level m (the paper's Figure 4).

One pseudo-target DEMO model is trained per (task, seed); every m is then a
``generate(q, seed=seed, m=m)`` call on that model (no retraining). m = 0
returns the top-K offline designs unchanged; m = M starts from (almost) pure
noise. Each (task, seed) group is stored as soon as it finishes (resumable, like
the benchmark), and the outputs are ``m_sweep.json``, ``m_sweep.csv`` and
``m_sweep.png`` (score against m, D(best) dashed).

    >>> from botorch_demo.benchmarks.sweep import run_m_sweep
    >>> result = run_m_sweep(tasks=["tfbind8", "levy"], seeds=8, profile="fast")
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from botorch_demo.benchmarks.components import SharedModels
from botorch_demo.benchmarks.environment import environment, utc_now
from botorch_demo.benchmarks.harness import (
    cached_task,
    resolve_seeds,
    resolve_tasks,
)
from botorch_demo.benchmarks.profiles import BenchProfile, get_profile
from botorch_demo.benchmarks.runner import Report, run_jobs
from botorch_demo.benchmarks.store import (
    CellStore,
    CorruptCell,
    atomic_write_json,
    atomic_write_text,
    save_cell_files,
    verify_cell_files,
)
from botorch_demo.tasks.protocol import mean_and_stderr, score_candidates

logger = logging.getLogger(__name__)

#: m from 0 to 1000 in steps of 100 (the paper's Figure 4).
DEFAULT_MS = tuple(range(0, 1001, 100))


@dataclass(frozen=True)
class SweepJob:
    """One (task, seed) group of the sweep."""

    task: str
    seed: int
    ms: tuple[int, ...]
    profile: BenchProfile
    out: str
    device: str = "cpu"
    data_dir: str | None = None


@dataclass
class SweepResult:
    """What :func:`run_m_sweep` did and wrote.

    Attributes:
        out: Output folder.
        computed: ``(task, seed)`` groups computed by this call.
        skipped: Groups found finished.
        results: The content of ``m_sweep.json``.
        files: Paths of ``json``, ``csv`` and ``plot``.
    """

    out: Path
    computed: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def _paths(out: Path, task: str, seed: int) -> tuple[Path, Path]:
    base = out / "cells" / task / f"seed{seed}"
    return base.with_suffix(".json"), base.with_suffix(".pt")


def _is_done(out: Path, task: str, seed: int, fingerprint: str, ms: Sequence[int]) -> bool:
    """Whether a group is stored, verified (hashes), for this fingerprint and every m."""
    path, tensors = _paths(out, task, seed)
    if not path.is_file():
        return False
    try:
        record = verify_cell_files(path, tensors)
    except CorruptCell as err:
        message = f"m-sweep group {task}/seed{seed} in {out} is corrupt: {err}; recomputing it."
        logger.warning(message)
        warnings.warn(message, stacklevel=2)
        return False
    return record.get("fingerprint") == fingerprint and set(ms) <= {int(m) for m in record["by_m"]}


def run_sweep_group(job: SweepJob, report: Report) -> tuple[str, int]:
    """Fit one DEMO model and generate K candidates for every m.

    Args:
        job: The group.
        report: Progress events (``"phase"`` and ``"done"``).

    Returns:
        ``(task, seed)``.
    """
    task = cached_task(job.task, job.data_dir)
    q = job.profile.q

    def on_phase(text: str) -> None:
        report("phase", f"{job.task} seed {job.seed}: {text}")

    shared = SharedModels(
        task,
        job.seed,
        job.profile.demo,
        job.device,
        ("surrogate", "ascent", "pseudo_target_diffusion"),
        on_phase,
    )
    model = shared.pseudo_target_model()
    by_m: dict[str, Any] = {}
    candidates = []
    for m in job.ms:
        on_phase(f"generating with m = {m}")
        tic = time.perf_counter()
        X, _ = model.generate(q, seed=job.seed, m=m)
        seconds = time.perf_counter() - tic
        X = X.detach().to("cpu", torch.float64)
        scores = score_candidates(task, X, budget=q)
        by_m[str(m)] = {
            "p100": float(scores.p100),
            "p50": float(scores.p50),
            "proportion_above_d_best": float(scores.proportion_above_best),
            "generate_seconds": seconds,
        }
        candidates.append(X)
        report("done", f"{job.task}/m{m}/seed{job.seed}")
    record = {
        "task": job.task,
        "seed": job.seed,
        "profile": job.profile.name,
        "fingerprint": job.profile.fingerprint(),
        "q": q,
        "d_best": float(task.d_best),
        "fit_seconds": dict(shared.seconds),
        "by_m": by_m,
        "device": job.device,
        "finished_at": utc_now(),
    }
    json_path, pt_path = _paths(Path(job.out), job.task, job.seed)
    tensors = {"ms": list(job.ms), "candidates": torch.stack(candidates)}
    save_cell_files(json_path, pt_path, record, tensors)
    return job.task, job.seed


def summarize_sweep(records: Sequence[dict[str, Any]], ms: Sequence[int]) -> list[dict[str, Any]]:
    """Per (task, m): mean and standard error over seeds of each metric."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        for m in ms:
            groups[(r["task"], m)].append(r["by_m"][str(m)])
    rows = []
    for (task, m), cells in groups.items():
        row: dict[str, Any] = {"task": task, "m": m, "n_seeds": len(cells)}
        for metric in ("p100", "p50", "proportion_above_d_best"):
            values = [c[metric] for c in cells]
            if len(values) >= 2:
                mean, se = mean_and_stderr(values)
                row[f"{metric}_mean"], row[f"{metric}_se"] = float(mean), float(se)
            else:
                row[f"{metric}_mean"], row[f"{metric}_se"] = float(values[0]), None
        rows.append(row)
    return rows


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
        overwrite: Recompute groups stored with another profile in ``out``.

    Returns:
        A :class:`SweepResult`.
    """
    from botorch_demo.benchmarks.plots import plot_m_sweep

    task_names = resolve_tasks(tasks)
    seed_list = resolve_seeds(seeds)
    prof = get_profile(profile)
    ms = tuple(sorted({int(m) for m in ms}))
    if not ms or ms[0] < 0 or ms[-1] > prof.demo.M:
        raise ValueError(f"Every m must lie in [0, M={prof.demo.M}], got {list(ms)}.")
    torch.device(device)
    out_path = Path(out).expanduser()
    fingerprint = prof.fingerprint()
    CellStore(out_path).check_fingerprint(fingerprint, prof.name, overwrite)
    data = None if data_dir is None else str(Path(data_dir).expanduser())
    result = SweepResult(out=out_path)
    jobs = []
    for t in task_names:
        for s in seed_list:
            if _is_done(out_path, t, s, fingerprint, ms):
                result.skipped.append((t, s))
            else:
                jobs.append(SweepJob(t, s, ms, prof, str(out_path), device, data))
    total = len(task_names) * len(seed_list) * len(ms)
    with tqdm(
        total=total,
        initial=len(result.skipped) * len(ms),
        desc="sweep-m",
        unit="m",
        disable=not progress,
        dynamic_ncols=True,
    ) as bar:

        def on_event(kind: str, text: str) -> None:
            if kind == "phase":
                bar.set_postfix_str(text, refresh=False)
            elif kind == "done":
                bar.update(1)

        result.computed = run_jobs(jobs, run_sweep_group, workers=workers, on_event=on_event)

    records = [
        json.loads(_paths(out_path, t, s)[0].read_text()) for t in task_names for s in seed_list
    ]
    summary = summarize_sweep(records, ms)
    d_best = {r["task"]: r["d_best"] for r in records}
    result.results = {
        "created": utc_now(),
        "tasks": task_names,
        "seeds": seed_list,
        "ms": list(ms),
        "configuration": {
            "profile": prof.to_dict(),
            "fingerprint": fingerprint,
            "environment": environment(device),
        },
        "d_best": d_best,
        "summary": summary,
        "cells": records,
    }
    result.files = {
        "json": out_path / "m_sweep.json",
        "csv": out_path / "m_sweep.csv",
        "plot": out_path / "m_sweep.png",
    }
    atomic_write_json(result.files["json"], result.results)
    buf = io.StringIO()
    columns = ["task", "seed", "m", "p100", "p50", "proportion_above_d_best", "d_best"]
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in records:
        for m in ms:
            cell = r["by_m"][str(m)]
            writer.writerow(
                {"task": r["task"], "seed": r["seed"], "m": m, "d_best": r["d_best"]}
                | {k: cell[k] for k in ("p100", "p50", "proportion_above_d_best")}
            )
    atomic_write_text(result.files["csv"], buf.getvalue())
    plot_m_sweep(summary, d_best, task_names, result.files["plot"])
    return result
