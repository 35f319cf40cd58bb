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

import math
import operator
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


def _index(value: object, what: str, d: int) -> int:
    """``value`` as a column index in ``0..d-1``, or an ``InputDataError`` naming ``what``.

    Plain ints, NumPy integers and 0-dim integer tensors are indices; bools,
    floats (even ``2.0``), strings and ``None`` are not.
    """
    if isinstance(value, bool) or (isinstance(value, Tensor) and value.dtype == torch.bool):
        raise InputDataError(f"{what} must be an integer column index, got {value!r} (bool).")
    try:
        index = operator.index(value)
    except TypeError:
        raise InputDataError(
            f"{what} must be an integer column index, got {value!r} ({type(value).__name__})."
        ) from None
    if not 0 <= index < d:
        raise InputDataError(f"{what} is column {index}, not a column index in 0..{d - 1}.")
    return index


def _real(value: object, what: str) -> float:
    """``value`` as a finite float, or an ``InputDataError`` naming ``what``.

    Ints, floats, NumPy numbers and 1-element real tensors are numbers; bools,
    strings, ``None`` and complex numbers are not.
    """
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.is_complex() or value.dtype == torch.bool:
            raise InputDataError(
                f"{what} must be a real number, got a tensor of shape {tuple(value.shape)} "
                f"and dtype {value.dtype}."
            )
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise InputDataError(
            f"{what} must be a real number, got {value!r} ({type(value).__name__})."
        )
    if isinstance(value, (complex, np.complexfloating)):
        raise InputDataError(f"{what} must be a real number, got {value!r} (complex).")
    out = float(value)
    if not math.isfinite(out):
        raise InputDataError(f"{what} must be finite, got {out}.")
    return out


def _index_list(values: object, what: str, d: int) -> list[int]:
    """Column indices from a list, tuple, 1-d array or tensor, checked for range and duplicates.

    A floating-point tensor or array is accepted when every entry is an integer
    value (``torch.tensor([0., 2.])``); ``[0.5, 1.7]`` is refused, never truncated.
    """
    if isinstance(values, (str, bytes, Mapping)) or values is None:
        raise InputDataError(
            f"{what} must be a sequence of column indices, got {type(values).__name__}."
        )
    if isinstance(values, (Tensor, np.ndarray)):
        array = values.detach().cpu().numpy() if isinstance(values, Tensor) else values
        if array.ndim != 1:
            raise InputDataError(f"{what} must be 1-d, got shape {tuple(array.shape)}.")
        if (
            array.dtype.kind == "f"
            and np.isfinite(array).all()
            and (array == np.round(array)).all()
        ):
            items: list[object] = [int(v) for v in array]
        elif array.dtype.kind in "iu":
            items = [int(v) for v in array]
        else:
            raise InputDataError(
                f"{what} must hold integer column indices, got {array.tolist()} "
                f"(dtype {values.dtype})."
            )
    else:
        try:
            items = list(values)  # type: ignore[call-overload]
        except TypeError:
            raise InputDataError(
                f"{what} must be a sequence of column indices, got {values!r} "
                f"({type(values).__name__})."
            ) from None
    out = [_index(v, f"{what}[{k}]", d) for k, v in enumerate(items)]
    duplicates = sorted({j for j in out if out.count(j) > 1})
    if duplicates:
        raise InputDataError(f"{what} names columns {duplicates} more than once.")
    return out


def validate_fixed_features(
    fixed_features: object,
    bounds: Tensor,
    categorical_features: Mapping[int, int] | None = None,
    integer_columns: Sequence[int] = (),
) -> dict[int, float]:
    """Check ``fixed_features`` against the bounds and the discrete columns.

    Args:
        fixed_features: ``{column: value}`` or ``None``.
        bounds: ``2 x d`` bounds.
        categorical_features: ``{column: n_categories}``; a fixed categorical
            value must be one of its categories.
        integer_columns: Integer columns; a fixed value there must be an integer
            (it is never snapped, so ``0.5`` on one is a conflict).

    Returns:
        ``{column: value}`` with plain int keys and float values.

    Raises:
        InputDataError: Naming the key or value: a non-dict, a key that is not
            an integer column index (floats and bools included), a value that is
            not a finite real number or lies outside the column's bounds, or
            that is not an allowed value of a categorical or integer column.
    """
    if fixed_features is None:
        return {}
    if not isinstance(fixed_features, Mapping):
        raise InputDataError(
            f"fixed_features must be a dict {{column: value}}, got {type(fixed_features).__name__}."
        )
    d = bounds.shape[-1]
    cats = dict(categorical_features or {})
    integers = set(integer_columns)
    out: dict[int, float] = {}
    for key, value in fixed_features.items():
        j = _index(key, f"fixed_features key {key!r}", d)
        v = _real(value, f"fixed_features[{j}]")
        lo, hi = float(bounds[0, j]), float(bounds[1, j])
        if not lo <= v <= hi:
            raise InputDataError(f"fixed_features[{j}] = {v} is outside its bounds [{lo}, {hi}].")
        if j in cats and v != round(v):
            raise InputDataError(
                f"fixed_features[{j}] = {v} is not a category of categorical column {j} "
                f"(integers 0..{cats[j] - 1})."
            )
        if j in integers and v != round(v):
            raise InputDataError(
                f"fixed_features[{j}] = {v} conflicts with integer_features: column {j} "
                "takes integer values only."
            )
        out[j] = v
    return out


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
            Indices are integers (an integer-valued float tensor is accepted) in
            ``0..d-1`` without duplicates within a constraint; coefficients and
            ``rhs`` are finite real numbers.
        d: Number of columns.
        like: Tensor whose dtype and device ``A`` and ``b`` take.

    Returns:
        ``(A, b)`` of shapes ``m x d`` and ``m``, or None without constraints.

    Raises:
        InputDataError: For malformed constraints, naming the constraint
            (``inequality_constraints[k]``) and its part.
    """
    if inequality_constraints is None:
        return None
    if isinstance(inequality_constraints, (str, bytes, Mapping, Tensor)) or not isinstance(
        inequality_constraints, Sequence
    ):
        raise InputDataError(
            "inequality_constraints must be a list of (indices, coefficients, rhs), got "
            f"{type(inequality_constraints).__name__}."
        )
    if not inequality_constraints:
        return None
    A = like.new_zeros(len(inequality_constraints), d)
    b = like.new_zeros(len(inequality_constraints))
    for k, constraint in enumerate(inequality_constraints):
        what = f"inequality_constraints[{k}]"
        if (
            isinstance(constraint, (str, bytes))
            or not isinstance(constraint, Sequence)
            or len(constraint) != 3
        ):
            raise InputDataError(
                f"{what} must be (indices, coefficients, rhs); got {constraint!r}."
            )
        indices, coefficients, rhs = constraint
        if isinstance(indices, Tensor) and indices.dim() != 1:
            raise InputDataError(
                f"{what}: indices must be 1-d (inter-point constraints are not supported); "
                f"got shape {tuple(indices.shape)}."
            )
        columns = _index_list(indices, f"{what} indices", d)
        if isinstance(coefficients, (str, bytes)) or coefficients is None:
            raise InputDataError(
                f"{what}: coefficients must be real numbers, got {coefficients!r}."
            )
        try:
            coef = torch.as_tensor(coefficients)
        except (TypeError, ValueError, RuntimeError):
            raise InputDataError(
                f"{what}: coefficients must be real numbers, got {coefficients!r}."
            ) from None
        if coef.is_complex() or coef.dtype == torch.bool:
            raise InputDataError(f"{what}: coefficients must be real, got dtype {coef.dtype}.")
        if coef.dim() != 1 or coef.numel() != len(columns):
            raise InputDataError(
                f"{what}: indices and coefficients must be 1-d of the same length (inter-point "
                f"constraints are not supported); got {len(columns)} indices and coefficients "
                f"of shape {tuple(coef.shape)}."
            )
        coef = coef.to(like)
        if not bool(torch.isfinite(coef).all()):
            raise InputDataError(f"{what}: coefficients must be finite, got {coef.tolist()}.")
        A[k].index_add_(0, torch.tensor(columns, dtype=torch.long, device=like.device), -coef)
        b[k] = -_real(rhs, f"{what} rhs")
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

    expr, var_lb, var_ub, integrality, sets = _milp_variables(columns, discrete, lower, upper)
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


def _milp_variables(
    columns: np.ndarray, discrete: Mapping[int, Tensor], lower: np.ndarray, upper: np.ndarray
) -> tuple[list[dict[int, float]], list[float], list[float], list[int], list[list[int]]]:
    """The value variables of :func:`nearest_feasible`'s program.

    One variable per continuous or consecutive-integer column ("value"
    columns), or one binary indicator per allowed value ("indicator" columns).

    Returns:
        ``(expr, lower, upper, integrality, sets)``: per column its value as
        ``{variable: coefficient}``; the variables' bounds and integrality; the
        indicator variables of each indicator column.
    """
    expr: list[dict[int, float]] = []
    var_lb: list[float] = []
    var_ub: list[float] = []
    integrality: list[int] = []
    sets: list[list[int]] = []
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
    return expr, var_lb, var_ub, integrality, sets


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
        InputDataError: For an index that is not an integer column index in
            range (bools, floats and strings included), a duplicate, or a
            range without an integer.
    """
    out: dict[int, Tensor] = {}
    if integer_features is None:
        return out
    for j in _index_list(integer_features, "integer_features", bounds.shape[-1]):
        lo, hi = float(torch.ceil(bounds[0, j])), float(torch.floor(bounds[1, j]))
        if lo > hi:
            raise InputDataError(f"integer_features: column {j} has no integer inside its bounds.")
        out[j] = torch.arange(lo, hi + 1, dtype=bounds.dtype, device=bounds.device)
    return out


def _discrete_values(discrete_values: object, bounds: Tensor) -> dict[int, Tensor]:
    """Checked ``{column: sorted allowed values}`` (finite, non-empty, 1-d)."""
    if discrete_values is None:
        return {}
    if not isinstance(discrete_values, Mapping):
        raise InputDataError(
            "discrete_values must be a dict {column: allowed values}, got "
            f"{type(discrete_values).__name__}."
        )
    out: dict[int, Tensor] = {}
    for key, values in discrete_values.items():
        j = _index(key, f"discrete_values key {key!r}", bounds.shape[-1])
        try:
            v = torch.as_tensor(values)
        except (TypeError, ValueError, RuntimeError):
            raise InputDataError(
                f"discrete_values[{j}] must be real numbers, got {values!r}."
            ) from None
        if v.dim() != 1 or v.numel() == 0 or v.is_complex() or v.dtype == torch.bool:
            raise InputDataError(
                f"discrete_values[{j}] must be a non-empty 1-d set of real numbers, got "
                f"shape {tuple(v.shape)} and dtype {v.dtype}."
            )
        v = v.to(bounds)
        if not bool(torch.isfinite(v).all()):
            raise InputDataError(f"discrete_values[{j}] must be finite, got {v.tolist()}.")
        out[j] = v.sort().values
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

    Every argument is checked here, before any design is generated (so
    :func:`~botorch_demo.generation.gen_candidates_demo` calls this before
    fitting). The function sets ``fixed_features``, projects onto
    ``inequality_constraints`` (``optimize_acqf`` format) and snaps integer,
    ordinal and categorical columns (see :func:`make_feasible`). It raises
    ``InputDataError`` only when the constraints leave no feasible design.

    Args:
        bounds: ``2 x d`` bounds.
        categorical_features: ``{column: number of categories}``.
        fixed_features: ``{column: value}``; keys are integer column indices
            (never floats or bools), values finite and inside the bounds, and
            an integer (category) on integer (categorical) columns.
        inequality_constraints: ``[(indices, coefficients, rhs), ...]`` as in
            ``optimize_acqf`` (see :func:`inequality_matrix`).
        integer_features: Columns whose values are the integers in their
            bounds: integer indices in range, without duplicates.
        discrete_values: ``{column: allowed values}`` of ordinal columns whose
            values are not simply the integers in their bounds (e.g. an ordered
            choice of 8, 16, 32, 64, or values in log space).

    Raises:
        InputDataError: Naming the argument: malformed or out-of-range indices,
            non-finite or non-numeric values, fixed values outside the bounds
            or not allowed on their discrete column, and constraints on
            categorical columns.
    """
    d = bounds.shape[-1]
    cats = dict(categorical_features or {})
    discrete = integer_values(bounds, integer_features)
    fixed = validate_fixed_features(fixed_features, bounds, cats, list(discrete))
    linear = inequality_matrix(inequality_constraints, d, like=bounds)
    if linear is not None and any(bool(linear[0][:, j].ne(0).any()) for j in cats):
        raise InputDataError(
            "inequality_constraints cannot involve categorical columns "
            f"{sorted(j for j in cats if bool(linear[0][:, j].ne(0).any()))}."
        )
    discrete.update(_discrete_values(discrete_values, bounds))
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
