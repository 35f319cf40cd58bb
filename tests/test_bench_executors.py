"""Executors (local, Ray, submitit) and the cell store as the shared state of a run.

The Ray and submitit tests use the real engines (a local Ray instance, submitit's
``LocalExecutor`` job processes); they are skipped when the extra is missing.
"""

import concurrent.futures as cf
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from botorch_demo.benchmarks.executors import (
    CellFailed,
    RayExecutor,
    make_executor,
    parse_slurm_time,
)
from botorch_demo.benchmarks.group import GroupJob, run_group
from botorch_demo.benchmarks.harness import run_benchmark
from botorch_demo.benchmarks.methods import Method, MethodOutput
from botorch_demo.benchmarks.profiles import get_profile
from botorch_demo.benchmarks.store import CellKey, CellStore

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["tfbind8", "levy"]
METHOD_NAMES = ["demo", "grad"]
SEEDS = 2
KEYS = sorted(CellKey(t, m, s) for t in TASKS for m in METHOD_NAMES for s in range(SEEDS))
KW = dict(tasks=TASKS, methods=METHOD_NAMES, seeds=SEEDS, profile="smoke", progress=False)


# ------------------------------------------------------------------ fast tests
def test_core_package_does_not_import_the_extras() -> None:
    code = (
        "import sys, botorch_demo, botorch_demo.cli, botorch_demo.benchmarks.harness, "
        "botorch_demo.benchmarks.executors, botorch_demo.benchmarks.sweep; "
        "bad = sorted({'ray', 'submitit'} & set(sys.modules)); "
        "assert not bad, bad"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def test_slurm_time() -> None:
    assert parse_slurm_time("90") == 90
    assert parse_slurm_time("1:30:00") == 90
    assert parse_slurm_time("1:30:10") == 91
    assert parse_slurm_time("1-00:00:00") == 1440


@pytest.mark.parametrize("bad", ["", "0", "1:30", "a", "-5", "1:-3:00"])
def test_bad_slurm_times_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="slurm-time"):
        parse_slurm_time(bad)


def test_executor_names_and_resources() -> None:
    with make_executor("local", out="unused") as ex:
        assert ex is None
    with pytest.raises(ValueError, match="known: local, ray, submitit"):
        with make_executor("dask", out="unused"):
            pass
    with pytest.raises(ValueError, match="cpus-per-cell"):
        with make_executor("ray", out="unused", cpus_per_cell=0):
            pass


def test_a_failing_cell_is_named(tmp_path, temp_method) -> None:
    def boom(ctx):
        raise RuntimeError("out of memory, say")

    temp_method(Method("boom-test", "Boom", "fails", (), boom))
    kw = dict(tasks=["levy"], methods=["boom-test"], seeds=1, profile="smoke", progress=False)
    msg = r"levy/boom-test/seed0 failed on .*RuntimeError: out of memory, say"
    with pytest.raises(CellFailed, match=msg):
        run_benchmark(out=tmp_path / "local", **kw)
    with cf.ThreadPoolExecutor(1) as pool, pytest.raises(CellFailed, match=msg):
        run_benchmark(out=tmp_path / "pool", executor=pool, **kw)
    # Nothing half-done: no cell, no lock left behind.
    assert list((tmp_path / "pool").rglob("*.lock")) == []
    assert not CellStore(tmp_path / "pool").json_path(CellKey("levy", "boom-test", 0)).exists()


def test_two_workers_on_one_group_write_each_cell_once(tmp_path, temp_method) -> None:
    def slow(ctx):
        time.sleep(0.3)
        return MethodOutput(ctx.task.train_X[: ctx.q].clone())

    names = ("slow-a-test", "slow-b-test")
    for name in names:
        temp_method(Method(name, name, "slow", (), slow))
    cells = tuple(CellKey("levy", n, 0) for n in names)
    job = GroupJob(cells, get_profile("smoke"), str(tmp_path))
    with cf.ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(run_group, job, lambda kind, text: None) for _ in range(2)]
        computed = [key for run in runs for key in run.result()]
    assert sorted(computed) == list(cells)
    assert list(tmp_path.rglob("*.lock")) == []


def test_a_group_holds_the_cells_of_one_task_and_seed() -> None:
    with pytest.raises(ValueError, match="one task and seed"):
        GroupJob((CellKey("levy", "grad", 0), CellKey("levy", "grad", 1)), None, "unused")


def test_any_executor_with_submit(tmp_path, temp_method) -> None:
    def ok(ctx):
        return MethodOutput(ctx.task.train_X[: ctx.q].clone())

    temp_method(Method("top-test", "Top", "offline rows", (), ok))
    with cf.ThreadPoolExecutor(2) as pool:
        result = run_benchmark(
            tasks=["levy"],
            methods=["top-test"],
            seeds=2,
            profile="smoke",
            out=tmp_path,
            progress=False,
            executor=pool,
        )
    assert sorted(result.computed) == [CellKey("levy", "top-test", s) for s in (0, 1)]
    assert result.results["cells"][0]["executor"] == "ThreadPoolExecutor"


@pytest.mark.slow
def test_a_local_ray_instance_is_started_and_shut_down() -> None:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("Ray already running in this process")
    with make_executor("ray", out="unused") as ex:
        assert ray.is_initialized()
        assert ex.submit(sum, [1, 2]).result(timeout=120) == 3
    assert not ray.is_initialized()


# ------------------------------------------------------------------ slow tests
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One local run (one thread) of the smoke cells; the executors must match it."""
    tmp = tmp_path_factory.mktemp("executors")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = run_benchmark(out=tmp / "local", **KW)
    finally:
        torch.set_num_threads(threads)
    return tmp, result


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance with 2 CPUs for the module (its start takes seconds)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def check_against_reference(reference, assert_same_cells, result, out, executor) -> None:
    tmp, ref = reference
    assert sorted(result.computed) == KEYS
    assert_same_cells(CellStore(tmp / "local"), CellStore(out), KEYS)
    for ours, theirs in zip(result.results["summary"], ref.results["summary"], strict=True):
        for metric in ("p100_mean", "p50_mean", "proportion_above_d_best_mean"):
            assert ours[metric] == theirs[metric], f"{ours['task']} {ours['method']}"
    used = {(c["executor"], c["device"], c["torch_threads"]) for c in result.results["cells"]}
    assert used == {(executor, "cpu", 1)}


@pytest.mark.slow
def test_ray_gives_the_local_results(reference, ray_instance, assert_same_cells) -> None:
    out = reference[0] / "ray"
    assert ray_instance.cluster_resources()["CPU"] == 2
    with RayExecutor(cpus_per_task=1) as ex:
        result = run_benchmark(out=out, executor=ex, threads_per_cell=1, **KW)
    assert ray_instance.is_initialized(), "an executor shuts down only a Ray it started"
    check_against_reference(reference, assert_same_cells, result, out, "RayExecutor")


@pytest.mark.slow
def test_a_failing_remote_cell_is_named(reference, ray_instance) -> None:
    out = reference[0] / "ray-fails"
    (out / "cells" / "levy").mkdir(parents=True)
    (out / "cells" / "levy" / "grad").write_text("a file where a folder should be")
    kw = dict(KW, tasks=["levy"], methods=["grad"], seeds=1)
    with RayExecutor(cpus_per_task=1) as ex, pytest.raises(CellFailed) as caught:
        run_benchmark(out=out, executor=ex, **kw)
    # The message starts with the cell, not with Ray's remote traceback.
    message = str(caught.value)
    assert message.startswith("Benchmark cell levy/grad/seed0: cannot create"), message


@pytest.mark.slow
def test_submitit_local_jobs_give_the_local_results(reference, assert_same_cells) -> None:
    submitit = pytest.importorskip("submitit")
    tmp = reference[0]
    out = tmp / "submitit"
    ex = submitit.LocalExecutor(folder=tmp / "submitit-logs")
    ex.update_parameters(timeout_min=10)
    result = run_benchmark(out=out, executor=ex, threads_per_cell=1, **KW)
    check_against_reference(reference, assert_same_cells, result, out, "LocalExecutor")
    # One job (one pickled call, its own process) per (task, seed) group.
    assert len(list((tmp / "submitit-logs").glob("*_result.pkl"))) == 4


@pytest.mark.slow
def test_a_killed_run_resumes_on_another_executor(
    reference, ray_instance, assert_same_cells
) -> None:
    tmp = reference[0]
    out = tmp / "killed"
    cmd = [sys.executable, "-m", "botorch_demo", "bench", "--out", str(out)]
    cmd += ["--task", "tfbind8,levy", "--methods", "demo,grad", "--seeds", "2"]
    cmd += ["--profile", "smoke", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = CellStore(out)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if sum(store.json_path(k).is_file() for k in KEYS) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = [k for k in KEYS if store.json_path(k).is_file()]
    assert len(finished) >= 2
    assert len(finished) < len(KEYS), "the run ended before it was killed"
    mtimes = {k: store.json_path(k).stat().st_mtime_ns for k in finished}
    with RayExecutor(cpus_per_task=1) as ex:
        result = run_benchmark(out=out, executor=ex, threads_per_cell=1, **KW)
    assert sorted(result.skipped) == finished
    assert sorted(result.computed) == sorted(set(KEYS) - set(finished))
    for k in finished:
        assert store.json_path(k).stat().st_mtime_ns == mtimes[k], str(k)
    assert_same_cells(CellStore(tmp / "local"), store, KEYS)
    # The killed worker's lock (a dead process) was broken; none is left.
    assert list(out.rglob("*.lock")) == []


@pytest.mark.slow
def test_corrupt_cells_are_recomputed_and_reported(
    reference, caplog, flip_bytes, assert_same_cells, one_thread
) -> None:
    tmp = reference[0]
    out = tmp / "corrupt"
    shutil.copytree(tmp / "local", out)
    store = CellStore(out)
    truncated, flipped, edited = (
        CellKey("levy", "demo", 0),
        CellKey("tfbind8", "grad", 1),
        CellKey("levy", "grad", 1),
    )
    path = store.tensor_path(truncated)
    path.write_bytes(path.read_bytes()[:1000])
    flip_bytes(store.tensor_path(flipped))
    record = json.loads(store.json_path(edited).read_text())
    record["p100"] = 10.0
    store.json_path(edited).write_text(json.dumps(record, indent=2))
    with caplog.at_level("WARNING", logger="botorch_demo.benchmarks.harness"):
        with pytest.warns(UserWarning, match="recomputing"):
            result = run_benchmark(out=out, **KW)
    bad = sorted([truncated, flipped, edited])
    assert sorted(k for k, _ in result.corrupt) == bad
    assert sorted(result.computed) == bad
    for key in bad:
        assert any(str(key) in line for line in caplog.messages), str(key)
    assert_same_cells(CellStore(tmp / "local"), store, KEYS)
    assert result.files["distributions"].is_file()
