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


# ------------------------------------------------- metrics beyond the paper's
#: K of the smaller budget reported beside K = 256 (ROOT, RGD and LTR report 128).
SMALL_BUDGET = 128


def best_of_first(y: Tensor, k: int = SMALL_BUDGET) -> Tensor:
    """Best score among the first ``k`` candidates of each ordered batch.

    The harness reports this as the 100th percentile at ``K = 128``: the best of
    the first 128 candidates *in the order the method returned them*. DEMO, its
    ablations and Grad return the edits of the top offline designs in the order
    of their source's offline score, CMA-ES its designs by decreasing surrogate
    prediction and BO-qEI its batch in the order the acquisition chose it, so
    the first 128 are the batch the method would have proposed with K = 128.

    Args:
        y: ``batch_shape x K x 1`` scores, in the method's order.
        k: How many leading candidates count, ``1 <= k <= K``.

    Returns:
        ``batch_shape`` float64 tensor.

    Raises:
        ValueError: On a bad shape, NaN, or ``k`` outside ``1..K``.
    """
    _check_scores(y)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= y.shape[-2]:
        raise ValueError(f"k must be an int in 1..{y.shape[-2]}, got {k!r}.")
    return y[..., :k, 0].to(torch.float64).amax(dim=-1)


def design_distances(
    A: Tensor,
    B: Tensor,
    bounds: Tensor,
    categorical_features: dict[int, int] | None = None,
) -> Tensor:
    """Distances between two sets of raw designs.

    Continuous columns are scaled to the unit cube with ``bounds`` and compared
    by Euclidean (L2) distance; categorical columns by Hamming distance (the
    number of columns whose categories differ). For a mixed space the two are
    added.

    Args:
        A: ``batch_shape x n x d`` designs.
        B: ``batch_shape x m x d`` designs (same batch shape, or broadcastable).
        bounds: ``2 x d`` box of the raw space.
        categorical_features: ``{column: number of categories}``; ``None`` or
            ``{}`` for a continuous space.

    Returns:
        ``batch_shape x n x m`` float64 distances on ``A``'s device.

    Raises:
        ValueError: If the shapes do not match ``bounds``.
    """
    d = bounds.shape[-1]
    if bounds.shape != (2, d) or A.shape[-1] != d or B.shape[-1] != d:
        raise ValueError(
            f"Designs must have {d} columns like bounds {tuple(bounds.shape)}; got "
            f"{tuple(A.shape)} and {tuple(B.shape)}."
        )
    A = A.to(torch.float64)
    B = B.to(device=A.device, dtype=torch.float64)
    cat = sorted(categorical_features or {})
    cont = [j for j in range(d) if j not in set(cat)]
    out = A.new_zeros(*torch.broadcast_shapes(A.shape[:-2], B.shape[:-2]), A.shape[-2], B.shape[-2])
    if cont:
        lo, hi = bounds.to(A)[:, cont]
        scale = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
        out = out + torch.cdist((A[..., cont] - lo) / scale, (B[..., cont] - lo) / scale)
    if cat:
        a, b = A[..., cat].unsqueeze(-2), B[..., cat].unsqueeze(-3)
        out = out + (a != b).sum(dim=-1).to(torch.float64)
    return out


def pairwise_diversity(
    X: Tensor, bounds: Tensor, categorical_features: dict[int, int] | None = None
) -> Tensor:
    """Mean distance over all pairs ``i < j`` of the K candidates.

    Uses :func:`design_distances` (Hamming for categorical columns, L2 in the
    unit cube for continuous ones). Repeated designs count as pairs at distance
    0, so a batch that collapses onto few designs scores low.

    Args:
        X: ``batch_shape x K x d`` raw designs, ``K >= 2``.
        bounds: ``2 x d`` box.
        categorical_features: ``{column: number of categories}``.

    Returns:
        ``batch_shape`` float64 tensor.

    Raises:
        ValueError: With fewer than 2 candidates or mismatched shapes.
    """
    if X.ndim < 2 or X.shape[-2] < 2:
        raise ValueError(f"Need batch_shape x K x d with K >= 2, got {tuple(X.shape)}.")
    K = X.shape[-2]
    D = design_distances(X, X, bounds, categorical_features)
    return D.sum(dim=(-2, -1)) / (K * (K - 1))


def novelty(
    X: Tensor,
    reference: Tensor,
    bounds: Tensor,
    categorical_features: dict[int, int] | None = None,
    chunk: int = 4096,
) -> Tensor:
    """Mean over the K candidates of the distance to the nearest reference design.

    With ``reference = task.train_X`` this is the novelty of a batch with
    respect to the offline data (0 for a candidate that is an offline design).

    Args:
        X: ``batch_shape x K x d`` raw designs.
        reference: ``n x d`` designs (e.g. the offline set), ``n >= 1``.
        bounds: ``2 x d`` box.
        categorical_features: ``{column: number of categories}``.
        chunk: Reference rows per distance block (bounds the memory).

    Returns:
        ``batch_shape`` float64 tensor.

    Raises:
        ValueError: On an empty reference or mismatched shapes.
    """
    if X.ndim < 2 or X.shape[-2] == 0:
        raise ValueError(f"X must be batch_shape x K x d with K >= 1, got {tuple(X.shape)}.")
    if reference.ndim != 2 or reference.shape[0] == 0:
        raise ValueError(
            f"reference must be a non-empty n x d tensor, got {tuple(reference.shape)}."
        )
    nearest = None
    for block in reference.split(chunk):
        D = design_distances(X, block, bounds, categorical_features).amin(dim=-1)
        nearest = D if nearest is None else torch.minimum(nearest, D)
    return nearest.mean(dim=-1)


def batch_metrics(task: OfflineTask, X: Tensor, y_normalized: Tensor) -> dict[str, float]:
    """The metrics the benchmark reports beside the paper's, for one batch.

    Args:
        task: The task (bounds, categorical columns, offline designs).
        X: ``K x d`` raw candidates, in the method's order.
        y_normalized: ``K x 1`` their normalised oracle scores.

    Returns:
        ``p100_k128`` (:func:`best_of_first` with k = 128, or with k = K if
        K < 128), ``p80`` (80th percentile), ``diversity``
        (:func:`pairwise_diversity`) and ``novelty`` (:func:`novelty` against
        ``task.train_X``).
    """
    k = min(SMALL_BUDGET, y_normalized.shape[-2])
    return {
        "p100_k128": float(best_of_first(y_normalized, k)),
        "p80": float(percentile_scores(y_normalized, (80.0,))[..., 0]),
        "diversity": float(pairwise_diversity(X, task.bounds, task.categorical_features)),
        "novelty": float(novelty(X, task.train_X, task.bounds, task.categorical_features)),
    }
