"""Feasibility by construction: fixed features, inequality constraints, integer columns."""

from __future__ import annotations

import pytest
import torch
from botorch.exceptions.errors import InputDataError

from botorch_demo import DEMO, gen_candidates_demo
from botorch_demo.constraints import inequality_matrix, make_feasible, project_to_polytope

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
