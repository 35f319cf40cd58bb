"""Feasibility by construction: fixed features, linear inequalities, integers.

DEMO edits designs in a continuous (encoded) space, so its raw outputs know
nothing of a problem's linear constraints. Rejecting infeasible edits fails
exactly when it matters, when the optimum lies on a constraint's boundary: then
nearly every edit steps outside. Here every design is instead made feasible:

1. fixed features are set;
2. the design is projected (Euclidean, in the raw space) onto the polytope
   ``{x : A x <= b, lower <= x <= upper}`` with Dykstra's alternating
   projections, moving only the columns that are not fixed;
3. discrete columns (integers, ordinal values) are snapped to allowed values,
   and, where snapping broke a constraint, the continuous columns are projected
   again with the discrete ones held; a design whose discrete part alone cannot
   satisfy the constraints is moved to neighbouring discrete values greedily.

Constraints use BoTorch's ``optimize_acqf`` format
``(indices, coefficients, rhs)`` meaning ``sum_i coefficients[i] *
x[indices[i]] >= rhs`` (see :func:`inequality_matrix`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from botorch.exceptions.errors import InputDataError
from torch import Tensor

#: Feasibility slack: constraints are met up to this (relative) amount; Ax
#: accepts 1e-8.
TOLERANCE = 1e-9
_DYKSTRA_ITERATIONS = 500
_SNAP_ROUNDS = 8

InequalityConstraints = Sequence[tuple[Tensor, Tensor, float]]


def inequality_matrix(
    inequality_constraints: InequalityConstraints | None,
    d: int,
    like: Tensor,
) -> tuple[Tensor, Tensor] | None:
    """Converts BoTorch's inequality format into ``(A, b)`` with ``A x <= b``.

    Args:
        inequality_constraints: ``[(indices, coefficients, rhs), ...]`` meaning
            ``sum_i coefficients[i] * x[indices[i]] >= rhs`` (as in
            ``optimize_acqf``); only non-batched (1-d ``indices``) constraints.
        d: Number of columns.
        like: Tensor whose dtype and device ``A`` and ``b`` take.

    Returns:
        ``(A, b)`` of shapes ``m x d`` and ``m``, or None without constraints.

    Raises:
        InputDataError: For malformed constraints.
    """
    if not inequality_constraints:
        return None
    A = like.new_zeros(len(inequality_constraints), d)
    b = like.new_zeros(len(inequality_constraints))
    for k, constraint in enumerate(inequality_constraints):
        if len(constraint) != 3:
            raise InputDataError(
                "Each inequality constraint must be (indices, coefficients, rhs); "
                f"got {constraint!r}."
            )
        indices, coefficients, rhs = constraint
        indices = torch.as_tensor(indices, device=like.device)
        coefficients = torch.as_tensor(coefficients).to(like)
        if indices.dim() != 1 or indices.shape != coefficients.shape:
            raise InputDataError(
                "Inequality constraints need 1-d `indices` and `coefficients` of the "
                f"same length (inter-point constraints are not supported); got shapes "
                f"{tuple(indices.shape)} and {tuple(coefficients.shape)}."
            )
        if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= d):
            raise InputDataError(f"Constraint indices {indices.tolist()} outside 0..{d - 1}.")
        A[k].index_add_(0, indices.long(), -coefficients)
        b[k] = -float(rhs)
    return A, b


def satisfied(X: Tensor, A: Tensor | None, b: Tensor | None, tol: float = 1e-8) -> Tensor:
    """Marks the rows of ``X`` with ``A x <= b + tol`` (all rows if ``A`` is None)."""
    if A is None or b is None:
        return torch.ones(X.shape[0], dtype=torch.bool, device=X.device)
    return (X @ A.T.to(X) <= b.to(X).reshape(-1) + tol).all(dim=-1)


def project_to_polytope(
    X: Tensor,
    bounds: Tensor,
    A: Tensor | None,
    b: Tensor | None,
    movable: Tensor | None = None,
    iterations: int = _DYKSTRA_ITERATIONS,
) -> Tensor:
    """Euclidean projection of each row onto ``{A x <= b} ∩ box``.

    Dykstra's algorithm over the halfspaces and the box converges to the exact
    projection of every row (when the set is not empty), moving only the
    ``movable`` columns; the others keep their values (they enter the right-hand
    sides).

    Args:
        X: ``n x d`` points.
        bounds: ``2 x d`` box.
        A: ``m x d`` constraint matrix, or None (box only).
        b: ``m`` right-hand sides.
        movable: ``d`` booleans, the columns that may change (default: all).
        iterations: Dykstra sweeps at most.

    Returns:
        The projected ``n x d`` points (a new tensor).
    """
    lower, upper = bounds[0].to(X), bounds[1].to(X)
    movable = (
        torch.ones(X.shape[-1], dtype=torch.bool, device=X.device) if movable is None else movable
    )
    Z = torch.where(movable, torch.minimum(torch.maximum(X, lower), upper), X)
    if A is None or b is None or A.shape[0] == 0 or X.shape[0] == 0:
        return Z
    A, b = A.to(X), b.to(X).reshape(-1)
    free = A * movable.to(X)
    # Right-hand sides with the held columns moved over; slightly tightened so
    # that round-off never leaves a point just outside.
    rhs = b.to(X) - Z @ (A * (~movable).to(X)).T - TOLERANCE * (1.0 + b.to(X).abs())
    norms = (free * free).sum(-1)
    active = norms > 0
    corrections = [torch.zeros_like(Z) for _ in range(A.shape[0] + 1)]
    for _ in range(iterations):
        before = Z
        for k in range(A.shape[0]):
            if not bool(active[k]):
                continue
            Y = Z + corrections[k]
            excess = (Y @ free[k] - rhs[:, k]).clamp_min(0.0)
            new = Y - (excess / norms[k]).unsqueeze(-1) * free[k]
            corrections[k] = Y - new
            Z = new
        Y = Z + corrections[-1]
        new = torch.where(movable, torch.minimum(torch.maximum(Y, lower), upper), Y)
        corrections[-1] = Y - new
        Z = new
        if float((Z - before).abs().max()) < 1e-12 and bool((Z @ free.T <= rhs + 1e-12).all()):
            break
    return Z


def make_feasible(
    X: Tensor,
    bounds: Tensor,
    fixed_features: Mapping[int, float] | None = None,
    linear: tuple[Tensor, Tensor] | None = None,
    discrete_values: Mapping[int, Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """Sets fixed features, projects onto the constraints and snaps discrete
    columns, keeping every row feasible where possible.

    Args:
        X: ``n x d`` designs in the raw space.
        bounds: ``2 x d`` bounds.
        fixed_features: ``{column: value}``.
        linear: ``(A, b)`` with ``A x <= b`` required (see
            :func:`inequality_matrix`).
        discrete_values: ``{column: sorted allowed values}`` for integer or
            ordinal columns (categorical codes included).

    Returns:
        ``(designs, feasible)``: the ``n x d`` designs and a boolean mask of the
        rows that satisfy every constraint (the others could not be repaired).
    """
    d = X.shape[-1]
    Z = X.clone()
    fixed = dict(fixed_features or {})
    for j, value in fixed.items():
        Z[:, j] = value
    discrete = {j: v.to(X) for j, v in (discrete_values or {}).items() if j not in fixed}
    A, b = (None, None) if linear is None else (linear[0].to(X), linear[1].to(X).reshape(-1))
    movable = torch.ones(d, dtype=torch.bool, device=X.device)
    for j in fixed:
        movable[j] = False
    Z = project_to_polytope(Z, bounds, A, b, movable)
    Z = _snap(Z, discrete)
    ok = satisfied(Z, A, b)
    if A is None or bool(ok.all()):
        return Z, ok
    continuous = movable.clone()
    for j in discrete:
        continuous[j] = False
    bad = ~ok
    if bool(continuous.any()):
        Z[bad] = project_to_polytope(Z[bad], bounds, A, b, continuous)
        ok = satisfied(Z, A, b)
    for _ in range(_SNAP_ROUNDS):
        bad = torch.nonzero(~ok).flatten()
        if bad.numel() == 0 or not discrete:
            break
        Z[bad] = _step_discrete(Z[bad], discrete, A, b)
        if bool(continuous.any()):
            Z[bad] = project_to_polytope(Z[bad], bounds, A, b, continuous)
        ok = satisfied(Z, A, b)
    return Z, ok


def _snap(Z: Tensor, discrete: Mapping[int, Tensor]) -> Tensor:
    for j, values in discrete.items():
        Z[:, j] = nearest(Z[:, j], values)
    return Z


def _step_discrete(Z: Tensor, discrete: Mapping[int, Tensor], A: Tensor, b: Tensor) -> Tensor:
    """Moves one discrete column per row to a neighbouring allowed value, the
    move that reduces the total constraint violation most."""

    def violation(W: Tensor) -> Tensor:
        return (W @ A.T - b).clamp_min(0.0).sum(-1)

    best, best_violation = Z.clone(), violation(Z)
    for j, values in discrete.items():
        position = torch.searchsorted(values, Z[:, j].contiguous())
        for step in (-1, 1):
            k = (position + step).clamp(0, values.numel() - 1)
            W = Z.clone()
            W[:, j] = values[k]
            v = violation(W)
            better = v < best_violation
            best[better], best_violation[better] = W[better], v[better]
    return best


def nearest(x: Tensor, values: Tensor) -> Tensor:
    """Snaps each entry of ``x`` to the nearest entry of the sorted ``values``."""
    if values.numel() == 1:
        return values.expand_as(x).clone()
    upper = torch.searchsorted(values, x.contiguous()).clamp(1, values.numel() - 1)
    lo, hi = values[upper - 1], values[upper]
    return torch.where(x - lo <= hi - x, lo, hi)


def integer_values(bounds: Tensor, integer_features: Sequence[int] | None) -> dict[int, Tensor]:
    """``{column: allowed integers}`` of integer columns within ``bounds``.

    Raises:
        InputDataError: For a column index out of range or a range without an
            integer.
    """
    out: dict[int, Tensor] = {}
    d = bounds.shape[-1]
    for j in integer_features or ():
        if not 0 <= int(j) < d:
            raise InputDataError(f"integer feature {j} is not a column index in 0..{d - 1}.")
        lo, hi = float(torch.ceil(bounds[0, j])), float(torch.floor(bounds[1, j]))
        if lo > hi:
            raise InputDataError(f"Column {j} has no integer inside its bounds.")
        out[int(j)] = torch.arange(lo, hi + 1, dtype=bounds.dtype, device=bounds.device)
    return out


def feasibility_map(
    bounds: Tensor,
    categorical_features: Mapping[int, int] | None = None,
    fixed_features: Mapping[int, float] | None = None,
    inequality_constraints: InequalityConstraints | None = None,
    integer_features: Sequence[int] | None = None,
):
    """A function that makes ``n x d`` raw designs feasible, or None if there is
    nothing to enforce.

    The function sets ``fixed_features``, projects onto
    ``inequality_constraints`` (``optimize_acqf`` format) and snaps integer and
    categorical columns (see :func:`make_feasible`). It raises
    ``InputDataError`` if a design cannot be repaired (the discrete columns
    alone cannot meet a constraint).

    Raises:
        InputDataError: For constraints on categorical columns, fixed values
            outside the bounds, or malformed constraints.
    """
    d = bounds.shape[-1]
    fixed = {int(j): float(v) for j, v in (fixed_features or {}).items()}
    for j, v in fixed.items():
        if not 0 <= j < d:
            raise InputDataError(f"fixed feature {j} is not a column index in 0..{d - 1}.")
        if not float(bounds[0, j]) <= v <= float(bounds[1, j]):
            raise InputDataError(f"fixed value {v} of column {j} is outside its bounds.")
    linear = inequality_matrix(inequality_constraints, d, like=bounds)
    cats = dict(categorical_features or {})
    if linear is not None and any(bool(linear[0][:, j].ne(0).any()) for j in cats):
        raise InputDataError("Inequality constraints cannot involve categorical columns.")
    discrete = integer_values(bounds, integer_features)
    for j, k in cats.items():
        discrete[j] = torch.arange(k, dtype=bounds.dtype, device=bounds.device)
    if not fixed and linear is None and not integer_features:
        return None

    def feasible(X: Tensor) -> Tensor:
        Z, ok = make_feasible(X, bounds.to(X), fixed, linear, discrete)
        if not bool(ok.all()):
            raise InputDataError(
                f"{int((~ok).sum())} designs cannot satisfy the inequality constraints "
                "with integer or categorical columns at allowed values; check that "
                "the constraints leave feasible designs."
            )
        return Z

    return feasible
