"""The benchmark harness end to end: a smoke run, resuming, recomputation, bad input."""

import csv
import importlib.util
import json
import shutil
import tempfile
import time
from pathlib import Path

import pytest
import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo.benchmarks.harness import run_benchmark
from botorch_demo.benchmarks.methods import list_methods
from botorch_demo.benchmarks.report import CSV_COLUMNS, recompute_record
from botorch_demo.benchmarks.store import CellKey, CellStore, OutputFolderConflict
from botorch_demo.tasks import load_task

HAS_AX = importlib.util.find_spec("botorch_demo.ax") is not None
TASKS = ["tfbind8", "levy"]
SEEDS = 2
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def smoke_methods() -> list[str]:
    """Every registered method; bo-qei needs the Ax package (branch ``ax``)."""
    return [m for m in list_methods() if HAS_AX or m != "bo-qei"]


@pytest.mark.slow
class TestSmokeBenchmark(BotorchTestCase):
    """One smoke run of two tasks, all methods and two seeds, shared by the tests."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp()
        cls.out = Path(cls.tmp) / "results"
        cls.methods = smoke_methods()
        tic = time.perf_counter()
        cls.result = run_benchmark(
            tasks=TASKS,
            methods=cls.methods,
            seeds=SEEDS,
            profile="smoke",
            out=cls.out,
            progress=False,
        )
        cls.seconds = time.perf_counter() - tic
        cls.n_cells = len(TASKS) * len(cls.methods) * SEEDS

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def test_every_cell_computed_once(self) -> None:
        self.assertEqual(len(self.result.computed), self.n_cells)
        self.assertEqual(self.result.skipped, [])
        self.assertEqual(len(set(self.result.computed)), self.n_cells)

    def test_results_json(self) -> None:
        data = json.loads((self.out / "results.json").read_text())
        self.assertEqual(data["tasks"], TASKS)
        self.assertEqual(data["methods"], self.methods)
        self.assertEqual(data["seeds"], list(range(SEEDS)))
        self.assertEqual(len(data["cells"]), self.n_cells)
        self.assertEqual(len(data["summary"]), len(TASKS) * len(self.methods))
        config = data["configuration"]
        self.assertEqual(config["profile"]["name"], "smoke")
        self.assertEqual(config["profile"]["q"], 256)
        self.assertIn("surrogate_hidden", config["profile"]["demo"])
        self.assertIn("popsize", config["profile"]["cmaes"])
        self.assertIn("max_points", config["profile"]["bo"])
        self.assertEqual(set(config["method_settings"]), set(self.methods))
        self.assertIn("torch", config["environment"]["versions"])
        self.assertIn("cpu_count", config["environment"])
        self.assertEqual(set(data["mean_rank"]["p100"]), set(self.methods))
        for cell in data["cells"]:
            for key in ("p100", "p50", "proportion_above_d_best", "own_seconds"):
                self.assertIsInstance(cell[key], float)
            self.assertEqual(cell["q"], 256)
            self.assertGreaterEqual(cell["p100"], cell["p50"])
            self.assertTrue(0.0 <= cell["proportion_above_d_best"] <= 1.0)
        for row in data["sharing"]:
            self.assertGreaterEqual(row["standalone_seconds"], row["seconds"])

    def test_results_csv(self) -> None:
        with (self.out / "results.csv").open() as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), self.n_cells)
        self.assertEqual(tuple(rows[0]), CSV_COLUMNS)
        cells = {(r["task"], r["method"], int(r["seed"])) for r in rows}
        expected = {(t, m, s) for t in TASKS for m in self.methods for s in range(SEEDS)}
        self.assertEqual(cells, expected)
        for r in rows:
            float(r["p100"]), float(r["p50"]), float(r["seconds"])
            self.assertGreaterEqual(float(r["standalone_seconds"]), float(r["seconds"]) - 1e-6)

    def test_results_markdown(self) -> None:
        text = (self.out / "results.md").read_text()
        self.assertIn("## 100th percentile", text)
        self.assertIn("## 50th percentile", text)
        self.assertIn(
            "| method | tfbind8 (ours) | tfbind8 (paper) | levy (ours) | levy (paper)", text
        )
        self.assertIn("0.980 ± 0.004", text)  # the paper's DEMO on TF Bind 8
        self.assertIn("1.005 ± 0.020", text)  # the paper's DEMO on Levy
        summary = self.result.results["summary"]
        for row in summary:
            ours = f"{row['p100_mean']:.3f} ± {row['p100_se']:.3f}"
            self.assertIn(ours, text)
        for label in ("DEMO", "DEMO w/o pseudo-target", "DEMO w/o editing", "DDOM", "Grad"):
            self.assertIn(f"| {label} |", text)

    def test_plots_are_png(self) -> None:
        for name in ("reliability.png", "score_distributions.png"):
            data = (self.out / name).read_bytes()
            self.assertTrue(data.startswith(PNG_SIGNATURE), name)
            self.assertGreater(len(data), 1000)

    def test_stored_candidates(self) -> None:
        store = CellStore(self.out)
        for key in self.result.computed:
            tensors = store.load_tensors(key)
            task = load_task(key.task)
            self.assertEqual(tensors["candidates"].shape, (256, task.dim))
            self.assertEqual(tensors["candidates"].dtype, torch.float64)
            self.assertEqual(tensors["y_normalized"].shape, (256, 1))
        self.assertEqual(list(self.out.rglob("*.tmp")), [])

    def test_table_numbers_equal_recomputed_oracle_scores(self) -> None:
        store = CellStore(self.out)
        tasks = {t: load_task(t) for t in TASKS}
        by_cell = {}
        for key in self.result.computed:
            record = store.load_record(key)
            again = recompute_record(store, key, tasks[key.task])
            for metric, value in again.items():
                self.assertEqual(record[metric], value, f"{key} {metric}")
            by_cell[key] = again
        for row in self.result.results["summary"]:
            values = [by_cell[CellKey(row["task"], row["method"], s)]["p100"] for s in range(SEEDS)]
            self.assertAlmostEqual(row["p100_mean"], sum(values) / len(values), places=12)

    def test_resume_skips_finished_cells(self) -> None:
        out = Path(self.tmp) / "resume"
        shutil.copytree(self.out, out)
        store = CellStore(out)
        keys = sorted(self.result.computed)
        mtimes = {k: store.json_path(k).stat().st_mtime_ns for k in keys}
        # A killed run: one cell lost, and a stray temp file left behind.
        lost = CellKey("levy", "grad", 1)
        store.json_path(lost).unlink()
        (store.json_path(lost).parent / ".seed1.json.abc.tmp").write_text("{")
        again = run_benchmark(
            tasks=TASKS, methods=self.methods, seeds=SEEDS, profile="smoke", out=out, progress=False
        )
        self.assertEqual(again.computed, [lost])
        self.assertEqual(len(again.skipped), self.n_cells - 1)
        for k in keys:
            if k != lost:
                self.assertEqual(store.json_path(k).stat().st_mtime_ns, mtimes[k], str(k))
        # Recomputed alone (no DEMO in its group), the lost cell is the same as before.
        before = CellStore(self.out)
        self.assertTrue(
            torch.equal(
                store.load_tensors(lost)["candidates"], before.load_tensors(lost)["candidates"]
            )
        )
        self.assertEqual(store.load_record(lost)["p100"], before.load_record(lost)["p100"])
        # Nothing left to do.
        third = run_benchmark(
            tasks=TASKS, methods=self.methods, seeds=SEEDS, profile="smoke", out=out, progress=False
        )
        self.assertEqual(third.computed, [])
        self.assertEqual(len(third.skipped), self.n_cells)

    def test_another_profile_in_the_same_folder_is_refused(self) -> None:
        with self.assertRaisesRegex(OutputFolderConflict, "another configuration"):
            run_benchmark(tasks=["levy"], methods=["grad"], seeds=1, profile="fast", out=self.out)
