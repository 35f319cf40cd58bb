"""Vectorised row-set operations on design tensors."""

from __future__ import annotations

import torch
from torch import Tensor


def novel_rows(candidates: Tensor, reference: Tensor | None = None) -> Tensor:
    """Mark the rows of ``candidates`` that are new.

    A row is new when it does not occur in ``reference`` and does not repeat an
    earlier row of ``candidates``. Rows are compared exactly.

    Args:
        candidates: ``n x d`` designs.
        reference: ``m x d`` designs to exclude, or ``None``.

    Returns:
        A boolean mask of length ``n``.
    """
    n = candidates.shape[0]
    ref = candidates[:0] if reference is None else reference.to(candidates)
    _, inverse = torch.unique(torch.cat([ref, candidates]), dim=0, return_inverse=True)
    ref_ids, cand_ids = inverse[: ref.shape[0]], inverse[ref.shape[0] :]
    in_ref = torch.isin(cand_ids, ref_ids)
    positions = torch.arange(n, device=candidates.device)
    first = torch.full(
        (int(inverse.max()) + 1 if inverse.numel() else 0,), n, device=candidates.device
    )
    first = first.scatter_reduce(0, cand_ids, positions, reduce="amin")
    return ~in_ref & (first[cand_ids] == positions)


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
    return order[novel_rows(X[order])]
