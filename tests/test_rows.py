"""Row-set helpers used for de-duplication and top-K selection."""

from __future__ import annotations

import pytest
import torch

from botorch_demo.rows import (
    distinct_in_order,
    first_occurrences,
    n_distinct,
    novel_rows,
    ranked_distinct_rows,
    row_keys,
    rows_in,
)


def test_novel_rows() -> None:
    cands = torch.tensor([[0.0, 1.0], [2.0, 3.0], [0.0, 1.0], [4.0, 5.0], [6.0, 7.0]])
    ref = torch.tensor([[4.0, 5.0], [9.0, 9.0]])
    assert novel_rows(cands, ref).tolist() == [True, True, False, False, True]
    assert novel_rows(cands).tolist() == [True, True, False, True, True]
    assert novel_rows(cands[:0], ref).shape == (0,)


def test_ranked_distinct_rows_keeps_best_copy() -> None:
    X = torch.tensor([[1.0], [2.0], [1.0], [3.0]])
    y = torch.tensor([0.5, 0.1, 0.9, 0.7])
    rows = ranked_distinct_rows(X, y)
    assert rows.tolist() == [2, 3, 1]


def test_distinct_in_order_keeps_first_appearances_and_maps_back():
    X = torch.tensor([[1.0, 2.0], [0.0, 0.0], [1.0, 2.0], [3.0, 3.0], [0.0, 0.0]])
    distinct, position = distinct_in_order(X)
    assert torch.equal(distinct, torch.tensor([[1.0, 2.0], [0.0, 0.0], [3.0, 3.0]]))
    assert position.tolist() == [0, 1, 0, 2, 1]
    assert torch.equal(distinct[position], X)
    assert distinct_in_order(X[[0, 1, 3]])[1] is None
    empty = torch.zeros(0, 2)
    assert distinct_in_order(empty)[0] is empty


def _rows_in_by_unique(X: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    both = torch.cat([reference.to(X), X])
    inverse = torch.unique(both, dim=0, return_inverse=True)[1]
    return torch.isin(inverse[reference.shape[0] :], inverse[: reference.shape[0]])


def test_row_keys_order_rows_lexicographically() -> None:
    X = torch.tensor([[2.0, -1.0, 0.0], [0.0, 5.0, 1.0], [2.0, -1.0, 1.0], [0.0, 5.0, 1.0]])
    (keys,) = row_keys(X)
    assert keys.dtype == torch.long
    assert keys[1] == keys[3] and len(set(keys.tolist())) == 3
    # The order of the keys is the order of torch.unique's sorted rows.
    inverse = torch.unique(X, dim=0, return_inverse=True)[1]
    assert torch.equal(torch.unique(keys, return_inverse=True)[1], inverse)
    # Two tensors share one shift and radix: equal rows get equal keys across them.
    a, b = row_keys(X[:2], torch.tensor([[0, 5, 1], [9, 9, 9]]))
    assert a[1] == b[0] and b[1] not in a.tolist()


@pytest.mark.parametrize(
    "bad",
    [0.5, float("nan"), float("inf"), 2.0**60],
    ids=["fraction", "nan", "inf", "huge"],
)
def test_row_keys_refuse_rows_they_cannot_key(bad: float) -> None:
    X = torch.tensor([[0.0, 1.0], [bad, 2.0]], dtype=torch.float64)
    assert row_keys(X) is None


def test_row_keys_need_matching_columns_and_2d_tensors() -> None:
    with pytest.raises(ValueError, match="same columns"):
        row_keys(torch.zeros(2, 3), torch.zeros(2, 4))
    assert row_keys(torch.zeros(3)) is None


def test_row_keys_refuse_ranges_past_the_exact_integers() -> None:
    X = torch.tensor([[0.0] * 4, [2.0**14] * 4], dtype=torch.float64)  # 2^60 keys
    assert row_keys(X) is None
    assert row_keys(X[:, :3]) is not None  # 2^45 keys


@pytest.mark.parametrize("fraction", [False, True], ids=["integer", "fractional"])
def test_set_operations_agree_with_unique_rows(fraction: bool) -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.randint(-2, 3, (400, 5), generator=g).double()
    if fraction:
        X[::7, 2] += 0.25  # the torch.unique path
    reference = torch.cat([X[torch.randperm(400, generator=g)[:50]], X[:3] + 10])
    assert (row_keys(X) is None) == fraction
    assert torch.equal(rows_in(X, reference), _rows_in_by_unique(X, reference))
    inverse = torch.unique(X, dim=0, return_inverse=True)[1]
    first = torch.tensor([int(inverse[i]) not in inverse[:i].tolist() for i in range(400)])
    assert torch.equal(first_occurrences(X), first)
    assert n_distinct(X) == torch.unique(X, dim=0).shape[0]
    distinct, position = distinct_in_order(X)
    assert torch.equal(distinct[position], X)
    assert distinct.shape[0] == n_distinct(X)


def test_set_operations_on_integer_tensors() -> None:
    X = torch.tensor([[3, 1], [0, 0], [3, 1]])
    assert rows_in(X, torch.tensor([[0, 0]])).tolist() == [False, True, False]
    assert first_occurrences(X).tolist() == [True, True, False]
    assert n_distinct(X) == 2
