"""Row-set helpers used for de-duplication and top-K selection."""

from __future__ import annotations

import torch

from botorch_demo.rows import distinct_in_order, novel_rows, ranked_distinct_rows


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
