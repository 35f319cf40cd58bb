"""Executors (local, Ray, submitit) and the cell store as the shared state of a run.

The Ray and submitit tests use the real engines (a local Ray instance, submitit's
``LocalExecutor`` job processes); they are skipped when the extra is missing.
"""

import concurrent.futures as cf
import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo.benchmarks.executors import (
    CellFailed,
    RayExecutor,
    make_executor,
    parse_slurm_time,
)
from botorch_demo.benchmarks.harness import run_benchmark
from botorch_demo.benchmarks.methods import METHODS, Method, MethodOutput, register_method
from botorch_demo.benchmarks.store import CellKey, CellStore, CorruptCell, file_mode

ROOT = Path(__file__).resolve().parents[1]
TASKS = ["tfbind8", "levy"]
METHOD_NAMES = ["demo", "grad"]
SEEDS = 2
KEYS = sorted(CellKey(t, m, s) for t in TASKS for m in METHOD_NAMES for s in range(SEEDS))
METRICS = ("p100", "p50", "proportion_above_d_best", "n_distinct", "d_best", "q")


def fake_cell(store: CellStore, key: CellKey) -> None:
    """Store a small cell without training anything."""
    g = torch.Generator().manual_seed(key.seed)
    tensors = {
        "candidates": torch.rand(8, 3, generator=g, dtype=torch.float64),
        "y": torch.rand(8, generator=g, dtype=torch.float64),
        "y_normalized": torch.rand(8, generator=g, dtype=torch.float64),
        "predicted": None,
    }
    record = {"task": key.task, "method": key.method, "seed": key.seed, "fingerprint": "fp"}
    record["p100"] = 0.75
    store.save(key, record, tensors)


def flip_bytes(path: Path, offset_from_end: int = 300, n: int = 16) -> None:
    data = bytearray(path.read_bytes())
    start = len(data) - offset_from_end
    for i in range(start, start + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def assert_same_cells(test: BotorchTestCase, a: CellStore, b: CellStore, keys) -> None:
    """Bit-identical candidates, scores, predictions and metrics."""
    for key in keys:
        ta, tb = a.load_tensors(key), b.load_tensors(key)
        for name in ("candidates", "y", "y_normalized", "predicted"):
            if ta[name] is None:
                test.assertIsNone(tb[name], f"{key} {name}")
            else:
                test.assertTrue(torch.equal(ta[name], tb[name]), f"{key} {name}")
        ra, rb = a.load_record(key), b.load_record(key)
        for metric in METRICS:
            test.assertEqual(ra[metric], rb[metric], f"{key} {metric}")


# ------------------------------------------------------------------ fast tests
class TestCellStoreIntegrity(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp())
        self.store = CellStore(self.tmp)
        self.key = CellKey("levy", "grad", 0)
        fake_cell(self.store, self.key)

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def test_a_fresh_cell_verifies(self) -> None:
        self.assertEqual(self.store.status(self.key, "fp"), "done")
        self.assertEqual(self.store.status(self.key, "other"), "other-profile")
        self.assertEqual(self.store.status(CellKey("levy", "demo", 0), "fp"), "missing")
        self.assertEqual(self.store.verify(self.key)["p100"], 0.75)

    def test_store_files_have_the_mode_of_normal_files(self) -> None:
        umask = os.umask(0o022)
        os.umask(umask)
        self.assertEqual(file_mode(), 0o666 & ~umask)
        for path in (self.store.json_path(self.key), self.store.tensor_path(self.key)):
            self.assertEqual(path.stat().st_mode & 0o777, file_mode(), str(path))

    def test_truncated_tensors_are_detected_and_named(self) -> None:
        path = self.store.tensor_path(self.key)
        path.write_bytes(path.read_bytes()[:200])
        status = self.store.status(self.key, "fp")
        self.assertTrue(status.startswith("corrupt"), status)
        self.assertIn("seed0.pt", status)
        with self.assertRaisesRegex(CorruptCell, "levy/grad/seed0"):
            self.store.load_tensors(self.key)

    def test_flipped_bytes_are_detected(self) -> None:
        flip_bytes(self.store.tensor_path(self.key))
        self.assertIn("does not match its hash", self.store.status(self.key, "fp"))

    def test_an_edited_metric_is_detected(self) -> None:
        path = self.store.json_path(self.key)
        record = json.loads(path.read_text())
        record["p100"] = 0.99
        path.write_text(json.dumps(record, indent=2))
        self.assertIn("edited", self.store.status(self.key, "fp"))

    def test_unreadable_or_unhashed_records_are_corrupt(self) -> None:
        path = self.store.json_path(self.key)
        record = json.loads(path.read_text())
        del record["integrity"]
        path.write_text(json.dumps(record))
        self.assertIn("no integrity hashes", self.store.status(self.key, "fp"))
        path.write_text('{"task": "le')
        self.assertIn("unreadable", self.store.status(self.key, "fp"))
        self.store.tensor_path(self.key).unlink()
        fake_cell(self.store, self.key)
        self.store.tensor_path(self.key).unlink()
        self.assertIn("unreadable", self.store.status(self.key, "fp"))

    def test_the_m_sweep_checks_its_groups_too(self) -> None:
        from botorch_demo.benchmarks.store import save_cell_files
        from botorch_demo.benchmarks.sweep import _is_done, _paths

        json_path, pt_path = _paths(self.tmp, "levy", 0)
        record = {"fingerprint": "fp", "by_m": {"0": {}, "100": {}}}
        save_cell_files(json_path, pt_path, record, {"candidates": torch.zeros(2, 3, 4)})
        self.assertTrue(_is_done(self.tmp, "levy", 0, "fp", [0, 100]))
        flip_bytes(pt_path, offset_from_end=100, n=4)
        with pytest.warns(UserWarning, match="levy/seed0 .* corrupt"):
            self.assertFalse(_is_done(self.tmp, "levy", 0, "fp", [0, 100]))


class TestCellLocks(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.tmp = Path(tempfile.mkdtemp())
        self.key = CellKey("levy", "demo", 1)

    def tearDown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        super().tearDown()

    def test_one_claim_at_a_time(self) -> None:
        store = CellStore(self.tmp)
        lock = store.claim(self.key, {"executor": "test"})
        self.assertIsNotNone(lock)
        owner = store.lock_owner(self.key)
        self.assertEqual((owner["pid"], owner["executor"]), (os.getpid(), "test"))
        self.assertIsNone(store.claim(self.key))
        lock.release()
        self.assertIsNone(store.lock_owner(self.key))
        again = store.claim(self.key)
        self.assertIsNotNone(again)
        again.release()

    def test_racing_claims_have_one_winner(self) -> None:
        store = CellStore(self.tmp)
        barrier = threading.Barrier(8)
        won = []

        def claim() -> None:
            barrier.wait()
            lock = store.claim(self.key)
            if lock is not None:
                won.append(lock)

        threads = [threading.Thread(target=claim) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(won), 1)
        won[0].release()

    def test_a_dead_owner_is_stale(self) -> None:
        store = CellStore(self.tmp)
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        path = store.lock_path(self.key)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"host": os.uname().nodename, "pid": dead.pid, "token": "x"}))
        lock = store.claim(self.key)
        self.assertIsNotNone(lock)
        self.assertEqual(store.lock_owner(self.key)["pid"], os.getpid())
        lock.release()

    def test_an_old_lock_from_another_host_is_stale_and_a_fresh_one_is_not(self) -> None:
        store = CellStore(self.tmp, stale_after=30)
        path = store.lock_path(self.key)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"host": "elsewhere", "pid": 1, "token": "x"}))
        self.assertIsNone(store.claim(self.key))
        old = time.time() - 60
        os.utime(path, (old, old))
        lock = store.claim(self.key)
        self.assertIsNotNone(lock)
        lock.release()

    def test_the_heartbeat_keeps_a_held_lock_fresh(self) -> None:
        store = CellStore(self.tmp, heartbeat=0.05)
        lock = store.claim(self.key)
        old = time.time() - 1000
        os.utime(store.lock_path(self.key), (old, old))
        time.sleep(0.3)
        self.assertGreater(store.lock_path(self.key).stat().st_mtime, old + 900)
        lock.release()


class TestExecutorParts(BotorchTestCase):
    @pytest.mark.slow
    def test_a_local_ray_instance_is_started_and_shut_down(self) -> None:
        ray = pytest.importorskip("ray")
        if ray.is_initialized():
            self.skipTest("Ray already running in this process")
        with make_executor("ray", out="unused") as ex:
            self.assertTrue(ray.is_initialized())
            self.assertEqual(ex.submit(sum, [1, 2]).result(timeout=120), 3)
        self.assertFalse(ray.is_initialized())

    def test_core_package_does_not_import_the_extras(self) -> None:
        code = (
            "import sys, botorch_demo, botorch_demo.cli, botorch_demo.benchmarks.harness, "
            "botorch_demo.benchmarks.executors, botorch_demo.benchmarks.sweep; "
            "bad = sorted({'ray', 'submitit'} & set(sys.modules)); "
            "assert not bad, bad"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
        self.assertEqual(done.returncode, 0, done.stderr.decode())

    def test_slurm_time(self) -> None:
        self.assertEqual(parse_slurm_time("90"), 90)
        self.assertEqual(parse_slurm_time("1:30:00"), 90)
        self.assertEqual(parse_slurm_time("1:30:10"), 91)
        self.assertEqual(parse_slurm_time("1-00:00:00"), 1440)
        for bad in ("", "0", "1:30", "a", "-5", "1:-3:00"):
            with self.assertRaisesRegex(ValueError, "slurm-time"):
                parse_slurm_time(bad)

    def test_executor_names_and_resources(self) -> None:
        with make_executor("local", out="unused") as ex:
            self.assertIsNone(ex)
        with self.assertRaisesRegex(ValueError, "known: local, ray, submitit"):
            with make_executor("dask", out="unused"):
                pass
        with self.assertRaisesRegex(ValueError, "cpus-per-cell"):
            with make_executor("ray", out="unused", cpus_per_cell=0):
                pass

    def test_cli_executor_options(self) -> None:
        from botorch_demo.cli import build_parser, main

        argv = ["bench", "--executor", "submitit", "--slurm-partition", "gpu"]
        argv += ["--slurm-time", "4:00:00", "--gpus-per-cell", "1", "--cpus-per-cell", "8"]
        args = build_parser().parse_args(argv)
        self.assertEqual(
            (args.executor, args.slurm_partition, args.slurm_time, args.gpus_per_cell),
            ("submitit", "gpu", "4:00:00", 1),
        )
        self.assertEqual(build_parser().parse_args(["bench"]).executor, "local")
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        bad = ["bench", "--task", "levy", "--methods", "grad", "--seeds", "1", "--out", tmp]
        err = io.StringIO()
        with self.assertRaises(SystemExit) as ctx, contextlib.redirect_stderr(err):
            main([*bad, "--profile", "smoke", "--executor", "submitit", "--slurm-time", "1:30"])
        self.assertEqual(ctx.exception.code, 2)
        self.assertIn("slurm-time must be", err.getvalue())
        self.assertEqual(list(Path(tmp).iterdir()), [])  # refused before any work

    def test_a_failing_cell_is_named(self) -> None:
        def boom(ctx):
            raise RuntimeError("out of memory, say")

        register_method(Method("boom-test", "Boom", "fails", (), boom))
        self.addCleanup(METHODS.pop, "boom-test")
        tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, tmp, True)
        kw = dict(tasks=["levy"], methods=["boom-test"], seeds=1, profile="smoke", progress=False)
        msg = r"levy/boom-test/seed0 failed on .*RuntimeError: out of memory, say"
        with self.assertRaisesRegex(CellFailed, msg):
            run_benchmark(out=tmp / "local", **kw)
        with cf.ThreadPoolExecutor(1) as pool, self.assertRaisesRegex(CellFailed, msg):
            run_benchmark(out=tmp / "pool", executor=pool, **kw)
        # Nothing half-done: no cell, no lock left behind.
        self.assertEqual(list((tmp / "pool").rglob("*.lock")), [])
        self.assertFalse(
            CellStore(tmp / "pool").json_path(CellKey("levy", "boom-test", 0)).exists()
        )

    def test_two_workers_on_one_group_write_each_cell_once(self) -> None:
        def slow(ctx):
            time.sleep(0.3)
            return MethodOutput(ctx.task.train_X[: ctx.q].clone())

        names = ("slow-a-test", "slow-b-test")
        for name in names:
            register_method(Method(name, name, "slow", (), slow))
            self.addCleanup(METHODS.pop, name)
        tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, tmp, True)
        from botorch_demo.benchmarks.harness import GroupJob, run_group
        from botorch_demo.benchmarks.profiles import get_profile

        job = GroupJob("levy", 0, names, get_profile("smoke"), str(tmp))
        with cf.ThreadPoolExecutor(2) as pool:
            runs = [pool.submit(run_group, job, lambda kind, text: None) for _ in range(2)]
            computed = [key for run in runs for key in run.result()]
        self.assertEqual(sorted(computed), [CellKey("levy", n, 0) for n in names])
        self.assertEqual(list(tmp.rglob("*.lock")), [])

    def test_any_executor_with_submit(self) -> None:
        def ok(ctx):
            return MethodOutput(ctx.task.train_X[: ctx.q].clone())

        register_method(Method("top-test", "Top", "offline rows", (), ok))
        self.addCleanup(METHODS.pop, "top-test")
        tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, tmp, True)
        with cf.ThreadPoolExecutor(2) as pool:
            result = run_benchmark(
                tasks=["levy"],
                methods=["top-test"],
                seeds=2,
                profile="smoke",
                out=tmp,
                progress=False,
                executor=pool,
            )
        self.assertEqual(sorted(result.computed), [CellKey("levy", "top-test", s) for s in (0, 1)])
        self.assertEqual(result.results["cells"][0]["executor"], "ThreadPoolExecutor")


# ------------------------------------------------------------------ slow tests
@pytest.mark.slow
class TestExecutorsEndToEnd(BotorchTestCase):
    """One local reference run (one thread), then Ray and submitit on the same cells."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.tmp = Path(tempfile.mkdtemp())
        cls.kw = dict(
            tasks=TASKS, methods=METHOD_NAMES, seeds=SEEDS, profile="smoke", progress=False
        )
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            cls.reference = run_benchmark(out=cls.tmp / "local", **cls.kw)
        finally:
            torch.set_num_threads(threads)
        cls.ref_store = CellStore(cls.tmp / "local")
        # One local Ray instance for the class (its start takes seconds).
        cls.ray = None
        try:
            import ray
        except ImportError:
            return
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        cls.ray = ray

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.ray is not None:
            cls.ray.shutdown()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def check_against_reference(self, result, out: Path, executor: str) -> None:
        self.assertEqual(sorted(result.computed), KEYS)
        assert_same_cells(self, self.ref_store, CellStore(out), KEYS)
        for ours, ref in zip(
            result.results["summary"], self.reference.results["summary"], strict=True
        ):
            for metric in ("p100_mean", "p50_mean", "proportion_above_d_best_mean"):
                self.assertEqual(ours[metric], ref[metric], f"{ours['task']} {ours['method']}")
        used = {(c["executor"], c["device"], c["torch_threads"]) for c in result.results["cells"]}
        self.assertEqual(used, {(executor, "cpu", 1)})

    def test_ray_gives_the_local_results(self) -> None:
        ray = pytest.importorskip("ray")
        out = self.tmp / "ray"
        self.assertEqual(ray.cluster_resources()["CPU"], 2)
        with RayExecutor(cpus_per_task=1) as ex:
            result = run_benchmark(out=out, executor=ex, threads_per_cell=1, **self.kw)
        self.assertTrue(ray.is_initialized(), "an executor shuts down only a Ray it started")
        self.check_against_reference(result, out, "RayExecutor")

    def test_a_failing_remote_cell_is_named(self) -> None:
        pytest.importorskip("ray")
        out = self.tmp / "ray-fails"
        (out / "cells" / "levy").mkdir(parents=True)
        (out / "cells" / "levy" / "grad").write_text("a file where a folder should be")
        kw = dict(self.kw, tasks=["levy"], methods=["grad"], seeds=1)
        with RayExecutor(cpus_per_task=1) as ex, self.assertRaises(CellFailed) as caught:
            run_benchmark(out=out, executor=ex, **kw)
        # The message starts with the cell, not with Ray's remote traceback.
        message = str(caught.exception)
        self.assertTrue(
            message.startswith("Benchmark cell levy/grad/seed0: cannot create"), message
        )

    def test_submitit_local_jobs_give_the_local_results(self) -> None:
        submitit = pytest.importorskip("submitit")
        out = self.tmp / "submitit"
        ex = submitit.LocalExecutor(folder=self.tmp / "submitit-logs")
        ex.update_parameters(timeout_min=10)
        result = run_benchmark(out=out, executor=ex, threads_per_cell=1, **self.kw)
        self.check_against_reference(result, out, "LocalExecutor")
        # One job (one pickled call, its own process) per (task, seed) group.
        self.assertEqual(len(list((self.tmp / "submitit-logs").glob("*_result.pkl"))), 4)

    def test_a_killed_run_resumes_on_another_executor(self) -> None:
        pytest.importorskip("ray")
        out = self.tmp / "killed"
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
        self.assertGreaterEqual(len(finished), 2)
        self.assertLess(len(finished), len(KEYS), "the run ended before it was killed")
        mtimes = {k: store.json_path(k).stat().st_mtime_ns for k in finished}
        with RayExecutor(cpus_per_task=1) as ex:
            result = run_benchmark(out=out, executor=ex, threads_per_cell=1, **self.kw)
        self.assertEqual(sorted(result.skipped), finished)
        self.assertEqual(sorted(result.computed), sorted(set(KEYS) - set(finished)))
        for k in finished:
            self.assertEqual(store.json_path(k).stat().st_mtime_ns, mtimes[k], str(k))
        assert_same_cells(self, self.ref_store, store, KEYS)
        # The killed worker's lock (a dead process) was broken; none is left.
        self.assertEqual(list(out.rglob("*.lock")), [])

    def test_corrupt_cells_are_recomputed_and_reported(self) -> None:
        out = self.tmp / "corrupt"
        shutil.copytree(self.tmp / "local", out)
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
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with self.assertLogs("botorch_demo.benchmarks.harness", "WARNING") as logs:
                with pytest.warns(UserWarning, match="recomputing"):
                    result = run_benchmark(out=out, **self.kw)
        finally:
            torch.set_num_threads(threads)
        bad = sorted([truncated, flipped, edited])
        self.assertEqual(sorted(k for k, _ in result.corrupt), bad)
        self.assertEqual(sorted(result.computed), bad)
        for key in bad:
            self.assertTrue(any(str(key) in line for line in logs.output), str(key))
        assert_same_cells(self, self.ref_store, store, KEYS)
        self.assertTrue(result.files["distributions"].is_file())
