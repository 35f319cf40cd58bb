"""Run independent jobs in this process or in worker processes, with progress events.

A job function takes ``(job, report)`` where ``report(kind, text)`` sends a
progress event (e.g. ``("phase", "fitting DEMO")`` or ``("done", "tfbind8/demo/seed0")``)
to the caller's ``on_event``. With ``workers > 1`` the jobs run in a pool of
spawned processes, each limited to ``max(1, cores // workers)`` torch threads;
events travel back through a queue and are delivered in the calling process.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import queue as queue_lib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from botorch_demo.runtime import set_threads, threads_per_worker

J = TypeVar("J")
Report = Callable[[str, str], None]
EventHandler = Callable[[str, str], None]

_QUEUE: Any = None


def _init_worker(threads: int, events: Any) -> None:
    global _QUEUE
    set_threads(threads)
    _QUEUE = events


def _report_to_queue(kind: str, text: str) -> None:
    _QUEUE.put((kind, text))


def _call_in_worker(fn: Callable[[Any, Report], Any], job: Any) -> Any:
    return fn(job, _report_to_queue)


def _drain(events: Any, on_event: EventHandler, timeout: float) -> None:
    try:
        item = events.get(timeout=timeout)
    except queue_lib.Empty:
        return
    while True:
        on_event(*item)
        try:
            item = events.get_nowait()
        except queue_lib.Empty:
            return


def run_jobs(
    jobs: Sequence[J],
    fn: Callable[[J, Report], Any],
    workers: int = 1,
    on_event: EventHandler | None = None,
) -> list[Any]:
    """Run ``fn(job, report)`` for every job; return the results in job order.

    Args:
        jobs: Independent jobs (picklable when ``workers > 1``).
        fn: A module-level function (picklable when ``workers > 1``).
        workers: Processes; 1 runs everything here, with this process's threads.
        on_event: Receives ``(kind, text)`` progress events.

    Returns:
        The results of ``fn``, in the order of ``jobs``.

    Raises:
        Exception: The first job failure, after the other running jobs finished
            (their finished work is kept by ``fn``).
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}.")
    handler: EventHandler = on_event or (lambda kind, text: None)
    if workers == 1 or len(jobs) <= 1:
        return [fn(job, handler) for job in jobs]
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        events = manager.Queue()
        with cf.ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)),
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(threads_per_worker(workers), events),
        ) as pool:
            futures = [pool.submit(_call_in_worker, fn, job) for job in jobs]
            pending = set(futures)
            while pending:
                _drain(events, handler, timeout=0.2)
                pending = {f for f in pending if not f.done()}
            _drain(events, handler, timeout=0.05)
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                raise errors[0]
            return [f.result() for f in futures]
