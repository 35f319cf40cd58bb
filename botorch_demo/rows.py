"""Vectorised row-set operations on design tensors.

Rows are compared exactly (every design is a row of an ``n x d`` tensor). All
functions work on any device and return tensors on the inputs' device.

Designs whose entries are all integers of a modest range (categorical and
integer columns, the enumerated spaces of sequence tasks) are compared through
one ``int64`` key per row, a mixed-radix number with the first column most
significant (:func:`row_keys`), so the set operations sort ``n`` integers
rather than ``n`` rows; the keys order rows lexicographically, as
``torch.unique(X, dim=0)`` does, so both paths give the same results. Any
other rows (fractional, non-finite or huge entries) are compared with
``torch.unique(..., dim=0)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: Largest key (and entry magnitude) of the integer path: integers up to
#: 2^53 are exact in float64, so converting an integer-valued entry to int64
#: loses nothing.
_MAX_KEY = 2**53


def row_keys(*tensors: Tensor) -> list[Tensor] | None:
    """One ``int64`` key per row, equal exactly when the rows are equal.

    Each column ``j`` is shifted by its smallest value over all tensors and
    weighted by the product of the later columns' ranges, so the keys order
    the rows lexicographically (first column most significant).

    Args:
        *tensors: ``n_i x d`` designs with the same ``d``.

    Returns:
        The keys of each tensor, or ``None`` when a tensor is not 2-d, an entry
        is not an integer (fractional, NaN or infinite) or exceeds 2^53 in
        magnitude, or the columns' ranges multiply past 2^53.

    Raises:
        ValueError: If the tensors have different numbers of columns.
    """
    if not tensors or any(t.dim() != 2 for t in tensors):
        return None
    widths = [t.shape[-1] for t in tensors]
    if len(set(widths)) > 1:
        raise ValueError(f"row_keys needs tensors with the same columns, got widths {widths}.")
    parts = [t for t in tensors if t.shape[0] > 0]
    if not parts:
        return [torch.zeros(0, dtype=torch.long, device=t.device) for t in tensors]
    if any(t.dtype == torch.bool or t.is_complex() for t in parts):
        return None
    lo = torch.stack([t.amin(dim=0).double() for t in parts]).amin(dim=0)
    hi = torch.stack([t.amax(dim=0).double() for t in parts]).amax(dim=0)
    bound = torch.maximum(lo.abs(), hi.abs())
    if not bool(torch.isfinite(bound).all()) or float(bound.max()) > _MAX_KEY:
        return None  # NaN (amin/amax propagate it), infinite or huge entries.
    if not all(bool((t == t.round()).all()) for t in parts if t.is_floating_point()):
        return None
    span = (hi - lo + 1.0).tolist()
    strides, total = [], 1.0
    for width in reversed(span):
        strides.append(int(total))
        total *= width
        if total > _MAX_KEY:
            return None
    stride = torch.tensor(strides[::-1], dtype=torch.long, device=parts[0].device)
    low = lo.to(torch.long)
    return [(t.to(torch.long) - low).mul_(stride).sum(dim=-1) for t in tensors]


def _inverse(X: Tensor) -> Tensor:
    """For each row of ``X``, the index of its distinct row in sorted order
    (``torch.unique(X, dim=0, return_inverse=True)[1]``)."""
    keys = row_keys(X)
    if keys is not None:
        return torch.unique(keys[0], return_inverse=True)[1]
    return torch.unique(X, dim=0, return_inverse=True)[1]


def _first_positions(ids: Tensor, n_ids: int) -> Tensor:
    """For each id in ``0..n_ids-1``, the first position where ``ids`` holds it."""
    positions = torch.arange(ids.shape[0], device=ids.device)
    first = torch.full((n_ids,), ids.shape[0], dtype=positions.dtype, device=ids.device)
    return first.scatter_reduce(0, ids, positions, reduce="amin")


def first_occurrences(X: Tensor) -> Tensor:
    """Mark the first occurrence of every distinct row of ``X``.

    Args:
        X: ``n x d`` designs.

    Returns:
        A boolean mask of length ``n``; later repeats of a row are ``False``.
    """
    if X.shape[0] == 0:
        return torch.zeros(0, dtype=torch.bool, device=X.device)
    inverse = _inverse(X)
    first = _first_positions(inverse, int(inverse.max()) + 1)
    return first[inverse] == torch.arange(X.shape[0], device=X.device)


def distinct_in_order(X: Tensor) -> tuple[Tensor, Tensor | None]:
    """The distinct rows of ``X`` in their order of first appearance.

    Args:
        X: ``n x d`` designs.

    Returns:
        A tuple ``(distinct, position)``: the ``m x d`` distinct rows and, for
        each row of ``X``, its index in ``distinct`` (so ``distinct[position]``
        is ``X``); ``(X, None)`` when all rows are distinct.
    """
    if X.shape[0] == 0:
        return X, None
    inverse = _inverse(X)
    n_distinct = int(inverse.max()) + 1
    if n_distinct == X.shape[0]:
        return X, None
    first = _first_positions(inverse, n_distinct)
    order = first.argsort()
    position = torch.empty_like(order)
    position[order] = torch.arange(n_distinct, device=X.device)
    return X[first[order]], position[inverse]


def rows_in(X: Tensor, reference: Tensor | None) -> Tensor:
    """Mark the rows of ``X`` that also occur in ``reference``.

    Args:
        X: ``n x d`` designs.
        reference: ``m x d`` designs, or ``None`` (nothing matches).

    Returns:
        A boolean mask of length ``n``.
    """
    if reference is None or reference.shape[0] == 0 or X.shape[0] == 0:
        return torch.zeros(X.shape[0], dtype=torch.bool, device=X.device)
    reference = reference.to(X)
    keys = row_keys(reference, X)
    if keys is not None:
        return torch.isin(keys[1], keys[0])
    both = torch.cat([reference, X], dim=0)
    _, inverse = torch.unique(both, dim=0, return_inverse=True)
    return torch.isin(inverse[reference.shape[0] :], inverse[: reference.shape[0]])


def novel_rows(candidates: Tensor, reference: Tensor | None = None) -> Tensor:
    """Mark the rows of ``candidates`` that are new.

    A row is new when it does not occur in ``reference`` and does not repeat an
    earlier row of ``candidates``.

    Args:
        candidates: ``n x d`` designs.
        reference: ``m x d`` designs to exclude, or ``None``.

    Returns:
        A boolean mask of length ``n``.
    """
    return first_occurrences(candidates) & ~rows_in(candidates, reference)


def n_distinct(X: Tensor) -> int:
    """Number of distinct rows of ``X``."""
    return int(_inverse(X).max()) + 1 if X.shape[0] else 0


def ranked_distinct_rows(X: Tensor, y: Tensor) -> Tensor:
    """Indices of the distinct designs of ``X``, best score first.

    For designs that occur several times, the row with the highest score
    represents them (the first such row on ties).

    Args:
        X: ``n x d`` designs.
        y: ``n`` scores.

    Returns:
        A 1-d long tensor of row indices into ``X``, sorted by decreasing ``y``.
    """
    order = torch.sort(y, descending=True, stable=True).indices
    return order[first_occurrences(X[order])]
