"""Small tensor helpers shared by the Ax generators of this package."""

from __future__ import annotations

from typing import Any

import torch
from ax.exceptions.core import UnsupportedError
from ax.generators.torch_base import TorchOptConfig
from torch import Tensor

#: Ax's per-outcome candidate metadata as generators receive it in ``fit``.
CandidateMetadata = list[list[dict[str, Any] | None] | None] | None


def single_objective(torch_opt_config: TorchOptConfig) -> tuple[int, float]:
    """Extracts the objective's outcome index and direction.

    Args:
        torch_opt_config: The optimisation config Ax passes to ``gen``.

    Returns:
        ``(outcome_index, sign)`` where sign is +1.0 to maximise and -1.0 to
        minimise.

    Raises:
        UnsupportedError: For multi-objective or scalarized objectives.
    """
    weights = torch_opt_config.objective_weights
    if weights.ndim == 1:
        weights = weights.unsqueeze(0)
    if weights.shape[0] != 1:
        raise UnsupportedError(
            f"This generator supports a single objective; got {weights.shape[0]} objectives."
        )
    nonzero = torch.nonzero(weights[0]).flatten()
    if nonzero.numel() != 1:
        raise UnsupportedError(
            "This generator supports a single (not scalarized) objective metric; "
            f"the objective weights are {weights[0].tolist()}."
        )
    index = int(nonzero[0])
    return index, 1.0 if float(weights[0, index]) > 0 else -1.0


def pending_points(torch_opt_config: TorchOptConfig, outcome: int) -> Tensor | None:
    """Returns the pending points for one outcome (``k x d``), or None."""
    pending = torch_opt_config.pending_observations
    if not pending or outcome >= len(pending) or pending[outcome].shape[0] == 0:
        return None
    return pending[outcome]


def satisfies(X: Tensor, linear_constraints: tuple[Tensor, Tensor] | None) -> Tensor:
    """Marks the rows of ``X`` with ``A x <= b`` (up to 1e-8); all if None."""
    if linear_constraints is None:
        return torch.ones(X.shape[0], dtype=torch.bool, device=X.device)
    A, b = linear_constraints
    return (X @ A.T.to(X) <= b.to(X).reshape(1, -1) + 1e-8).all(dim=-1)


def generation_key(
    fixed_features: dict[int, float] | None, linear_constraints: tuple[Tensor, Tensor] | None
) -> tuple[tuple[tuple[int, float], ...], tuple[float, ...]]:
    """Hashable summary of the ``gen`` settings a cached batch depends on."""
    fixed = tuple(sorted((fixed_features or {}).items()))
    if linear_constraints is None:
        return fixed, ()
    return fixed, tuple(torch.cat([t.reshape(-1) for t in linear_constraints]).tolist())


def outcome_metadata(
    candidate_metadata: CandidateMetadata, outcome: int, n: int
) -> list[dict[str, Any] | None]:
    """The candidate metadata of the ``n`` observations of ``outcome``.

    Ax passes ``fit`` one list per outcome, aligned with that outcome's
    dataset; when it is missing or does not align (``n`` rows), every row
    counts as carrying no metadata.

    Args:
        candidate_metadata: What Ax passed ``fit``, or ``None``.
        outcome: The outcome's index.
        n: Its number of observations.

    Returns:
        ``n`` metadata dicts (or ``None``), in the dataset's order.
    """
    rows = None
    if candidate_metadata and len(candidate_metadata) > outcome:
        rows = candidate_metadata[outcome]
    if rows is None or len(rows) != n:
        return [None] * n
    return list(rows)


def marked(rows: list[dict[str, Any] | None], keys: tuple[str, ...]) -> list[bool]:
    """Whether each metadata row carries one of ``keys`` (a generator's mark on
    the designs it proposed)."""
    return [bool(m) and any(k in m for k in keys) for m in rows]
