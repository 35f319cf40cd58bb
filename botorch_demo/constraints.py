"""Feasibility by construction: fixed features, linear inequalities, integers.

DEMO edits designs in a continuous (encoded) space, so its raw outputs know
nothing of a problem's linear constraints. Rejecting infeasible edits fails
exactly when it matters, when the optimum lies on a constraint's boundary: then
nearly every edit steps outside. Here every design is instead made feasible:

1. fixed features are set;
2. the design is projected (Euclidean, in the raw space) onto the polytope
   ``{x : A x <= b, lower <= x <= upper}`` with Dykstra's alternating
   projections, moving only the columns that are not fixed;
3. discrete columns (integers, ordinal values) are snapped to allowed values;
   where snapping broke a constraint, the nearest feasible design is found by a
   small mixed-integer program (SciPy's ``milp``: the discrete columns as
   integer variables or value indicators, the continuous ones as continuous
   variables, L1 distance as the objective), and its continuous columns are
   projected once more with the discrete ones held. A design is reported
   infeasible only when the constraints leave no design at all.

Constraints use BoTorch's ``optimize_acqf`` format
``(indices, coefficients, rhs)`` meaning ``sum_i coefficients[i] *
x[indices[i]] >= rhs`` (see :func:`inequality_matrix`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from botorch.exceptions.errors import InputDataError
from scipy.optimize import Bounds, LinearConstraint, milp
from torch import Tensor

#: Feasibility slack: constraints are met up to this (relative) amount; Ax
#: accepts 1e-8.
TOLERANCE = 1e-9
_DYKSTRA_ITERATIONS = 500
#: Time limit of one repair program (HiGHS); these programs have a few dozen
#: variables and solve in milliseconds.
_MILP_SECONDS = 10.0

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
    columns; rows that snapping leaves infeasible are repaired exactly.

    Each row is projected (Euclidean) onto ``{A x <= b} ∩ box`` and its discrete
    columns are snapped to the nearest allowed values. Where that breaks a
    constraint, the nearest feasible design (L1 distance to the projected row,
    each column scaled by its range) is found by a small mixed-integer program
    (:func:`nearest_feasible`, SciPy's ``milp``); its continuous columns are
    then projected again with the discrete ones held, so that they land on the
    constraints' boundary rather than at a vertex.

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
        rows that satisfy every constraint. A row is infeasible only if the
        constraints leave no design with the fixed features and allowed discrete
        values at all.
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
    target = project_to_polytope(Z, bounds, A, b, movable)
    Z = _snap(target.clone(), discrete)
    ok = satisfied(Z, A, b)
    if A is None or bool(ok.all()):
        return Z, ok
    continuous = movable.clone()
    for j in discrete:
        continuous[j] = False
    for i in torch.nonzero(~ok).flatten().tolist():
        repaired = nearest_feasible(target[i], bounds, A, b, movable, discrete)
        if repaired is None:
            continue
        if bool(continuous.any()):
            projected = project_to_polytope(repaired.unsqueeze(0), bounds, A, b, continuous)[0]
            if bool(satisfied(projected.unsqueeze(0), A, b)[0]):
                repaired = projected
        Z[i] = repaired
    return Z, satisfied(Z, A, b)


def nearest_feasible(
    x: Tensor,
    bounds: Tensor,
    A: Tensor,
    b: Tensor,
    movable: Tensor,
    discrete: Mapping[int, Tensor],
) -> Tensor | None:
    """The design nearest to ``x`` (L1, each column scaled by its range) with
    ``A z <= b``, ``z`` in the bounds and every discrete column at an allowed
    value, or None if there is none.

    A small mixed-integer program solved by SciPy's ``milp`` (HiGHS). Only the
    columns that appear in a constraint are variables; the others keep their
    values. A discrete column whose allowed values are consecutive integers is
    an integer variable; any other set of allowed values is chosen by binary
    indicators (one per value, exactly one of them set).

    Args:
        x: A ``d`` design (its discrete columns need not be allowed values).
        bounds: ``2 x d`` bounds.
        A: ``m x d`` constraint matrix.
        b: ``m`` right-hand sides.
        movable: ``d`` booleans, the columns that may change.
        discrete: ``{column: sorted allowed values}``.

    Returns:
        The design (a new tensor like ``x``), or None if the program is infeasible.
    """
    x64 = x.detach().cpu().double().numpy()
    A64, b64 = A.detach().cpu().double().numpy(), b.detach().cpu().double().numpy()
    lower, upper = (t.detach().cpu().double().numpy() for t in bounds)
    involved = movable.cpu().numpy() & (np.abs(A64) > 0).any(axis=0)
    columns = np.flatnonzero(involved)
    rows = (np.abs(A64[:, columns]) > 0).any(axis=1)
    held = ~involved
    # Constraints on the variables, with the held columns moved to the right.
    A_var = A64[rows][:, columns]
    rhs = b64[rows] - A64[rows][:, held] @ x64[held]
    if columns.size == 0:
        return x.clone() if bool((rhs >= -1e-8).all()) else None

    # Variables: one per column ("value" columns) or one per allowed value
    # ("indicator" columns), then one distance variable per column.
    expr: list[dict[int, float]] = []  # column -> {variable: coefficient}
    var_lb, var_ub, integrality = [], [], []
    sets: list[list[int]] = []  # indicator variables of each indicator column
    for j in columns.tolist():
        values = discrete.get(j)
        allowed = None if values is None else values.detach().cpu().double().numpy()
        consecutive = allowed is not None and _consecutive_integers(allowed)
        if allowed is None or consecutive:
            k = len(var_lb)
            expr.append({k: 1.0})
            lo, hi = (allowed[0], allowed[-1]) if consecutive else (lower[j], upper[j])
            var_lb.append(lo)
            var_ub.append(hi)
            integrality.append(1 if consecutive else 0)
        else:
            first = len(var_lb)
            expr.append({first + k: float(v) for k, v in enumerate(allowed)})
            sets.append(list(range(first, first + allowed.size)))
            var_lb += [0.0] * allowed.size
            var_ub += [1.0] * allowed.size
            integrality += [1] * allowed.size
    n_values, n_cols = len(var_lb), columns.size
    n = n_values + n_cols
    scale = np.where(upper[columns] > lower[columns], upper[columns] - lower[columns], 1.0)

    def linear_row(coefficients: np.ndarray) -> np.ndarray:
        row = np.zeros(n)
        for c, e in zip(coefficients, expr, strict=True):
            for k, v in e.items():
                row[k] += c * v
        return row

    matrix, lo_rows, hi_rows = [], [], []
    for k in range(A_var.shape[0]):  # A z <= b
        matrix.append(linear_row(A_var[k]))
        lo_rows.append(-np.inf)
        hi_rows.append(rhs[k])
    for c in range(n_cols):  # distance_c >= |z_c - x_c|
        unit = np.zeros(n_cols)
        unit[c] = 1.0
        row = linear_row(unit)
        for sign in (1.0, -1.0):
            r = -sign * row
            r[n_values + c] = 1.0
            matrix.append(r)
            lo_rows.append(-sign * x64[columns[c]])
            hi_rows.append(np.inf)
    for variables in sets:  # exactly one allowed value
        r = np.zeros(n)
        r[variables] = 1.0
        matrix.append(r)
        lo_rows.append(1.0)
        hi_rows.append(1.0)
    cost = np.concatenate([np.zeros(n_values), 1.0 / scale])
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(matrix), np.array(lo_rows), np.array(hi_rows)),
        integrality=np.array(integrality + [0] * n_cols),
        bounds=Bounds(np.array(var_lb + [0.0] * n_cols), np.array(var_ub + [np.inf] * n_cols)),
        options={"time_limit": _MILP_SECONDS},
    )
    if result.x is None:
        return None
    out = x.clone()
    for j, e in zip(columns.tolist(), expr, strict=True):
        value = out.new_tensor([sum(v * result.x[k] for k, v in e.items())])
        allowed = discrete.get(j)
        out[j] = value[0] if allowed is None else nearest(value, allowed.to(out))[0]
    return out


def _consecutive_integers(values: np.ndarray) -> bool:
    """Whether sorted ``values`` are exactly the integers from the first to the last."""
    return bool(
        np.all(values == np.round(values))
        and values.size == round(float(values[-1] - values[0])) + 1
    )


def _snap(Z: Tensor, discrete: Mapping[int, Tensor]) -> Tensor:
    for j, values in discrete.items():
        Z[:, j] = nearest(Z[:, j], values)
    return Z


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
    discrete_values: Mapping[int, Tensor] | None = None,
):
    """A function that makes ``n x d`` raw designs feasible, or None if there is
    nothing to enforce.

    The function sets ``fixed_features``, projects onto
    ``inequality_constraints`` (``optimize_acqf`` format) and snaps integer,
    ordinal and categorical columns (see :func:`make_feasible`). It raises
    ``InputDataError`` only when the constraints leave no feasible design.

    Args:
        bounds: ``2 x d`` bounds.
        categorical_features: ``{column: number of categories}``.
        fixed_features: ``{column: value}``.
        inequality_constraints: ``[(indices, coefficients, rhs), ...]`` as in
            ``optimize_acqf``.
        integer_features: Columns whose values are the integers in their bounds.
        discrete_values: ``{column: allowed values}`` of ordinal columns whose
            values are not simply the integers in their bounds (e.g. an ordered
            choice of 8, 16, 32, 64, or values in log space).

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
    for j, values in (discrete_values or {}).items():
        if not 0 <= int(j) < d:
            raise InputDataError(f"discrete feature {j} is not a column index in 0..{d - 1}.")
        discrete[int(j)] = torch.as_tensor(values).to(bounds).sort().values
    for j, k in cats.items():
        discrete[j] = torch.arange(k, dtype=bounds.dtype, device=bounds.device)
    if not fixed and linear is None and len(discrete) == len(cats):
        return None

    def feasible(X: Tensor) -> Tensor:
        Z, ok = make_feasible(X, bounds.to(X), fixed, linear, discrete)
        if not bool(ok.all()):
            raise InputDataError(
                f"The inequality constraints leave no design with the fixed features and "
                f"allowed integer, ordinal and categorical values ({int((~ok).sum())} "
                "designs could not be repaired); check the constraints."
            )
        return Z

    return feasible
