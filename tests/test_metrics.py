"""Metrics beyond the paper's: best of the first 128, p80, diversity, novelty."""

import math

import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo.benchmarks.report import EXTRA_METRICS, csv_text, markdown_text, summarize
from botorch_demo.tasks import load_task
from botorch_demo.tasks.protocol import (
    SMALL_BUDGET,
    batch_metrics,
    best_of_first,
    design_distances,
    novelty,
    pairwise_diversity,
)

BOX2 = torch.tensor([[0.0, 0.0], [2.0, 4.0]], dtype=torch.float64)


class TestBestOfFirst(BotorchTestCase):
    def test_counts_only_the_leading_candidates(self) -> None:
        y = torch.tensor([0.1, 0.9, 0.5, 0.95], dtype=torch.float64, device=self.device).reshape(
            4, 1
        )
        self.assertEqual(float(best_of_first(y, 2)), 0.9)
        self.assertEqual(float(best_of_first(y, 3)), 0.9)
        self.assertEqual(float(best_of_first(y, 4)), 0.95)
        batch = torch.stack([y, y.flip(0)])  # 2 x 4 x 1
        self.assertEqual(best_of_first(batch, 2).tolist(), [0.9, 0.95])
        self.assertEqual(best_of_first(batch, 1).dtype, torch.float64)

    def test_bad_k(self) -> None:
        y = torch.zeros(4, 1)
        for k in (0, 5, 2.0, True):
            with self.assertRaisesRegex(ValueError, "k must be"):
                best_of_first(y, k)
        with self.assertRaisesRegex(ValueError, "NaN"):
            best_of_first(torch.tensor([[float("nan")]]), 1)


class TestDistances(BotorchTestCase):
    def test_continuous_is_l2_in_the_unit_cube(self) -> None:
        A = torch.tensor([[0.0, 0.0], [2.0, 4.0]], dtype=torch.float64, device=self.device)
        B = torch.tensor([[2.0, 0.0]], dtype=torch.float64, device=self.device)
        D = design_distances(A, B, BOX2)
        self.assertEqual(D.shape, (2, 1))
        self.assertEqual(D.device.type, self.device.type)
        # (0,0)-(2,0): unit-cube (0,0)-(1,0) = 1; (2,4)-(2,0): (1,1)-(1,0) = 1
        self.assertTrue(torch.allclose(D.cpu(), torch.tensor([[1.0], [1.0]], dtype=torch.float64)))

    def test_categorical_is_hamming_and_mixed_adds_them(self) -> None:
        bounds = torch.tensor([[0.0, 0.0, 0.0], [3.0, 3.0, 1.0]], dtype=torch.float64)
        A = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
        B = torch.tensor([[0.0, 2.0, 1.0], [3.0, 2.0, 0.5]], dtype=torch.float64)
        hamming = design_distances(A[:, :2], B[:, :2], bounds[:, :2], {0: 4, 1: 4})
        self.assertEqual(hamming.tolist(), [[1.0, 2.0]])
        mixed = design_distances(A, B, bounds, {0: 4, 1: 4})
        self.assertEqual(mixed.tolist(), [[1.0 + 1.0, 2.0 + 0.5]])

    def test_shape_errors(self) -> None:
        with self.assertRaisesRegex(ValueError, "columns"):
            design_distances(torch.zeros(2, 3), torch.zeros(2, 2), BOX2)


class TestDiversityAndNovelty(BotorchTestCase):
    def test_pairwise_diversity(self) -> None:
        X = torch.tensor([[0.0, 0.0], [2.0, 0.0], [2.0, 4.0]], dtype=torch.float64)
        # unit-cube pairs: 1, sqrt(2), 1 -> mean (2 + sqrt 2) / 3
        expected = (2 + math.sqrt(2)) / 3
        self.assertAlmostEqual(float(pairwise_diversity(X, BOX2)), expected, places=12)
        copies = X[:1].expand(5, 2)
        self.assertEqual(float(pairwise_diversity(copies, BOX2)), 0.0)
        tokens = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
        # Hamming over the 6 pairs: 0, 1, 2, 1, 2, 1 -> 7 / 6
        value = pairwise_diversity(tokens, BOX2, {0: 2, 1: 2})
        self.assertAlmostEqual(float(value), 7 / 6, places=12)
        batch = pairwise_diversity(torch.stack([X, copies[:3]]), BOX2)
        self.assertEqual(batch.shape, (2,))
        self.assertAlmostEqual(float(batch[0]), expected, places=12)
        with self.assertRaisesRegex(ValueError, "K >= 2"):
            pairwise_diversity(X[:1], BOX2)

    def test_novelty(self) -> None:
        offline = torch.tensor([[0.0, 0.0], [2.0, 4.0]], dtype=torch.float64)
        X = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 2.0]], dtype=torch.float64)
        # nearest offline distances: 0, 0.5, 0.5 -> mean 1/3
        self.assertAlmostEqual(float(novelty(X, offline, BOX2)), 1 / 3, places=12)
        self.assertAlmostEqual(float(novelty(X, offline, BOX2, chunk=1)), 1 / 3, places=12)
        self.assertEqual(float(novelty(offline, offline, BOX2)), 0.0)
        with self.assertRaisesRegex(ValueError, "non-empty"):
            novelty(X, offline[:0], BOX2)

    def test_batch_metrics_on_a_task(self) -> None:
        task = load_task("seq-l8-v4")
        top = task.train_Y.squeeze(-1).argsort(descending=True)[:256]
        X = task.train_X[top]  # the 256 best offline designs, best first
        y = task.normalize(task.oracle(X))
        metrics = batch_metrics(task, X, y)
        self.assertEqual(set(metrics), set(EXTRA_METRICS))
        self.assertEqual(metrics["novelty"], 0.0)  # offline designs are not novel
        self.assertAlmostEqual(metrics["p100_k128"], task.d_best, places=12)
        self.assertEqual(metrics["p100_k128"], float(y[:SMALL_BUDGET].max()))
        self.assertAlmostEqual(metrics["p80"], float(y.quantile(0.8)), places=12)
        self.assertGreater(metrics["diversity"], 1.0)
        self.assertLessEqual(metrics["diversity"], 8.0)


class TestReportColumns(BotorchTestCase):
    def _record(self, seed: int, **extra: float) -> dict:
        record = {
            "task": "seq-l8-v4",
            "method": "grad",
            "label": "Grad",
            "seed": seed,
            "profile": "smoke",
            "q": 256,
            "p100": 0.5 + seed,
            "p50": 0.4,
            "proportion_above_d_best": 0.1,
            "d_best": 0.55,
            "n_distinct": 256,
            "own_seconds": 1.0,
            "components": {},
            "shared_by": {},
            "device": "cpu",
        }
        record.update(extra)
        return record

    def test_new_columns_in_summary_csv_and_markdown(self) -> None:
        metrics = {"p100_k128": 0.7, "p80": 0.6, "diversity": 3.0, "novelty": 1.5}
        records = [self._record(0, **metrics), self._record(1, **{**metrics, "novelty": 2.5})]
        (row,) = summarize(records)
        self.assertEqual(row["novelty_mean"], 2.0)
        self.assertAlmostEqual(row["novelty_se"], 0.5)
        header = csv_text(records).splitlines()[0].split(",")
        for metric in ("p100", "p50", *EXTRA_METRICS):
            self.assertIn(metric, header)
        meta = {"profile": "smoke", "q": 256, "seeds": "2", "device": "cpu", "created": "now"}
        text = markdown_text([row], [], ["seq-l8-v4"], ["grad"], {"grad": "Grad"}, meta)
        self.assertIn("## 100th percentile at K = 128", text)
        self.assertIn("| Grad | 0.700 ± 0.000 |", text)
        self.assertIn("| Grad | 2.000 ± 0.500 |", text)
        self.assertNotIn("seq-l8-v4 (paper)", text)

    def test_cells_stored_before_the_new_metrics_still_report(self) -> None:
        (row,) = summarize([self._record(0), self._record(1)])
        self.assertIsNone(row["p80_mean"])
        meta = {"profile": "smoke", "q": 256, "seeds": "2", "device": "cpu", "created": "now"}
        text = markdown_text([row], [], ["seq-l8-v4"], ["grad"], {"grad": "Grad"}, meta)
        self.assertIn("## 80th percentile", text)
