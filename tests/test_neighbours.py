"""Single-site neighbours: the categorical de-duplication fallback."""

import pytest
import torch

from botorch_demo.neighbours import (
    best_new_mutants,
    best_unseen_designs,
    design_grid,
    single_site_mutants,
)

CATS = {0: 4, 2: 3}


def _x():
    return torch.tensor([[1.0, 0.5, 2.0], [0.0, 0.25, 0.0]], dtype=torch.float64)


def test_single_site_mutants_cover_every_substitution_once() -> None:
    X = _x()
    mutants, changed = single_site_mutants(X, CATS)
    assert mutants.shape == (2, 7, 3) and changed.shape == (2, 7)
    # One unchanged copy per categorical column, the rest differ in one column.
    assert changed.sum(1).tolist() == [5, 5]
    diff = (mutants != X[:, None, :]).sum(-1)
    assert torch.equal(diff, changed.long())
    assert torch.equal(mutants[..., 1], X[:, None, 1].expand(2, 7))  # continuous kept
    for i in range(2):
        got = {tuple(r) for r in mutants[i][changed[i]].tolist()}
        assert len(got) == 5
    with pytest.raises(ValueError, match="at least one categorical"):
        single_site_mutants(X, {})


def test_best_new_mutant_is_the_argmax_among_new_designs() -> None:
    X = _x()[:1]  # (1, 0.5, 2)
    score = lambda Z: Z[:, 0] + Z[:, 2]  # noqa: E731
    best = best_new_mutants(X, CATS, None, score)
    assert best.tolist() == [[3.0, 0.5, 2.0]]
    # With the best one known, the runner-up.
    best = best_new_mutants(X, CATS, torch.tensor([[3.0, 0.5, 2.0]]).double(), score)
    assert best.tolist() == [[2.0, 0.5, 2.0]]


def test_a_design_two_rows_can_reach_goes_to_the_first() -> None:
    X = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    best = best_new_mutants(X, CATS, None, lambda Z: Z[:, 0])
    # Row 0 takes (3, 0, 0); row 1 could reach it and (2, 0, 0) too, but those are
    # row 0's neighbours, so row 1 takes its best other move.
    assert best.tolist() == [[3.0, 0.0, 0.0], [1.0, 0.0, 1.0]]


def test_a_row_without_new_neighbours_takes_a_random_step() -> None:
    X = _x()[:1]
    mutants, changed = single_site_mutants(X, CATS)
    everything = mutants[0][changed[0]]
    gen = torch.Generator().manual_seed(0)
    step = best_new_mutants(X, CATS, everything, lambda Z: Z[:, 0], generator=gen)
    assert (step != X).sum().item() == 1
    assert (step[None] == everything[:, None]).all(-1).any()


def test_best_unseen_designs_enumerates_small_spaces_only() -> None:
    cats = {0: 3, 1: 2}
    like = torch.zeros(1, dtype=torch.float64)
    seen = torch.tensor([[2.0, 1.0], [2.0, 0.0]], dtype=torch.float64)
    score = lambda Z: 2 * Z[:, 0] + Z[:, 1]  # noqa: E731
    best = best_unseen_designs(cats, seen, 3, score, like)
    assert best.tolist() == [[1.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    assert best_unseen_designs(cats, seen, 10, score, like).shape == (4, 2)
    assert best_unseen_designs(cats, seen, 3, score, like, max_designs=5) is None
    with pytest.raises(ValueError, match=r"every column 0\.\.d-1"):
        best_unseen_designs({0: 3, 2: 2}, None, 3, score, like)


def test_design_grid_builds_every_combination_up_to_a_bound() -> None:
    choices = [torch.tensor([0.0, 1.0]), torch.tensor([5.0, 6.0, 7.0])]
    grid = design_grid(choices, 6)
    assert grid.shape == (6, 2)
    assert {tuple(r) for r in grid.tolist()} == {(a, b) for a in (0, 1) for b in (5, 6, 7)}
    assert design_grid(choices, 5) is None
    assert design_grid([torch.tensor([2.0, 3.0])], 10).tolist() == [[2.0], [3.0]]
