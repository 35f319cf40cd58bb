"""Vectorised row-set operations on design tensors.

Rows are compared exactly (every design is a row of an ``n x d`` tensor). All
functions work on any device and return tensors on the inputs' device.
"""

from __future__ import annotations

import torch
from torch import Tensor


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
    _, inverse = torch.unique(X, dim=0, return_inverse=True)
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
    _, inverse = torch.unique(X, dim=0, return_inverse=True)
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
    both = torch.cat([reference.to(X), X], dim=0)
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
    return int(torch.unique(X, dim=0).shape[0]) if X.shape[0] else 0


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
