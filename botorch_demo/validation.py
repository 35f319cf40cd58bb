"""Input checks at the public boundary, with messages that name the problem."""

from __future__ import annotations

import operator
import warnings

import torch
from botorch.exceptions import InputDataError
from botorch.exceptions.warnings import InputDataWarning
from torch import Tensor

from botorch_demo.exceptions import DivergenceError


def validate_training_data(
    train_X: Tensor,
    train_Y: Tensor,
    bounds: Tensor,
    categorical_features: dict[int, int] | None,
) -> dict[int, int]:
    """Check the offline dataset, the bounds and the categorical layout.

    Args:
        train_X: ``n x d`` designs in the raw space.
        train_Y: ``n x 1`` scores to maximise.
        bounds: ``2 x d`` lower and upper bounds.
        categorical_features: ``{column: n_categories}`` or ``None``.

    Returns:
        The categorical layout as a sorted dict of plain ints.

    Raises:
        InputDataError: On wrong types, shapes, non-finite values, too few
            points, values outside the bounds or invalid categories.
        ValueError: On invalid ``bounds`` or ``categorical_features``.
    """
    n, d = _check_shapes(train_X, train_Y, bounds)
    _check_values(train_X, train_Y, bounds)
    cats = validate_categorical_features(categorical_features, d)
    cat_cols = list(cats)
    cont_cols = [j for j in range(d) if j not in cats]
    if cont_cols:
        xc = train_X[:, cont_cols]
        outside = ((xc < bounds[0, cont_cols]) | (xc > bounds[1, cont_cols])).any(dim=0)
        if outside.any():
            cols = [cont_cols[j] for j in outside.nonzero().flatten().tolist()]
            raise InputDataError(f"train_X has values outside bounds in columns {cols}.")
    for j in cat_cols:
        n_cat = cats[j]
        if bounds[0, j] != 0 or bounds[1, j] != n_cat - 1:
            raise ValueError(
                f"bounds of categorical column {j} must be [0, {n_cat - 1}] for {n_cat} "
                f"categories, got [{bounds[0, j].item()}, {bounds[1, j].item()}]."
            )
    if cat_cols:
        check_categorical_values(train_X, cats, "train_X")
    if n > 1 and bool((train_Y == train_Y[0]).all()):
        warnings.warn(
            "train_Y is constant: the surrogate carries no signal, so gradient ascent "
            "barely moves and DEMO reduces to lightly editing the given designs.",
            InputDataWarning,
            stacklevel=3,
        )
    return cats


def _check_shapes(train_X: Tensor, train_Y: Tensor, bounds: Tensor) -> tuple[int, int]:
    """Types, shapes and devices of the training tensors; returns ``(n, d)``."""
    for name, t in (("train_X", train_X), ("train_Y", train_Y), ("bounds", bounds)):
        if not isinstance(t, Tensor):
            raise InputDataError(f"{name} must be a torch.Tensor, got {type(t).__name__}.")
        _check_layout(t, name)
        if not t.is_floating_point():
            raise InputDataError(f"{name} must be a floating-point tensor, got dtype {t.dtype}.")
    if train_X.dim() != 2:
        raise InputDataError(f"train_X must be an n x d tensor, got shape {tuple(train_X.shape)}.")
    n, d = train_X.shape
    if d < 1:
        raise InputDataError(f"train_X must have at least one column, got shape {(n, d)}.")
    if train_Y.dim() != 2 or train_Y.shape[-1] != 1:
        raise InputDataError(
            "train_Y must be an n x 1 tensor (a single objective), got shape "
            f"{tuple(train_Y.shape)}."
        )
    if train_Y.shape[0] != n:
        raise InputDataError(
            f"train_X has {n} rows but train_Y has {train_Y.shape[0]}; they must match."
        )
    if bounds.shape != (2, d):
        raise ValueError(
            f"bounds must have shape 2 x d = (2, {d}) to match train_X, got {tuple(bounds.shape)}."
        )
    if train_Y.device != train_X.device or bounds.device != train_X.device:
        raise InputDataError(
            "train_X, train_Y and bounds must be on the same device, got "
            f"{train_X.device}, {train_Y.device} and {bounds.device}."
        )
    if n < 2:
        raise InputDataError(f"DEMO needs at least 2 training points, got {n}.")
    return n, d


def _check_layout(t: Tensor, name: str) -> None:
    """Refuse sparse, quantised and meta tensors: only dense tensors with data."""
    if t.layout != torch.strided:
        raise InputDataError(f"{name} must be a dense tensor, got layout {t.layout}.")
    if t.is_meta:
        raise InputDataError(f"{name} is a meta tensor (it holds no data).")


def _check_values(train_X: Tensor, train_Y: Tensor, bounds: Tensor) -> None:
    """Finite bounds with lower < upper, and finite designs and scores."""
    if not torch.isfinite(bounds).all():
        raise ValueError("bounds contain NaN or infinite values.")
    bad = (bounds[0] >= bounds[1]).nonzero().flatten().tolist()
    if bad:
        raise ValueError(
            f"bounds must have lower < upper in every column; violated in columns {bad}."
        )
    wide = (~torch.isfinite(bounds[1] - bounds[0])).nonzero().flatten().tolist()
    if wide:
        raise ValueError(
            f"bounds span a range too wide for {bounds.dtype} (upper - lower overflows) in "
            f"columns {wide}; rescale those columns."
        )
    for name, t in (("train_X", train_X), ("train_Y", train_Y)):
        if not torch.isfinite(t).all():
            rows = (~torch.isfinite(t)).any(dim=-1).nonzero().flatten()
            raise InputDataError(
                f"{name} contains NaN or infinite values ({rows.numel()} rows, first at row "
                f"{rows[0].item()})."
            )


def validate_categorical_features(
    categorical_features: dict[int, int] | None, d: int
) -> dict[int, int]:
    """Check ``{column: n_categories}`` against the dimension ``d``.

    Args:
        categorical_features: The layout, or ``None`` for none.
        d: Number of columns.

    Returns:
        A sorted dict of plain ints.

    Raises:
        ValueError: On a bad column index or a category count below 2.
    """
    if categorical_features is None:
        return {}
    if not isinstance(categorical_features, dict):
        raise ValueError(
            "categorical_features must be a dict {column: n_categories}, got "
            f"{type(categorical_features).__name__}."
        )
    out: dict[int, int] = {}
    for key, count in categorical_features.items():
        col = _as_int(key)
        if col is None:
            raise ValueError(
                f"categorical_features keys must be integer column indices, got {key!r} "
                f"({type(key).__name__})."
            )
        if not 0 <= col < d:
            raise ValueError(f"categorical_features has column {col}, outside 0..{d - 1}.")
        n_cat = _as_int(count)
        if n_cat is None or n_cat < 2:
            raise ValueError(
                f"categorical_features[{col}] must be an int >= 2 categories, got {count!r}."
            )
        if col in out:
            raise ValueError(f"categorical_features names column {col} twice.")
        out[col] = n_cat
    return dict(sorted(out.items()))


def _as_int(value: object) -> int | None:
    """``value`` as a plain int if it is integer-like (``int``, ``np.int64``...), else None."""
    if isinstance(value, bool) or (isinstance(value, Tensor) and value.is_floating_point()):
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


MAX_SEED = 2**63 - 2
"""Largest seed accepted (``fit`` also uses ``seed + 1``; torch takes int64 seeds)."""


def validate_seed(seed: object, name: str = "seed") -> int | None:
    """Check a seed: ``None`` or an integer-like value in ``[0, MAX_SEED]``.

    Args:
        seed: The seed; ``np.int64`` and 0-dim integer tensors are accepted,
            floats such as ``2.7`` (or even ``2.0``), strings and bools are not.
        name: Argument name for the message.

    Returns:
        The seed as a plain int, or ``None``.

    Raises:
        TypeError: If the seed is not integer-like.
        ValueError: If it is outside ``[0, MAX_SEED]``.
    """
    if seed is None:
        return None
    value = _as_int(seed)
    if value is None:
        raise TypeError(f"{name} must be an int or None, got {seed!r} ({type(seed).__name__}).")
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{name} must lie in [0, 2**63 - 2], got {value}.")
    return value


def validate_count(value: object, name: str, minimum: int) -> int:
    """Check an integer argument such as ``max_rounds``.

    Raises:
        TypeError: If ``value`` is not integer-like.
        ValueError: If it is below ``minimum``.
    """
    out = _as_int(value)
    if out is None:
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__}).")
    if out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}.")
    return out


def standardisation(y: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of scores, computed without overflow.

    ``y.std()`` squares the scores and overflows for ``|y|`` above about 1e154
    (float64); here the scores are divided by their largest magnitude first.
    A spread below 4 machine epsilons of that magnitude (rounding noise) counts as
    constant (std 1).

    Args:
        y: ``n`` finite scores.

    Returns:
        ``(mean, std)`` as 0-dim tensors in ``y``'s dtype.

    Raises:
        InputDataError: If the standardised scores are not finite (a range that
            no floating-point standardisation can represent).
    """
    scale = y.abs().max()
    if not scale > 0:
        return y.new_zeros(()), y.new_ones(())
    unit = y / scale
    mean = unit.mean() * scale
    std = unit.std() * scale if y.numel() > 1 else y.new_zeros(())
    if not std > scale * (4 * torch.finfo(y.dtype).eps):
        std = y.new_ones(())
    if not (
        torch.isfinite(mean) and torch.isfinite(std) and torch.isfinite((y - mean) / std).all()
    ):
        raise InputDataError(
            f"train_Y spans a range that cannot be standardised in {y.dtype} "
            f"(largest magnitude {scale.item():.3g}); rescale the scores."
        )
    return mean, std


def check_categorical_values(X: Tensor, cats: dict[int, int], name: str) -> None:
    """Raise if categorical columns of ``X`` are not integers in ``0..n-1``.

    Args:
        X: ``n x d`` designs.
        cats: ``{column: n_categories}``.
        name: Name of ``X`` for the message.

    Raises:
        InputDataError: Naming the first offending column.
    """
    for j, n_cat in cats.items():
        col = X[:, j]
        bad = (col != col.round()) | (col < 0) | (col > n_cat - 1)
        if bad.any():
            row = int(bad.nonzero()[0].item())
            raise InputDataError(
                f"{name}[:, {j}] must hold integer categories 0..{n_cat - 1}; "
                f"found {col[row].item()} at row {row}."
            )


def validate_q(q: int, n_sources: int | None) -> None:
    """Check the batch size ``q``.

    Args:
        q: Requested number of candidates.
        n_sources: Distinct designs available for editing, or ``None`` when
            generating from the prior (no upper limit).

    Raises:
        ValueError: If ``q < 1`` or, when editing, ``q`` exceeds the number of
            distinct designs.
    """
    if _as_int(q) is None or q < 1:
        raise ValueError(f"q must be a positive int, got {q!r}.")
    if n_sources is not None and q > n_sources:
        raise ValueError(
            f"q={q} exceeds the {n_sources} distinct training designs that editing can start "
            "from (Algorithm 1 edits the top-q designs). Lower q or set editing=False."
        )


def validate_designs(
    X: object, d: int, categorical_features: dict[int, int], dtype: torch.dtype, name: str
) -> Tensor:
    """Check designs given to a fitted model (``predict``, ``exclude``).

    Args:
        X: The designs, expected as an ``n x d`` real tensor.
        d: The model's number of columns.
        categorical_features: ``{column: n_categories}`` of the model.
        dtype: The dtype integer or bool tensors are converted to.
        name: Name of ``X`` for the messages.

    Returns:
        ``X`` detached, floating point.

    Raises:
        InputDataError: On a wrong type or shape, complex or non-finite values,
            or invalid categories.
    """
    if not isinstance(X, Tensor) or X.dim() != 2 or X.shape[-1] != d:
        shape = tuple(X.shape) if isinstance(X, Tensor) else type(X).__name__
        raise InputDataError(f"{name} must be an n x {d} tensor, got {shape}.")
    _check_layout(X, name)
    if X.is_complex():
        raise InputDataError(f"{name} must be a real tensor, got dtype {X.dtype}.")
    X = X.detach()
    if not X.is_floating_point():
        X = X.to(dtype)
    if not torch.isfinite(X).all():
        raise InputDataError(f"{name} contains NaN or infinite values.")
    if categorical_features:
        check_categorical_values(X, categorical_features, name)
    return X


def require_finite(what: str, tensors: object, fields: str) -> None:
    """Raise a clear error if a phase produced NaN or infinite numbers.

    Args:
        what: The phase, e.g. ``"Training the surrogate"``.
        tensors: The tensors it produced (an iterable).
        fields: The config fields to lower, for the message.

    Raises:
        DivergenceError: Naming the phase and the config fields.
    """
    if not all(bool(torch.isfinite(t).all()) for t in tensors):
        raise DivergenceError(
            f"{what} diverged: it produced NaN or infinite values. Lower DEMOConfig.{fields} "
            "(or check the scale of the data)."
        )
