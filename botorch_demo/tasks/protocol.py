"""Evaluation protocol of the DEMO paper (Section 5.2 and Figure 3).

A method proposes ``K = 256`` designs; they are scored with the exact oracle and
normalised with the task's full-dataset constants. The paper reports the 100th
(max) and 50th (median) percentile of the normalised scores, the proportion of
designs that surpass D(best) (the best normalised offline score), and the mean
and standard error of each over independent seeds.

All functions are pure and vectorised; a leading batch dimension (e.g. seeds) is
carried through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from botorch_demo.tasks.task import OfflineTask

DEFAULT_BUDGET = 256
PAPER_PERCENTILES = (100.0, 50.0)


def _check_scores(y: Tensor, name: str = "y") -> None:
    if not isinstance(y, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(y).__name__}.")
    if y.ndim < 2 or y.shape[-1] != 1 or y.shape[-2] == 0:
        raise ValueError(
            f"{name} must have shape batch_shape x K x 1 with K >= 1, got {tuple(y.shape)}."
        )
    if torch.isnan(y).any():
        raise ValueError(f"{name} contains NaN.")


def percentile_scores(y: Tensor, percentiles: Sequence[float] = PAPER_PERCENTILES) -> Tensor:
    """Percentiles of a batch of K scores (linear interpolation, as np.percentile).

    Args:
        y: ``batch_shape x K x 1`` scores (normalised or raw).
        percentiles: Percentiles in ``[0, 100]``; the paper uses 100 and 50.

    Returns:
        ``batch_shape x len(percentiles)`` float64 tensor.

    Raises:
        ValueError: On a bad shape, NaN, or a percentile outside ``[0, 100]``.
    """
    _check_scores(y)
    q = torch.as_tensor(percentiles, dtype=torch.float64, device=y.device)
    if q.ndim != 1 or q.numel() == 0 or (q < 0).any() or (q > 100).any():
        raise ValueError(f"percentiles must be values in [0, 100], got {percentiles}.")
    values = torch.quantile(y.squeeze(-1).to(torch.float64), q / 100.0, dim=-1)
    return values.movedim(0, -1)


def proportion_above(y: Tensor, threshold: float) -> Tensor:
    """Fraction of the K scores strictly above ``threshold`` (Figure 3).

    Args:
        y: ``batch_shape x K x 1`` scores.
        threshold: E.g. ``task.d_best`` for normalised scores.

    Returns:
        ``batch_shape`` float64 tensor with values in ``[0, 1]``.

    Raises:
        ValueError: On a bad shape, NaN, or a non-finite threshold.
    """
    _check_scores(y)
    if not torch.isfinite(torch.as_tensor(threshold)).all():
        raise ValueError(f"threshold must be finite, got {threshold}.")
    return (y.squeeze(-1) > threshold).to(torch.float64).mean(dim=-1)


def mean_and_stderr(values: Tensor | Sequence[float], dim: int = 0) -> tuple[Tensor, Tensor]:
    """Mean and standard error of the mean (``std(ddof=1) / sqrt(n)``) over seeds.

    Args:
        values: Per-seed results, e.g. the ``p100`` of each seed.
        dim: Dimension holding the seeds.

    Returns:
        ``(mean, stderr)`` float64 tensors with ``dim`` reduced.

    Raises:
        ValueError: With fewer than 2 values along ``dim``, or NaN.
    """
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.ndim == 0 or v.shape[dim] < 2:
        raise ValueError(
            f"Need at least 2 values along dim {dim} for a standard error, got "
            f"shape {tuple(v.shape)}."
        )
    if torch.isnan(v).any():
        raise ValueError("values contain NaN.")
    n = v.shape[dim]
    return v.mean(dim=dim), v.std(dim=dim, correction=1) / n**0.5


@dataclass(frozen=True)
class CandidateScores:
    """Protocol results for one or more batches of K candidates.

    Attributes:
        y: ``batch_shape x K x 1`` raw oracle scores.
        y_normalized: ``batch_shape x K x 1`` normalised scores.
        p100: ``batch_shape`` normalised 100th percentile (max).
        p50: ``batch_shape`` normalised 50th percentile (median).
        proportion_above_best: ``batch_shape`` fraction of candidates whose
            normalised score is strictly above D(best).
        d_best: The task's D(best).
    """

    y: Tensor
    y_normalized: Tensor
    p100: Tensor
    p50: Tensor
    proportion_above_best: Tensor
    d_best: float


def score_candidates(
    task: OfflineTask, X: Tensor, budget: int | None = DEFAULT_BUDGET
) -> CandidateScores:
    """Score K candidates with the task's oracle and compute the paper's metrics.

    Args:
        task: The task (provides ``oracle``, ``normalize`` and ``d_best``).
        X: ``batch_shape x K x d`` raw designs (e.g. ``n_seeds x 256 x d``).
        budget: Required K (256 in the paper); ``None`` accepts any K >= 1.

    Returns:
        :class:`CandidateScores`.

    Raises:
        ValueError: If the shape or K is wrong, or the oracle rejects the designs.
    """
    if not isinstance(X, Tensor):
        raise TypeError(f"X must be a torch.Tensor, got {type(X).__name__}.")
    if X.ndim < 2 or X.shape[-1] != task.dim:
        raise ValueError(f"X must have shape batch_shape x K x {task.dim}, got {tuple(X.shape)}.")
    if budget is not None and X.shape[-2] != budget:
        raise ValueError(f"Expected K = {budget} candidates, got {X.shape[-2]}.")
    if X.shape[-2] == 0:
        raise ValueError("X holds no candidates.")
    y = task.oracle(X.reshape(-1, task.dim)).reshape(*X.shape[:-1], 1)
    y_norm = task.normalize(y)
    p100, p50 = percentile_scores(y_norm, PAPER_PERCENTILES).unbind(-1)
    return CandidateScores(
        y=y,
        y_normalized=y_norm,
        p100=p100,
        p50=p50,
        proportion_above_best=proportion_above(y_norm, task.d_best),
        d_best=task.d_best,
    )
