"""Tests for the DEMO evaluation protocol helpers (paper Section 5.2, Figure 3)."""

from __future__ import annotations

import unittest

import numpy as np
import torch

from botorch_demo.tasks import (
    DEFAULT_BUDGET,
    load_task,
    mean_and_stderr,
    percentile_scores,
    proportion_above,
    score_candidates,
)


class TestPercentileScores(unittest.TestCase):
    def test_matches_numpy_with_batch(self) -> None:
        y = torch.randn(3, 256, 1, generator=torch.Generator().manual_seed(0))
        out = percentile_scores(y, (100.0, 50.0, 25.0))
        self.assertEqual(tuple(out.shape), (3, 3))
        self.assertEqual(out.dtype, torch.float64)
        expected = np.percentile(y.squeeze(-1).double().numpy(), [100, 50, 25], axis=1)
        np.testing.assert_allclose(out.numpy(), expected.T, rtol=1e-12)
        self.assertTrue(torch.equal(out[:, 0], y.squeeze(-1).double().amax(-1)))

    def test_even_median_interpolates(self) -> None:
        y = torch.tensor([[1.0], [2.0], [3.0], [10.0]])
        self.assertEqual(percentile_scores(y).tolist(), [10.0, 2.5])

    def test_bad_input(self) -> None:
        with self.assertRaisesRegex(ValueError, "K x 1"):
            percentile_scores(torch.zeros(5))
        with self.assertRaisesRegex(ValueError, "K x 1"):
            percentile_scores(torch.zeros(0, 1))
        with self.assertRaisesRegex(ValueError, "NaN"):
            percentile_scores(torch.tensor([[float("nan")]]))
        with self.assertRaisesRegex(ValueError, r"\[0, 100\]"):
            percentile_scores(torch.zeros(4, 1), (101.0,))
        with self.assertRaises(TypeError):
            percentile_scores(np.zeros((4, 1)))


class TestProportionAbove(unittest.TestCase):
    def test_strictly_above(self) -> None:
        y = torch.tensor([[0.1], [0.5], [0.5], [0.9]])
        self.assertEqual(proportion_above(y, 0.5).item(), 0.25)
        batch = torch.stack([y, y + 1.0])
        self.assertEqual(proportion_above(batch, 0.5).tolist(), [0.25, 1.0])

    def test_bad_input(self) -> None:
        with self.assertRaisesRegex(ValueError, "finite"):
            proportion_above(torch.zeros(3, 1), float("nan"))
        with self.assertRaisesRegex(ValueError, "K x 1"):
            proportion_above(torch.zeros(3, 2), 0.0)


class TestMeanAndStderr(unittest.TestCase):
    def test_matches_numpy(self) -> None:
        values = [0.9, 0.95, 0.97, 0.92, 0.99, 0.93, 0.96, 0.94]
        mean, se = mean_and_stderr(values)
        v = np.array(values)
        self.assertAlmostEqual(mean.item(), v.mean(), places=14)
        self.assertAlmostEqual(se.item(), v.std(ddof=1) / np.sqrt(8), places=14)

    def test_dim(self) -> None:
        v = torch.arange(12.0).reshape(3, 4)
        mean, se = mean_and_stderr(v, dim=1)
        self.assertEqual(mean.tolist(), [1.5, 5.5, 9.5])
        self.assertEqual(tuple(se.shape), (3,))

    def test_bad_input(self) -> None:
        with self.assertRaisesRegex(ValueError, "at least 2"):
            mean_and_stderr([0.5])
        with self.assertRaisesRegex(ValueError, "at least 2"):
            mean_and_stderr(torch.tensor(0.5))
        with self.assertRaisesRegex(ValueError, "NaN"):
            mean_and_stderr([0.5, float("nan")])


class TestScoreCandidates(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.task = load_task("tfbind8")

    def test_random_candidates(self) -> None:
        g = torch.Generator().manual_seed(0)
        X = torch.randint(0, 4, (DEFAULT_BUDGET, 8), generator=g).double()
        s = score_candidates(self.task, X)
        y = self.task.oracle(X)
        self.assertTrue(torch.equal(s.y, y))
        self.assertTrue(torch.equal(s.y_normalized, self.task.normalize(y)))
        self.assertEqual(s.p100.item(), self.task.normalize(y.max()).item())
        self.assertAlmostEqual(
            s.p50.item(), float(np.percentile(s.y_normalized.numpy(), 50)), places=12
        )
        expected = (s.y_normalized > self.task.d_best).double().mean()
        self.assertEqual(s.proportion_above_best.item(), expected.item())
        self.assertEqual(s.d_best, self.task.d_best)

    def test_offline_best_is_not_above_d_best(self) -> None:
        best = self.task.train_X[self.task.train_Y.argmax()].expand(4, 8)
        s = score_candidates(self.task, best, budget=None)
        self.assertEqual(s.proportion_above_best.item(), 0.0)
        self.assertAlmostEqual(s.p100.item(), self.task.d_best, places=15)

    def test_seeds_batch_and_summary(self) -> None:
        g = torch.Generator().manual_seed(1)
        X = torch.randint(0, 4, (8, DEFAULT_BUDGET, 8), generator=g).double()
        s = score_candidates(self.task, X)
        self.assertEqual(tuple(s.y.shape), (8, DEFAULT_BUDGET, 1))
        self.assertEqual(tuple(s.p100.shape), (8,))
        self.assertEqual(tuple(s.proportion_above_best.shape), (8,))
        single = score_candidates(self.task, X[3])
        self.assertEqual(single.p50.item(), s.p50[3].item())
        mean, se = mean_and_stderr(s.p100)
        self.assertTrue(0.0 <= mean.item() <= 1.0)
        self.assertGreaterEqual(se.item(), 0.0)

    def test_bad_input(self) -> None:
        with self.assertRaisesRegex(ValueError, "K = 256"):
            score_candidates(self.task, torch.zeros(10, 8))
        with self.assertRaisesRegex(ValueError, "K x 8"):
            score_candidates(self.task, torch.zeros(256, 7))
        with self.assertRaisesRegex(ValueError, "no candidates"):
            score_candidates(self.task, torch.zeros(0, 8), budget=None)
        X = torch.zeros(256, 8)
        X[0, 0] = float("nan")
        with self.assertRaisesRegex(ValueError, "NaN"):
            score_candidates(self.task, X)
        with self.assertRaisesRegex(ValueError, "out of range"):
            score_candidates(self.task, torch.full((256, 8), 7.0))


if __name__ == "__main__":
    unittest.main()
