"""Feasibility by construction: fixed features, inequality constraints, integer columns."""

from __future__ import annotations

import pytest
import torch
from botorch.exceptions.errors import InputDataError

from botorch_demo import DEMO, gen_candidates_demo
from botorch_demo.constraints import (
    feasibility_map,
    inequality_matrix,
    make_feasible,
    project_to_polytope,
)

# x0 + x1 <= 1 and x1 + x2 <= 4.5, in optimize_acqf's ">=" format.
CONSTRAINTS = [
    (torch.tensor([0, 1]), torch.tensor([-1.0, -1.0], dtype=torch.double), -1.0),
    (torch.tensor([1, 2]), torch.tensor([-1.0, -1.0], dtype=torch.double), -4.5),
]


def test_projection_is_exact_on_a_halfspace() -> None:
    A, b = inequality_matrix(CONSTRAINTS[:1], 2, like=torch.zeros(1, dtype=torch.double))
    X = torch.tensor([[0.9, 0.9], [0.2, 0.3], [1.0, 0.0]], dtype=torch.double)
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.double)
    P = project_to_polytope(X, bounds, A, b)
    torch.testing.assert_close(P[0], torch.tensor([0.5, 0.5], dtype=torch.double))
    torch.testing.assert_close(P[1:], X[1:])  # Feasible points stay put.


def test_discrete_columns_are_repaired() -> None:
    A, b = inequality_matrix(CONSTRAINTS, 3, like=torch.zeros(1, dtype=torch.double))
    X = torch.tensor([[0.1, 0.9, 5.9], [0.6, 0.6, 3.6]], dtype=torch.double)
    bounds = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 6.0]], dtype=torch.double)
    values = {2: torch.arange(7, dtype=torch.double)}
    Z, ok = make_feasible(X, bounds, {}, (A, b), values)
    assert bool(ok.all())
    assert bool((Z @ A.T <= b + 1e-8).all())
    assert torch.equal(Z[:, 2], Z[:, 2].round())


def test_bad_constraints_raise() -> None:
    with pytest.raises(InputDataError):
        inequality_matrix([(torch.tensor([0, 5]), torch.ones(2), 0.0)], 3, torch.zeros(1))


def test_candidates_meet_constraints_and_integer_features_by_construction(
    short_config, make_constrained
) -> None:
    X, Y, bounds = make_constrained()
    cands, predicted = gen_candidates_demo(
        X,
        Y,
        bounds,
        q=16,
        config=short_config,
        seed=0,
        exclude=X,
        unique=True,
        inequality_constraints=CONSTRAINTS,
        integer_features=[2],
    )
    assert cands.shape == (16, 3)
    assert bool((cands[:, 0] + cands[:, 1] <= 1.0 + 1e-8).all())
    assert bool((cands[:, 1] + cands[:, 2] <= 4.5 + 1e-8).all())
    assert torch.equal(cands[:, 2], cands[:, 2].round())
    assert bool((cands >= bounds[0]).all() and (cands <= bounds[1]).all())
    # The optimum is on the x0 + x1 = 1 edge: the edits reach it, not rejected.
    assert float((cands[:, 0] + cands[:, 1]).max()) > 0.99
    assert predicted.shape == (16,)


def test_fixed_features_are_taken_by_every_candidate(constrained_model: DEMO) -> None:
    fixed, _ = constrained_model.generate(8, seed=1, fixed_features={2: 3.0, 0: 0.25})
    assert bool((fixed[:, 2] == 3.0).all() and (fixed[:, 0] == 0.25).all())
    with pytest.raises(InputDataError):
        constrained_model.generate(2, fixed_features={0: 2.0})  # Outside the bounds.


# ------------------------------------------- integer feasibility as a small MILP


def _ge(indices, coefficients, rhs):
    """One ``sum coefficients * x[indices] >= rhs`` constraint (optimize_acqf format)."""
    return (torch.tensor(indices), torch.tensor(coefficients, dtype=torch.double), float(rhs))


def test_forty_binary_columns_over_a_budget_are_repaired() -> None:
    """Every column at 0.6 rounds to 1; the budget allows 22 of the 40."""
    d = 40
    budget = inequality_matrix(
        [_ge(list(range(d)), [-1.0] * d, -22.0)], d, like=torch.zeros(1, dtype=torch.double)
    )
    bounds = torch.tensor([[0.0] * d, [1.0] * d], dtype=torch.double)
    binary = {j: torch.tensor([0.0, 1.0], dtype=torch.double) for j in range(d)}
    X = torch.full((1, d), 0.6, dtype=torch.double)
    Z, ok = make_feasible(X, bounds, {}, budget, binary)
    assert bool(ok.all())
    assert set(Z.unique().tolist()) <= {0.0, 1.0}
    # The nearest feasible design keeps as many ones as the budget allows.
    assert float(Z.sum()) == 22.0


def test_a_narrow_strip_with_one_integer_point_is_found() -> None:
    """``8 <= 3 x0 + 5 x1 <= 8.4`` with integers in [0, 5]: only (1, 1) is feasible."""
    strip = inequality_matrix(
        [_ge([0, 1], [3.0, 5.0], 8.0), _ge([0, 1], [-3.0, -5.0], -8.4)],
        2,
        like=torch.zeros(1, dtype=torch.double),
    )
    bounds = torch.tensor([[0.0, 0.0], [5.0, 5.0]], dtype=torch.double)
    values = {j: torch.arange(6, dtype=torch.double) for j in range(2)}
    Z, ok = make_feasible(torch.tensor([[5.0, 0.0]], dtype=torch.double), bounds, {}, strip, values)
    assert bool(ok.all())
    assert Z.tolist() == [[1.0, 1.0]]


def test_mixed_columns_meet_the_constraints_with_the_continuous_part_projected() -> None:
    """An integer column the constraint forces down, and a continuous one that
    takes up the slack exactly (on the boundary)."""
    # x0 (integer 0..6) + x1 (continuous 0..1) <= 3.5 and x0 >= 3.
    cons = inequality_matrix(
        [_ge([0, 1], [-1.0, -1.0], -3.5), _ge([0], [1.0], 3.0)],
        2,
        like=torch.zeros(1, dtype=torch.double),
    )
    bounds = torch.tensor([[0.0, 0.0], [6.0, 1.0]], dtype=torch.double)
    X = torch.tensor([[5.7, 0.9], [0.2, 0.9]], dtype=torch.double)
    Z, ok = make_feasible(X, bounds, {}, cons, {0: torch.arange(7, dtype=torch.double)})
    assert bool(ok.all())
    assert Z[:, 0].tolist() == [3.0, 3.0]
    # The first row's projection already has x1 = 0; the second row's x1 moves
    # onto the boundary x0 + x1 = 3.5.
    torch.testing.assert_close(Z[:, 1], torch.tensor([0.0, 0.5], dtype=torch.double))


def test_only_truly_infeasible_constraints_raise() -> None:
    """``x0 + x1 = 1.5`` has no solution in integers; ``= 1`` has two."""
    bounds = torch.tensor([[0.0, 0.0], [3.0, 3.0]], dtype=torch.double)
    half = [_ge([0, 1], [1.0, 1.0], 1.5), _ge([0, 1], [-1.0, -1.0], -1.5)]
    with pytest.raises(InputDataError, match="no design"):
        feasibility_map(bounds, inequality_constraints=half, integer_features=[0, 1])(
            torch.tensor([[2.0, 2.0]], dtype=torch.double)
        )
    one = [_ge([0, 1], [1.0, 1.0], 1.0), _ge([0, 1], [-1.0, -1.0], -1.0)]
    repair = feasibility_map(bounds, inequality_constraints=one, integer_features=[0, 1])
    Z = repair(torch.tensor([[2.6, 2.0], [0.0, 0.2]], dtype=torch.double))
    assert Z.sum(-1).tolist() == [1.0, 1.0]
    assert Z.tolist()[1] == [0.0, 1.0]


def test_ordinal_value_sets_take_allowed_values() -> None:
    """A column whose allowed values are not integers (an ordered choice) under
    a constraint: the repair picks allowed values only."""
    # x0 in {0.1, 0.5, 0.9}, x1 in {8, 16, 32, 64}: 10 x0 + x1 <= 20.
    cons = inequality_matrix(
        [_ge([0, 1], [-10.0, -1.0], -20.0)], 2, like=torch.zeros(1, dtype=torch.double)
    )
    bounds = torch.tensor([[0.1, 8.0], [0.9, 64.0]], dtype=torch.double)
    values = {
        0: torch.tensor([0.1, 0.5, 0.9], dtype=torch.double),
        1: torch.tensor([8.0, 16.0, 32.0, 64.0], dtype=torch.double),
    }
    repair = feasibility_map(bounds, inequality_constraints=[], discrete_values=values)
    Z, ok = make_feasible(
        torch.tensor([[0.85, 60.0]], dtype=torch.double), bounds, {}, cons, values
    )
    assert bool(ok.all())
    assert float(Z[0, 0]) in (0.1, 0.5, 0.9) and float(Z[0, 1]) in (8.0, 16.0, 32.0, 64.0)
    assert 10 * float(Z[0, 0]) + float(Z[0, 1]) <= 20.0
    snapped = repair(torch.tensor([[0.45, 20.0]], dtype=torch.double))
    assert snapped.tolist() == [[0.5, 16.0]]
