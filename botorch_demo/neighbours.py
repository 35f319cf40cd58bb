"""Single-site neighbours of categorical designs (a de-duplication fallback).

Not part of the paper: DEMO's protocol scores K edits and allows repeats. When a
caller asks for K *new* designs (``DEMO.generate(..., exclude=..., unique=True)``,
as the Ax generator does) on a fully categorical space, the diffusion model's
edits and prior samples can keep landing on the same few known sequences (on TF
Bind 8 the offline set holds half of all 4^8 sequences, and guidance pulls edits
into a few modes). Then the remaining slots move to the best new design one
categorical substitution away, chosen by the surrogate.

:func:`site_mutants` (any columns, any values) also builds the candidates of the
GP nodes on discrete spaces too large to enumerate
(:func:`botorch_demo.ax.batch_ei.discrete_candidates`), and :func:`design_grid`
their enumeration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from botorch_demo.rows import novel_rows


def design_grid(choices: Sequence[Tensor], max_designs: int) -> Tensor | None:
    """Every combination of per-column values, or None if there are too many.

    Args:
        choices: One 1-d tensor of allowed values per column (same dtype and device).
        max_designs: Largest number of designs to build.

    Returns:
        An ``N x d`` tensor with ``N = prod(len(c))`` rows, or ``None`` when
        ``N > max_designs``.
    """
    if math.prod(c.numel() for c in choices) > max_designs:
        return None
    return torch.cartesian_prod(*choices).reshape(-1, len(choices))


def site_mutants(
    X: Tensor, columns: Sequence[int], values: Sequence[Tensor]
) -> tuple[Tensor, Tensor]:
    """Every design that differs from a row of ``X`` in one of ``columns``.

    Args:
        X: ``n x d`` designs.
        columns: Columns to mutate.
        values: One 1-d tensor of the values each column may take (dtype of ``X``).

    Returns:
        A tuple ``(mutants, changed)``: ``n x S x d`` designs with
        ``S = sum_j len(values[j])`` (column ``j`` set to each of its values in
        turn), and an ``n x S`` mask that is ``False`` where the value was
        already there (the unchanged copy of the row).
    """
    pairs = zip(columns, values, strict=True)
    cols = torch.cat([torch.full((v.numel(),), j, dtype=torch.long) for j, v in pairs])
    cols = cols.to(X.device)
    vals = torch.cat(list(values)).to(X)
    S = cols.numel()
    mutants = X.unsqueeze(1).repeat(1, S, 1)
    sites = torch.arange(S, device=X.device)
    mutants[:, sites, cols] = vals
    changed = X[:, cols] != vals
    return mutants, changed


def single_site_mutants(X: Tensor, categorical_features: dict[int, int]) -> tuple[Tensor, Tensor]:
    """Every design that differs from a row of ``X`` in one categorical column.

    Args:
        X: ``n x d`` raw designs; categorical columns hold integers ``0..V-1``.
        categorical_features: ``{column: number of categories V}``.

    Returns:
        A tuple ``(mutants, changed)`` as :func:`site_mutants` gives it: column
        ``j`` set to each of ``0..V_j-1`` in turn, columns in increasing order.

    Raises:
        ValueError: If ``categorical_features`` is empty.
    """
    if not categorical_features:
        raise ValueError("single_site_mutants needs at least one categorical column.")
    columns = sorted(categorical_features)
    return site_mutants(X, columns, [torch.arange(categorical_features[j]) for j in columns])


def best_new_mutants(
    X: Tensor,
    categorical_features: dict[int, int],
    reference: Tensor | None,
    score: Callable[[Tensor], Tensor],
    generator: torch.Generator | None = None,
) -> Tensor:
    """For each row, the best-scoring single-site mutant that is new.

    A mutant is new when it is not in ``reference`` and no earlier row of ``X``
    can reach it too (so two rows do not pick the same new design). A row without
    a new mutant moves to a random changed one, so repeated calls walk outwards
    (such a move may repeat a known design; the caller checks again).

    Args:
        X: ``n x d`` raw designs.
        categorical_features: ``{column: number of categories}``.
        reference: ``m x d`` designs to avoid, or ``None``.
        score: Maps ``k x d`` designs to ``k`` (or ``k x 1``) scores to maximise.
        generator: Seeded generator of the random moves, on ``X``'s device.

    Returns:
        ``n x d`` designs, each one substitution away from its row of ``X``.
    """
    n, d = X.shape
    mutants, changed = single_site_mutants(X, categorical_features)
    S = mutants.shape[1]
    flat = mutants.reshape(n * S, d)
    usable = changed & novel_rows(flat, reference).reshape(n, S)
    values = torch.full((n, S), -torch.inf, dtype=torch.float64, device=X.device)
    if usable.any():
        values[usable] = score(flat[usable.flatten()]).reshape(-1).to(values)
    best = values.argmax(dim=1)
    stuck = ~usable.any(dim=1)
    if stuck.any():
        weights = changed[stuck].to(torch.float64)
        best[stuck] = torch.multinomial(weights, 1, generator=generator).squeeze(1)
    return mutants[torch.arange(n, device=X.device), best]


def best_unseen_designs(
    categorical_features: dict[int, int],
    reference: Tensor | None,
    n: int,
    score: Callable[[Tensor], Tensor],
    like: Tensor,
    max_designs: int = 2**20,
) -> Tensor | None:
    """The ``n`` best designs of a small all-categorical space not in ``reference``.

    The last resort of the de-duplication fallback: it enumerates the whole space
    (TF Bind 8 has 4^8 designs, TF Bind 10 4^10 = 2^20).

    Args:
        categorical_features: ``{column: number of categories}`` for every column
            ``0..d-1``.
        reference: ``m x d`` designs to leave out, or ``None``.
        n: How many designs to return at most.
        score: Maps ``k x d`` designs to ``k`` (or ``k x 1``) scores to maximise.
        like: A tensor whose dtype and device the designs take.
        max_designs: Largest space that is enumerated.

    Returns:
        Up to ``n`` designs, best first (fewer when fewer are unseen), or
        ``None`` if the space has more than ``max_designs`` designs.

    Raises:
        ValueError: If the columns ``0..d-1`` are not all categorical.
    """
    d = len(categorical_features)
    if set(categorical_features) != set(range(d)):
        raise ValueError(
            "best_unseen_designs needs every column 0..d-1 to be categorical; got columns "
            f"{sorted(categorical_features)}."
        )
    axes = [
        torch.arange(categorical_features[j], dtype=like.dtype, device=like.device)
        for j in range(d)
    ]
    grid = design_grid(axes, max_designs)
    if grid is None:
        return None
    grid = grid[novel_rows(grid, reference)]
    if grid.shape[0] == 0:
        return grid
    values = score(grid).reshape(-1)
    top = torch.topk(values, min(n, grid.shape[0])).indices
    return grid[top]
