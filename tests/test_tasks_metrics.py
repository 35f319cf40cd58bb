"""Metrics beyond the paper's: best of the first 128, p80, distances, diversity, novelty."""

from __future__ import annotations

import math

import pytest
import torch

from botorch_demo.benchmarks.report import EXTRA_METRICS
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


# ---------------------------------------------------------------- best_of_first
def test_best_of_first_counts_only_the_leading_candidates(tasks_device: torch.device) -> None:
    y = torch.tensor([0.1, 0.9, 0.5, 0.95], dtype=torch.float64, device=tasks_device)
    y = y.reshape(4, 1)
    assert float(best_of_first(y, 2)) == 0.9
    assert float(best_of_first(y, 3)) == 0.9
    assert float(best_of_first(y, 4)) == 0.95
    batch = torch.stack([y, y.flip(0)])  # 2 x 4 x 1
    assert best_of_first(batch, 2).tolist() == [0.9, 0.95]
    assert best_of_first(batch, 1).dtype == torch.float64


@pytest.mark.parametrize("k", [0, 5, 2.0, True])
def test_best_of_first_bad_k(k) -> None:
    with pytest.raises(ValueError, match="k must be"):
        best_of_first(torch.zeros(4, 1), k)


def test_best_of_first_rejects_nan() -> None:
    with pytest.raises(ValueError, match="NaN"):
        best_of_first(torch.tensor([[float("nan")]]), 1)


# ------------------------------------------------------------------- distances
def test_continuous_distance_is_l2_in_the_unit_cube(tasks_device: torch.device) -> None:
    A = torch.tensor([[0.0, 0.0], [2.0, 4.0]], dtype=torch.float64, device=tasks_device)
    B = torch.tensor([[2.0, 0.0]], dtype=torch.float64, device=tasks_device)
    D = design_distances(A, B, BOX2)
    assert D.shape == (2, 1)
    assert D.device.type == tasks_device.type
    # (0,0)-(2,0): unit-cube (0,0)-(1,0) = 1; (2,4)-(2,0): (1,1)-(1,0) = 1
    assert torch.allclose(D.cpu(), torch.tensor([[1.0], [1.0]], dtype=torch.float64))


def test_categorical_distance_is_hamming_and_mixed_adds_them() -> None:
    bounds = torch.tensor([[0.0, 0.0, 0.0], [3.0, 3.0, 1.0]], dtype=torch.float64)
    A = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64)
    B = torch.tensor([[0.0, 2.0, 1.0], [3.0, 2.0, 0.5]], dtype=torch.float64)
    hamming = design_distances(A[:, :2], B[:, :2], bounds[:, :2], {0: 4, 1: 4})
    assert hamming.tolist() == [[1.0, 2.0]]
    mixed = design_distances(A, B, bounds, {0: 4, 1: 4})
    assert mixed.tolist() == [[1.0 + 1.0, 2.0 + 0.5]]


def test_distance_shape_errors() -> None:
    with pytest.raises(ValueError, match="columns"):
        design_distances(torch.zeros(2, 3), torch.zeros(2, 2), BOX2)


# -------------------------------------------------------- diversity, novelty
def test_pairwise_diversity() -> None:
    X = torch.tensor([[0.0, 0.0], [2.0, 0.0], [2.0, 4.0]], dtype=torch.float64)
    # unit-cube pairs: 1, sqrt(2), 1 -> mean (2 + sqrt 2) / 3
    expected = (2 + math.sqrt(2)) / 3
    assert round(abs(float(pairwise_diversity(X, BOX2)) - expected), 12) == 0
    copies = X[:1].expand(5, 2)
    assert float(pairwise_diversity(copies, BOX2)) == 0.0
    tokens = torch.tensor([[0.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    # Hamming over the 6 pairs: 0, 1, 2, 1, 2, 1 -> 7 / 6
    value = pairwise_diversity(tokens, BOX2, {0: 2, 1: 2})
    assert round(abs(float(value) - 7 / 6), 12) == 0
    batch = pairwise_diversity(torch.stack([X, copies[:3]]), BOX2)
    assert batch.shape == (2,)
    assert round(abs(float(batch[0]) - expected), 12) == 0
    with pytest.raises(ValueError, match="K >= 2"):
        pairwise_diversity(X[:1], BOX2)


def test_novelty() -> None:
    offline = torch.tensor([[0.0, 0.0], [2.0, 4.0]], dtype=torch.float64)
    X = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 2.0]], dtype=torch.float64)
    # nearest offline distances: 0, 0.5, 0.5 -> mean 1/3
    assert round(abs(float(novelty(X, offline, BOX2)) - 1 / 3), 12) == 0
    assert round(abs(float(novelty(X, offline, BOX2, chunk=1)) - 1 / 3), 12) == 0
    assert float(novelty(offline, offline, BOX2)) == 0.0
    with pytest.raises(ValueError, match="non-empty"):
        novelty(X, offline[:0], BOX2)


def test_batch_metrics_on_a_task() -> None:
    task = load_task("seq-l8-v4")
    top = task.train_Y.squeeze(-1).argsort(descending=True)[:256]
    X = task.train_X[top]  # the 256 best offline designs, best first
    y = task.normalize(task.oracle(X))
    metrics = batch_metrics(task, X, y)
    assert set(metrics) == set(EXTRA_METRICS)
    assert metrics["novelty"] == 0.0  # offline designs are not novel
    assert round(abs(metrics["p100_k128"] - task.d_best), 12) == 0
    assert metrics["p100_k128"] == float(y[:SMALL_BUDGET].max())
    assert round(abs(metrics["p80"] - float(y.quantile(0.8))), 12) == 0
    assert metrics["diversity"] > 1.0
    assert metrics["diversity"] <= 8.0
