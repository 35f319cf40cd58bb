"""One (task, seed) group of benchmark cells: claim, run, score and store each cell.

:func:`run_group` is what every executor runs (through :func:`run_group_remote`
on Ray and SLURM). The methods of a group share their trained components
(:class:`~botorch_demo.benchmarks.components.GroupModels`); each cell is claimed
with a lock file before it is computed and stored as soon as it is done
(:mod:`botorch_demo.benchmarks.store`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch

from botorch_demo.benchmarks.components import GroupModels, PhaseCallback
from botorch_demo.benchmarks.environment import utc_now
from botorch_demo.benchmarks.executors import CellFailed, worker_identity
from botorch_demo.benchmarks.methods import Method, MethodContext, resolve_methods
from botorch_demo.benchmarks.profiles import BenchProfile
from botorch_demo.benchmarks.runner import Report
from botorch_demo.benchmarks.store import CellKey, CellLock, CellStore
from botorch_demo.rows import n_distinct
from botorch_demo.runtime import allocated_threads, resolve_device, set_threads
from botorch_demo.tasks.loaders import load_task
from botorch_demo.tasks.protocol import batch_metrics, score_candidates
from botorch_demo.tasks.task import OfflineTask

#: A cell's record, as stored in its ``.json``.
Record = dict[str, Any]


@dataclass(frozen=True)
class GroupJob:
    """The pending cells of one (task, seed) group.

    Attributes:
        cells: The cells still to compute, all of one task and seed, in method order.
        profile: The benchmark profile.
        out: Output folder.
        device: Torch device name (``"auto"``: ``cuda`` when a GPU is visible).
        data_dir: Optional data folder for :func:`load_task`.
        threads: Torch threads of a remote worker (``None``: leave as is).
        executor: Name of the executor, stored in the cells' records.
    """

    cells: tuple[CellKey, ...]
    profile: BenchProfile
    out: str
    device: str = "cpu"
    data_dir: str | None = None
    threads: int | None = None
    executor: str = "local"

    def __post_init__(self) -> None:
        if len({(k.task, k.seed) for k in self.cells}) != 1:
            raise ValueError(f"A group's cells share one task and seed, got {self.cells}.")

    @property
    def task(self) -> str:
        """The group's task."""
        return self.cells[0].task

    @property
    def seed(self) -> int:
        """The group's seed."""
        return self.cells[0].seed


@cache
def cached_task(name: str, data_dir: str | None) -> OfflineTask:
    """:func:`load_task`, loaded once per process."""
    return load_task(name, data_dir=data_dir)


def run_group(job: GroupJob, report: Report) -> dict[CellKey, Record]:
    """Run the pending cells of one (task, seed) group and store each of them.

    Each cell is claimed (a lock file in the store) before it is computed and
    checked again once claimed: a cell finished or held by another worker is
    left alone, so two workers never write the same cell.

    Args:
        job: The group.
        report: Progress events: ``("phase", text)`` and ``("done", cell)``.

    Returns:
        The records of the cells computed here.

    Raises:
        CellFailed: Naming the cell, the host and the original error.
    """
    profile = job.profile
    task = cached_task(job.task, job.data_dir)
    device = resolve_device(job.device, here=False)
    store = CellStore(job.out)
    fingerprint = profile.fingerprint()
    methods = {key: resolve_methods([key.method], profile.demo)[0] for key in job.cells}
    current = {"method": ""}

    def on_phase(text: str) -> None:
        report("phase", f"{job.task} seed {job.seed} {current['method']}: {text}")

    models = GroupModels(task, job.seed, profile.demo, device, on_phase)
    for method in methods.values():
        models.add(method.config(profile.demo), method.components)
    done: dict[CellKey, Record] = {}
    for key, method in methods.items():
        lock = _claim(store, key, job.executor)
        if lock is None:
            continue  # another worker computes it
        try:
            if store.status(key, fingerprint).done:
                continue  # finished by another worker since the scan
            current["method"] = method.name
            on_phase("starting")
            done[key] = _run_cell(job, method, key, task, models, device, store, on_phase)
        except Exception as err:
            who = worker_identity()
            raise CellFailed(
                f"Benchmark cell {key} failed on {who['host']} (pid {who['pid']}, "
                f"executor {job.executor}): {type(err).__name__}: {err}"
            ) from err
        finally:
            lock.release()
        report("done", str(key))
    return done


def run_group_remote(job: GroupJob) -> dict[CellKey, Record]:
    """The function every executor runs: one (task, seed) group, no progress events.

    Sets the torch threads to the job's CPU allocation, then calls
    :func:`run_group`.

    Returns:
        The records of the cells computed by this call.
    """
    threads = allocated_threads(job.threads)
    if threads:
        set_threads(threads)
    return run_group(job, lambda kind, text: None)


def _claim(store: CellStore, key: CellKey, executor: str) -> CellLock | None:
    try:
        return store.claim(key, {"executor": executor})
    except OSError as err:
        raise CellFailed(
            f"Benchmark cell {key}: cannot create its lock file {store.lock_path(key)}: {err}"
        ) from err


def _run_cell(
    job: GroupJob,
    method: Method,
    key: CellKey,
    task: OfflineTask,
    models: GroupModels,
    device: torch.device,
    store: CellStore,
    on_phase: PhaseCallback,
) -> Record:
    """Run one method of a group, score its candidates and store the cell."""
    profile = job.profile
    config = method.config(profile.demo)
    shared, generation = models.models(config)
    own_profile = dataclasses.replace(profile, demo=config) if method.overrides else profile
    built_before = sum(shared.seconds.values())
    tic = time.perf_counter()
    ctx = MethodContext(task, job.seed, own_profile, shared, device, on_phase, generation)
    output = method.run(ctx)
    elapsed = time.perf_counter() - tic
    own = max(0.0, elapsed - (sum(shared.seconds.values()) - built_before))
    on_phase("scoring with the oracle")
    X = output.candidates.detach().to("cpu", torch.float64)
    scores = score_candidates(task, X, budget=profile.q)
    record = {
        "task": key.task,
        "method": key.method,
        "label": method.label,
        "seed": key.seed,
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
        "shared_by": models.shared_by(config, method.components),
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
    return store.save(key, record, tensors)
