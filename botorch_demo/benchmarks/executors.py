"""Run the benchmark's (task, seed) groups on any executor: local, Ray or SLURM.

:func:`botorch_demo.benchmarks.harness.run_benchmark` takes ``executor=``: any
object with ``submit(fn, *args)`` returning a future-like object (``done()``
and ``result()``), e.g. a :class:`concurrent.futures.Executor`, a
``submitit.AutoExecutor`` or the :class:`RayExecutor` below. Each submitted
call is :func:`~botorch_demo.benchmarks.group.run_group_remote` on one
:class:`~botorch_demo.benchmarks.group.GroupJob`.

Nothing is scheduled here: Ray places its tasks by their ``num_cpus`` and
``num_gpus``, SLURM (through submitit) its jobs by partition, time and GPUs.
The output folder's cell store is the shared state: workers write finished
cells into it atomically, claim each cell with a lock file before computing it
(:meth:`~botorch_demo.benchmarks.store.CellStore.claim`), and the calling
process shows progress by watching the store, so the bar counts finished cells
whatever the executor. Remote workers report no phase events (only finished
cells); the local executor also shows the phase of the running cell.

Ray and submitit are optional extras (``pip install "botorch-demo[ray]"``,
``"botorch-demo[slurm]"``); this module imports them only when one of them is
asked for.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from botorch_demo.benchmarks.store import CellKey, CellStore

#: Names accepted by ``botorch-demo bench --executor``.
EXECUTORS = ("local", "ray", "submitit")


class GroupLike(Protocol):
    """What the executor seam needs of a (task, seed) group: its cells."""

    task: str
    seed: int
    cells: Sequence[CellKey]


class FutureLike(Protocol):
    """What :func:`run_on_executor` needs from a submitted job."""

    def done(self) -> bool:
        """Whether the job finished (successfully or not)."""
        ...

    def result(self) -> Any:
        """The job's return value; raises the job's error."""
        ...


class ExecutorLike(Protocol):
    """Anything with ``submit(fn, *args)``: concurrent.futures, submitit, Ray (below)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> FutureLike:
        """Run ``fn(*args)`` somewhere; return a future-like object."""
        ...


class CellFailed(RuntimeError):
    """A benchmark cell (or the group that would have computed it) failed.

    The message names the cell(s), the host and the original error; it survives
    pickling (one string argument), so it travels back from Ray and SLURM jobs.
    """


def run_on_executor(
    jobs: Sequence[GroupLike],
    run: Callable[[Any], dict[CellKey, dict[str, Any]]],
    executor: ExecutorLike,
    store: CellStore,
    on_cell: Callable[[CellKey], None] | None = None,
    poll: float = 0.5,
) -> dict[CellKey, dict[str, Any]]:
    """Submit every group to ``executor`` and wait, reporting cells as they land in the store.

    Args:
        jobs: The pending groups.
        run: The picklable function a worker calls on one group; it returns the
            records of the cells it computed (the harness passes
            :func:`~botorch_demo.benchmarks.group.run_group_remote`).
        executor: Any object with ``submit(fn, *args)`` (see :class:`ExecutorLike`).
        store: The run's cell store (watched for finished cells).
        on_cell: Called once per pending cell found finished, in the calling process.
        poll: Seconds between looks at the futures and the store.

    Returns:
        The records of the cells computed by the workers.

    Raises:
        CellFailed: After every group ended, if one or more failed; the message
            names the failed groups' unfinished cells and the errors. The
            finished cells stay in the store.
    """
    on_cell = on_cell or (lambda key: None)
    futures = [(job, executor.submit(run, job)) for job in jobs]
    waiting = {key for job in jobs for key in job.cells}
    computed: dict[CellKey, dict[str, Any]] = {}
    errors: list[str] = []

    def collect() -> None:
        for key in sorted(waiting):
            if store.json_path(key).is_file():
                waiting.discard(key)
                on_cell(key)

    pending = list(futures)
    while pending:
        still = []
        for job, future in pending:
            if not future.done():
                still.append((job, future))
                continue
            try:
                computed.update(future.result())
            except Exception as err:
                errors.append(_describe_failure(job, err, store))
        pending = still
        collect()
        if pending:
            time.sleep(poll)
    collect()
    if errors:
        raise CellFailed("\n".join(errors))
    return computed


def _describe_failure(job: GroupLike, err: BaseException, store: CellStore) -> str:
    unfinished = [str(k) for k in job.cells if not store.json_path(k).is_file()]
    text = str(err).strip() or type(err).__name__
    marker = "CellFailed: "
    if marker in text:
        # Ray and submitit put the remote traceback first; the message is last.
        return text[text.rindex(marker) + len(marker) :].strip()
    if isinstance(err, CellFailed):
        return text
    return (
        f"Benchmark group {job.task}/seed{job.seed} failed (unfinished cells: "
        f"{', '.join(unfinished) or 'none'}): {type(err).__name__}: {text}"
    )


# ----------------------------------------------------------------------- Ray
def _ray_call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class RayExecutor:
    """``submit(fn, *args)`` as one Ray task with fixed resources (Ray schedules them).

    Args:
        address: A running cluster (``"auto"``, ``"ray://host:10001"``, ...);
            ``None`` starts a local Ray instance, shut down by :meth:`shutdown`.
        cpus_per_task: CPUs of each task (``num_cpus``).
        gpus_per_task: GPUs of each task (``num_gpus``; Ray sets
            ``CUDA_VISIBLE_DEVICES`` for it).
        init_kwargs: Extra :func:`ray.init` arguments, e.g. ``num_cpus=2`` for
            the size of a local instance.

    Raises:
        ImportError: When Ray is not installed (``pip install "botorch-demo[ray]"``).
    """

    def __init__(
        self,
        address: str | None = None,
        cpus_per_task: float = 1,
        gpus_per_task: float = 0,
        **init_kwargs: Any,
    ) -> None:
        ray = _import_extra("ray", "ray")
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            if address is not None:
                kwargs["address"] = address
            kwargs.update(init_kwargs)
            ray.init(**kwargs)
        self._remote = ray.remote(_ray_call).options(
            num_cpus=cpus_per_task, num_gpus=gpus_per_task, max_retries=0
        )

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        """Run ``fn(*args)`` as a Ray task; return a :class:`concurrent.futures.Future`."""
        return self._remote.remote(fn, *args).future()

    def shutdown(self, wait: bool = True) -> None:
        """Shut down the local Ray instance if this executor started it."""
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


# ------------------------------------------------------------------ submitit
def submitit_executor(
    folder: str | Path,
    partition: str | None = None,
    time_min: int = 60,
    cpus_per_cell: int = 1,
    gpus_per_cell: int = 0,
    cluster: str | None = None,
) -> Any:
    """A ``submitit.AutoExecutor``: SLURM when ``sbatch`` is available, else local jobs.

    Args:
        folder: Folder of submitit's logs and pickles (on the shared file system).
        partition: SLURM partition.
        time_min: Time limit of one (task, seed) job, in minutes.
        cpus_per_cell: CPUs per job (its torch threads).
        gpus_per_cell: GPUs per job.
        cluster: Force ``"slurm"``, ``"local"`` or ``"debug"`` (submitit's names).

    Raises:
        ImportError: When submitit is not installed (``pip install "botorch-demo[slurm]"``).
    """
    submitit = _import_extra("submitit", "slurm")
    executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    params: dict[str, Any] = {
        "name": "botorch-demo-bench",
        "timeout_min": int(time_min),
        "cpus_per_task": int(cpus_per_cell),
        "gpus_per_node": int(gpus_per_cell),
        "tasks_per_node": 1,
        "nodes": 1,
    }
    if partition:
        params["slurm_partition"] = partition
    executor.update_parameters(**params)
    return executor


def parse_slurm_time(text: str) -> int:
    """Minutes from ``"90"``, ``"1:30:00"`` (h:mm:ss) or ``"2-00:00:00"`` (d-hh:mm:ss).

    Raises:
        ValueError: For anything else, or a non-positive time.
    """
    try:
        days, rest = 0, text.strip()
        if "-" in rest:
            d, rest = rest.split("-", 1)
            days = int(d)
        parts = [int(p) for p in rest.split(":")]
        if len(parts) == 1 and not days:
            minutes = parts[0]
        elif len(parts) == 3:
            minutes = parts[0] * 60 + parts[1] + (1 if parts[2] > 0 else 0)
        else:
            raise ValueError
        if min(parts) < 0 or days < 0:
            raise ValueError
        minutes += days * 24 * 60
    except ValueError:
        raise ValueError(
            f"--slurm-time must be minutes, h:mm:ss or d-hh:mm:ss, got {text!r}."
        ) from None
    if minutes < 1:
        raise ValueError(f"--slurm-time must be at least one minute, got {text!r}.")
    return minutes


def _import_extra(module: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError:
        raise ImportError(
            f"The {module!r} executor needs the {extra!r} extra: "
            f'pip install "botorch-demo[{extra}]".'
        ) from None


@contextmanager
def make_executor(
    name: str,
    *,
    out: str | Path,
    ray_address: str | None = None,
    cpus_per_cell: int = 1,
    gpus_per_cell: int = 0,
    slurm_partition: str | None = None,
    slurm_time: str = "60",
    log_folder: str | Path | None = None,
) -> Iterator[ExecutorLike | None]:
    """The executor named on the command line; ``None`` for ``local`` (the built-in runner).

    Args:
        name: ``"local"``, ``"ray"`` or ``"submitit"``.
        out: The benchmark's output folder (submitit's logs go to ``out/submitit``
            unless ``log_folder`` is given).
        ray_address: Ray cluster address; ``None`` starts a local instance.
        cpus_per_cell: CPUs per (task, seed) task or job.
        gpus_per_cell: GPUs per task or job.
        slurm_partition: SLURM partition.
        slurm_time: SLURM time limit per job (see :func:`parse_slurm_time`).
        log_folder: submitit's folder.

    Raises:
        ValueError: For an unknown name or bad resources.
        ImportError: When the extra is not installed.
    """
    if name not in EXECUTORS:
        raise ValueError(f"Unknown executor {name!r}; known: {', '.join(EXECUTORS)}.")
    if cpus_per_cell < 1 or gpus_per_cell < 0:
        raise ValueError(
            f"--cpus-per-cell must be >= 1 and --gpus-per-cell >= 0, got {cpus_per_cell} "
            f"and {gpus_per_cell}."
        )
    if name == "local":
        yield None
    elif name == "ray":
        executor = RayExecutor(
            ray_address, cpus_per_task=cpus_per_cell, gpus_per_task=gpus_per_cell
        )
        try:
            yield executor
        finally:
            executor.shutdown()
    else:
        folder = Path(log_folder) if log_folder else Path(out).expanduser() / "submitit"
        yield submitit_executor(
            folder,
            partition=slurm_partition,
            time_min=parse_slurm_time(slurm_time),
            cpus_per_cell=cpus_per_cell,
            gpus_per_cell=gpus_per_cell,
        )


def worker_identity() -> dict[str, Any]:
    """Host and process of this worker, stored in cell locks and records."""
    return {"host": socket.gethostname(), "pid": os.getpid()}
