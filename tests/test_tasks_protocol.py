"""The paper's evaluation protocol (Section 5.2, Figure 3): percentiles, D(best), seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from botorch_demo.tasks import (
    DEFAULT_BUDGET,
    mean_and_stderr,
    percentile_scores,
    proportion_above,
    score_candidates,
)
from botorch_demo.tasks.task import OfflineTask


# ---------------------------------------------------------- percentile_scores
def test_percentiles_match_numpy_with_batch() -> None:
    y = torch.randn(3, 256, 1, generator=torch.Generator().manual_seed(0))
    out = percentile_scores(y, (100.0, 50.0, 25.0))
    assert tuple(out.shape) == (3, 3)
    assert out.dtype == torch.float64
    expected = np.percentile(y.squeeze(-1).double().numpy(), [100, 50, 25], axis=1)
    np.testing.assert_allclose(out.numpy(), expected.T, rtol=1e-12)
    assert torch.equal(out[:, 0], y.squeeze(-1).double().amax(-1))


def test_even_median_interpolates() -> None:
    y = torch.tensor([[1.0], [2.0], [3.0], [10.0]])
    assert percentile_scores(y).tolist() == [10.0, 2.5]


def test_percentiles_bad_input() -> None:
    with pytest.raises(ValueError, match="K x 1"):
        percentile_scores(torch.zeros(5))
    with pytest.raises(ValueError, match="K x 1"):
        percentile_scores(torch.zeros(0, 1))
    with pytest.raises(ValueError, match="NaN"):
        percentile_scores(torch.tensor([[float("nan")]]))
    with pytest.raises(ValueError, match=r"\[0, 100\]"):
        percentile_scores(torch.zeros(4, 1), (101.0,))
    with pytest.raises(TypeError):
        percentile_scores(np.zeros((4, 1)))


# ----------------------------------------------------------- proportion_above
def test_proportion_strictly_above() -> None:
    y = torch.tensor([[0.1], [0.5], [0.5], [0.9]])
    assert proportion_above(y, 0.5).item() == 0.25
    batch = torch.stack([y, y + 1.0])
    assert proportion_above(batch, 0.5).tolist() == [0.25, 1.0]


def test_proportion_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        proportion_above(torch.zeros(3, 1), float("nan"))
    with pytest.raises(ValueError, match="K x 1"):
        proportion_above(torch.zeros(3, 2), 0.0)


# ------------------------------------------------------------ mean_and_stderr
def test_mean_and_stderr_match_numpy() -> None:
    values = [0.9, 0.95, 0.97, 0.92, 0.99, 0.93, 0.96, 0.94]
    mean, se = mean_and_stderr(values)
    v = np.array(values)
    assert round(abs(mean.item() - v.mean()), 14) == 0
    assert round(abs(se.item() - v.std(ddof=1) / np.sqrt(8)), 14) == 0


def test_mean_and_stderr_along_a_dim() -> None:
    v = torch.arange(12.0).reshape(3, 4)
    mean, se = mean_and_stderr(v, dim=1)
    assert mean.tolist() == [1.5, 5.5, 9.5]
    assert tuple(se.shape) == (3,)


def test_mean_and_stderr_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        mean_and_stderr([0.5])
    with pytest.raises(ValueError, match="at least 2"):
        mean_and_stderr(torch.tensor(0.5))
    with pytest.raises(ValueError, match="NaN"):
        mean_and_stderr([0.5, float("nan")])


# ----------------------------------------------------------- score_candidates
def test_score_random_candidates(tfbind8_task: OfflineTask) -> None:
    task = tfbind8_task
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 4, (DEFAULT_BUDGET, 8), generator=g).double()
    s = score_candidates(task, X)
    y = task.oracle(X)
    assert torch.equal(s.y, y)
    assert torch.equal(s.y_normalized, task.normalize(y))
    assert s.p100.item() == task.normalize(y.max()).item()
    assert round(abs(s.p50.item() - float(np.percentile(s.y_normalized.numpy(), 50))), 12) == 0
    expected = (s.y_normalized > task.d_best).double().mean()
    assert s.proportion_above_best.item() == expected.item()
    assert s.d_best == task.d_best


def test_offline_best_is_not_above_d_best(tfbind8_task: OfflineTask) -> None:
    task = tfbind8_task
    best = task.train_X[task.train_Y.argmax()].expand(4, 8)
    s = score_candidates(task, best, budget=None)
    assert s.proportion_above_best.item() == 0.0
    assert round(abs(s.p100.item() - task.d_best), 15) == 0


def test_seeds_batch_and_summary(tfbind8_task: OfflineTask) -> None:
    g = torch.Generator().manual_seed(1)
    X = torch.randint(0, 4, (8, DEFAULT_BUDGET, 8), generator=g).double()
    s = score_candidates(tfbind8_task, X)
    assert tuple(s.y.shape) == (8, DEFAULT_BUDGET, 1)
    assert tuple(s.p100.shape) == (8,)
    assert tuple(s.proportion_above_best.shape) == (8,)
    single = score_candidates(tfbind8_task, X[3])
    assert single.p50.item() == s.p50[3].item()
    mean, se = mean_and_stderr(s.p100)
    assert 0.0 <= mean.item() <= 1.0
    assert se.item() >= 0.0


def test_score_candidates_bad_input(tfbind8_task: OfflineTask) -> None:
    task = tfbind8_task
    with pytest.raises(ValueError, match="K = 256"):
        score_candidates(task, torch.zeros(10, 8))
    with pytest.raises(ValueError, match="K x 8"):
        score_candidates(task, torch.zeros(256, 7))
    with pytest.raises(ValueError, match="no candidates"):
        score_candidates(task, torch.zeros(0, 8), budget=None)
    X = torch.zeros(256, 8)
    X[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        score_candidates(task, X)
    with pytest.raises(ValueError, match="out of range"):
        score_candidates(task, torch.full((256, 8), 7.0))
