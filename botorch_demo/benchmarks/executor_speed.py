"""Measure the executors: the same benchmark cells locally and on Ray, and the overhead per cell.

    python -m botorch_demo.benchmarks.executor_speed --profile smoke --methods demo,grad

Prints (and returns) wall times of one run of the cells with

* ``local``: the built-in runner, in this process and with ``--cpus`` worker
  processes (one torch thread each);
* ``ray``: a local Ray instance with ``--cpus`` CPUs, one CPU per group (the
  instance's start counted separately);

and the scheduling overhead per cell of Ray and submitit's ``LocalExecutor``:
the mean round trip of a call that does nothing (``time.time``), submitted and
awaited one at a time, and the round trip of a group whose cells are all
finished (the worker imports the package, loads the task and checks the store).
Needs the ``ray`` and ``slurm`` extras.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from botorch_demo.benchmarks.executors import RayExecutor
from botorch_demo.benchmarks.group import GroupJob, run_group_remote
from botorch_demo.benchmarks.harness import run_benchmark
from botorch_demo.benchmarks.profiles import get_profile


def _round_trips(executor: Any, fn: Any, args: tuple, n: int) -> float:
    """Mean seconds from submit to result, one call at a time."""
    tic = time.perf_counter()
    for _ in range(n):
        executor.submit(fn, *args).result()
    return (time.perf_counter() - tic) / n


def _overheads(executor: Any, name: str, job: GroupJob, n: int) -> dict[str, float]:
    """Round trips of a no-op call and of a group whose cells are all finished."""
    return {
        f"{name}_noop_round_trip_s": _round_trips(executor, time.time, (), n),
        f"{name}_finished_group_round_trip_s": _round_trips(executor, run_group_remote, (job,), n),
    }


def measure(
    tasks: list[str], methods: str, seeds: int, profile: str, cpus: int, n: int
) -> dict[str, float]:
    """Run the measurements; see the module docstring.

    Returns:
        Seconds per measurement.
    """
    import submitit

    tmp = Path(tempfile.mkdtemp())
    kw = dict(tasks=tasks, methods=methods, seeds=seeds, profile=profile, progress=False)
    out: dict[str, float] = {}
    try:
        torch.set_num_threads(1)
        tic = time.perf_counter()
        local = run_benchmark(out=tmp / "local", **kw)
        out["local_1_process_wall_s"] = time.perf_counter() - tic
        out["cells"] = len(local.computed)
        first = tuple(k for k in local.computed if (k.task, k.seed) == (tasks[0], 0))
        tic = time.perf_counter()
        run_benchmark(out=tmp / "local-workers", workers=cpus, **kw)
        out[f"local_{cpus}_workers_wall_s"] = time.perf_counter() - tic

        tic = time.perf_counter()
        ray_ex = RayExecutor(cpus_per_task=1, num_cpus=cpus)
        out["ray_start_s"] = time.perf_counter() - tic
        try:
            tic = time.perf_counter()
            run_benchmark(out=tmp / "ray", executor=ray_ex, threads_per_cell=1, **kw)
            out["ray_wall_s"] = time.perf_counter() - tic
            job = GroupJob(first, get_profile(profile), str(tmp / "ray"))
            out.update(_overheads(ray_ex, "ray", job, n))
        finally:
            ray_ex.shutdown()

        sub = submitit.LocalExecutor(folder=tmp / "submitit")
        sub.update_parameters(timeout_min=10)
        job = GroupJob(first, get_profile(profile), str(tmp / "local"))
        out.update(_overheads(sub, "submitit_local", job, n))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", default="tfbind8,levy")
    p.add_argument("--methods", default="demo,grad")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--profile", default="smoke")
    p.add_argument(
        "--cpus", type=int, default=2, help="CPUs of the local Ray instance and local workers"
    )
    p.add_argument("--n", type=int, default=5, help="round trips per overhead measurement")
    args = p.parse_args(argv)
    result = measure(
        args.task.split(","),
        args.methods,
        args.seeds,
        args.profile,
        args.cpus,
        args.n,
    )
    for key, value in result.items():
        print(f"{key:45s} {value:9.3f}")
    return result


if __name__ == "__main__":
    main()
