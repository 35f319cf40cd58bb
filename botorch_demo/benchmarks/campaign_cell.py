"""One campaign cell: a strategy run through an Ax Client, round by round.

A cell is one (task, strategy, seed). :func:`run_campaign_cell` claims it with
the store's lock file, resumes it from its latest finished round (see
:mod:`botorch_demo.benchmarks.campaign_store`) or starts it:

1. an Ax ``Client`` with the task's search space (the parameters BO-qEI uses,
   :mod:`botorch_demo.benchmarks.bo_qei`), the objective ``y`` maximised;
2. the offline data attached with :func:`botorch_demo.ax.attach_offline_data`
   (the profile's ``bo.offline_rows`` subset, as for BO-qEI; every strategy of a
   task and seed gets the same rows);
3. the strategy set with ``Client.set_generation_strategy``;
4. round 0 asks ``k0`` designs with ``Client.get_next_trials``, each later round
   ``batch``; each design is scored by the task's exact oracle and reported with
   ``Client.complete_trial`` before the next round is asked for.

After each round the designs and scores so far, the round's row and the
Client's JSON snapshot are stored; once the last round is done the cell's
record (every round's row) and tensors are stored as a finished cell.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from botorch_demo.benchmarks.bo_qei import (
    METRIC,
    offline_subset,
    parameter_name,
    quiet_ax,
    task_parameters,
)
from botorch_demo.benchmarks.campaign_registry import (
    CampaignSettings,
    StrategyBuilder,
    get_strategy,
)
from botorch_demo.benchmarks.campaign_store import (
    RoundState,
    RoundStore,
    client_snapshot,
    load_client,
)
from botorch_demo.benchmarks.environment import utc_now
from botorch_demo.benchmarks.executors import CellFailed, worker_identity
from botorch_demo.benchmarks.group import cached_task
from botorch_demo.benchmarks.runner import Report
from botorch_demo.benchmarks.store import CellKey, CellStore, CorruptCell
from botorch_demo.runtime import allocated_threads, set_threads
from botorch_demo.tasks.task import OfflineTask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CampaignJob:
    """One campaign cell to compute (the unit an executor runs).

    Attributes:
        key: The cell (``method`` is the strategy's name).
        settings: The campaign's settings.
        rounds: The last round (rounds ``0..rounds``).
        out: Output folder.
        data_dir: Optional data folder for the task.
        threads: Torch threads of a remote worker (``None``: leave as is).
        executor: Name of the executor, stored in the cell's record.
    """

    key: CellKey
    settings: CampaignSettings
    rounds: int
    out: str
    data_dir: str | None = None
    threads: int | None = None
    executor: str = "local"

    @property
    def cells(self) -> tuple[CellKey, ...]:
        """The job's one cell (the executor seam counts cells)."""
        return (self.key,)

    @property
    def task(self) -> str:
        """The cell's task."""
        return self.key.task

    @property
    def seed(self) -> int:
        """The cell's seed."""
        return self.key.seed


class CampaignError(RuntimeError):
    """A strategy did not propose the designs a round asks for."""


def run_campaign_cell(job: CampaignJob, report: Report) -> dict[CellKey, dict[str, Any]]:
    """Run (or resume) one campaign cell and store it.

    Args:
        job: The cell.
        report: Progress events: ``("phase", text)``, ``("round", cell)`` per
            finished round and ``("done", cell)``.

    Returns:
        ``{key: record}`` for a cell finished here; empty when another worker
        holds or finished it.

    Raises:
        CellFailed: Naming the cell, the host and the original error.
    """
    store = CellStore(job.out)
    key = job.key
    fingerprint = job.settings.fingerprint()
    lock = store.claim(key, {"executor": job.executor})
    if lock is None:
        return {}
    try:
        status = store.status(key, fingerprint)
        if status.done and int(status.record.get("rounds", -1)) >= job.rounds:
            return {}
        task = cached_task(key.task, job.data_dir)
        builder = get_strategy(key.method).build
        record = _run(job, task, builder, store, fingerprint, report)
    except Exception as err:
        who = worker_identity()
        raise CellFailed(
            f"Campaign cell {key} failed on {who['host']} (pid {who['pid']}, "
            f"executor {job.executor}): {type(err).__name__}: {err}"
        ) from err
    finally:
        lock.release()
    report("done", str(key))
    return {key: record}


def run_campaign_remote(job: CampaignJob) -> dict[CellKey, dict[str, Any]]:
    """What Ray and submitit workers run: one cell, no progress events."""
    threads = allocated_threads(job.threads)
    if threads:
        set_threads(threads)
    return run_campaign_cell(job, lambda kind, text: None)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Ax's INFO lines silenced for one cell (levels restored afterwards).

    Ax gives some of its loggers (e.g. ``ax.api.client``) their own INFO level,
    so those are raised to WARNING one by one, besides the parents that
    :func:`~botorch_demo.benchmarks.bo_qei.quiet_ax` raises.
    """
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name.startswith(("ax.", "botorch_demo.ax"))
    ]
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(max(lg.level, logging.WARNING))
    try:
        with quiet_ax():
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _resume(rounds: RoundStore, fingerprint: str, key: CellKey) -> RoundState | None:
    try:
        return rounds.latest(fingerprint)
    except CorruptCell as err:
        message = f"{err}; starting the campaign cell {key} again."
        logger.warning(message)
        warnings.warn(message, stacklevel=3)
        rounds.clear()
        return None


def _run(
    job: CampaignJob,
    task: OfflineTask,
    builder: StrategyBuilder,
    store: CellStore,
    fingerprint: str,
    report: Report,
) -> dict[str, Any]:
    key, settings = job.key, job.settings
    rounds = RoundStore(store, key)
    state = _resume(rounds, fingerprint, key)
    names = [parameter_name(c) for c in range(task.dim)]
    with _quiet():
        if state is None:
            report("phase", f"{key}: attaching the offline data")
            client = new_campaign_client(task, settings, key.seed)
            client.set_generation_strategy(builder(settings, key.seed, str(rounds.checkpoint_dir)))
            rows: list[dict[str, Any]] = []
            X = torch.zeros(0, task.dim, dtype=torch.float64)
            y = torch.zeros(0, dtype=torch.float64)
            start = 0
        else:
            report("phase", f"{key}: resuming after round {state.round}")
            client = load_client(state.snapshot)
            rows, X, y, start = list(state.rows), state.X, state.y, state.round + 1
        for r in range(start, job.rounds + 1):
            report("phase", f"{key}: round {r}")
            row, new_X, new_y = _round(client, task, settings, names, r)
            X, y = torch.cat([X, new_X]), torch.cat([y, new_y])
            best = float(task.normalize(y.max()))
            row.update(
                task=key.task,
                strategy=key.method,
                seed=key.seed,
                fingerprint=fingerprint,
                best_so_far=best,
                d_best=float(task.d_best),
                k0=settings.k0,
                batch=settings.batch,
            )
            rows.append(rounds.save(r, row, X, y, client_snapshot(client)))
            report("round", str(key))
    clean = [{k: v for k, v in row.items() if k != "integrity"} for row in rows]
    record = {
        "task": key.task,
        "strategy": key.method,
        "method": key.method,
        "seed": key.seed,
        "profile": settings.profile.name,
        "fingerprint": fingerprint,
        "k0": settings.k0,
        "batch": settings.batch,
        "rounds": job.rounds,
        "d_best": float(task.d_best),
        "rows": clean[: job.rounds + 1],
        "host": worker_identity()["host"],
        "executor": job.executor,
        "torch_threads": torch.get_num_threads(),
        "finished_at": utc_now(),
    }
    return store.save(key, record, {"X": X, "y": y})


def new_campaign_client(task: OfflineTask, settings: CampaignSettings, seed: int) -> Any:
    """An Ax Client with the task's search space and its offline data attached.

    Args:
        task: The task.
        settings: The campaign's settings (``profile.bo.offline_rows`` rows are
            attached; all of them when ``None``).
        seed: The Client's ``random_seed`` and the seed of the offline subset.

    Returns:
        The Client (no generation strategy set yet).
    """
    from ax.api.client import Client

    from botorch_demo.ax import attach_offline_data

    client = Client(random_seed=seed)
    client.configure_experiment(parameters=task_parameters(task), name=f"campaign_{task.name}")
    client.configure_optimization(objective=METRIC)
    rows = offline_subset(task, settings.profile.bo.offline_rows, seed)
    attach_offline_data(
        client,
        task.train_X[rows].cpu().numpy(),
        task.train_Y[rows].cpu().numpy(),
        as_batch_trial=True,
    )
    return client


def ask(client: Any, n: int) -> dict[int, Any]:
    """Exactly ``n`` new trials from the Client's strategy.

    ``Client.get_next_trials`` may return fewer trials than asked for (a node's
    limit); it is asked again for the rest.

    Raises:
        CampaignError: If the strategy stops proposing before ``n`` trials.
    """
    trials: dict[int, Any] = {}
    for _ in range(n + 1):
        if len(trials) >= n:
            break
        new = client.get_next_trials(max_trials=n - len(trials))
        if not new:
            break
        trials.update(new)
    if len(trials) != n:
        raise CampaignError(f"the strategy proposed {len(trials)} designs; the round needs {n}")
    return trials


def _round(
    client: Any, task: OfflineTask, settings: CampaignSettings, names: list[str], r: int
) -> tuple[dict[str, Any], Tensor, Tensor]:
    """Ask, score and complete one round; its row, designs and scores."""
    n = settings.designs(r)
    tic = time.perf_counter()
    trials = ask(client, n)
    generated = time.perf_counter()
    indices = sorted(trials)
    X = torch.tensor(
        [[float(trials[i][name]) for name in names] for i in indices], dtype=torch.float64
    )
    y = task.oracle(X).reshape(-1).to(torch.float64)
    scored = time.perf_counter()
    for i, value in zip(indices, y.tolist(), strict=True):
        client.complete_trial(trial_index=i, raw_data={METRIC: float(value)})
    done = time.perf_counter()
    row = {
        "round": r,
        "n_evaluated": settings.evaluated(r),
        "round_best": float(task.normalize(y.max())),
        "seconds": done - tic,
        "generation_seconds": generated - tic,
        "oracle_seconds": scored - generated,
        "nodes": sorted(_nodes(client, indices)),
    }
    return row, X, y


def _nodes(client: Any, indices: list[int]) -> set[str]:
    """Names of the generation nodes that made the trials ``indices``."""
    from botorch_demo.ax._ax_private import client_experiment, generation_node_name

    experiment = client_experiment(client)
    return {
        str(generation_node_name(run))
        for i in indices
        for run in experiment.trials[i].generator_runs
    }
