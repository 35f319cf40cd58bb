"""Tests of the small helpers shared by this package's Ax generators."""

from __future__ import annotations

import pytest
import torch
from ax.exceptions.core import UnsupportedError
from ax.generators.torch_base import TorchOptConfig

from botorch_demo.ax.utils import marked, outcome_metadata, satisfies, single_objective


def test_outcome_metadata_aligned_rows_are_returned() -> None:
    rows = [{"a": 1}, None, {"b": 2}]
    assert outcome_metadata([None, rows], 1, 3) == rows


@pytest.mark.parametrize(
    "metadata",
    [None, [], [None, None], [None, [{"a": 1}]], [[{"a": 1}, None, None]]],
    ids=["none", "empty", "outcome-none", "misaligned", "other-outcome-only"],
)
def test_outcome_metadata_missing_or_misaligned_means_no_metadata(metadata) -> None:
    # Outcome 1 with 3 observations: absent, or not aligned with them.
    assert outcome_metadata(metadata, 1, 3) == [None, None, None]


def test_marked_by_any_of_the_keys() -> None:
    rows = [{"demo": "k"}, {"pool": True}, {"other": 1}, {}, None]
    assert marked(rows, ("demo", "pool")) == [True, True, False, False, False]
    assert marked(rows, ("demo",)) == [True, False, False, False, False]
    assert marked([], ("demo",)) == []


def test_single_objective_direction_and_multi_objective_refused() -> None:
    config = TorchOptConfig(objective_weights=torch.tensor([0.0, -1.0]))
    assert single_objective(config) == (1, -1.0)
    two = TorchOptConfig(objective_weights=torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    with pytest.raises(UnsupportedError, match="single objective"):
        single_objective(two)


def test_satisfies_linear_constraints() -> None:
    X = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    A, b = torch.tensor([[1.0, 1.0]]), torch.tensor([[1.5]])
    assert satisfies(X, (A, b)).tolist() == [True, False, False]
    assert satisfies(X, None).tolist() == [True, True, True]
