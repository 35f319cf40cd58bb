"""The BoTorch-style functional entry point."""

from __future__ import annotations

from torch import Tensor

from botorch_demo.config import DEMOConfig
from botorch_demo.model import DEMO


def gen_candidates_demo(
    train_X: Tensor,
    train_Y: Tensor,
    bounds: Tensor,
    q: int,
    categorical_features: dict[int, int] | None = None,
    config: DEMOConfig | None = None,
    seed: int | None = 0,
    *,
    exclude: Tensor | None = None,
    unique: bool = False,
    fixed_features: dict[int, float] | None = None,
    inequality_constraints: list[tuple[Tensor, Tensor, float]] | None = None,
    integer_features: list[int] | None = None,
) -> tuple[Tensor, Tensor]:
    """Propose ``q`` new designs from an offline dataset with DEMO.

    Fits DEMO (Algorithm 1, phase 1) on ``(train_X, train_Y)`` and edits the
    top-``q`` designs (phase 2). Shaped like ``botorch.optim.optimize_acqf``:
    candidates in the caller's raw space and one score per candidate.

    Example:
        >>> candidates, predicted = gen_candidates_demo(
        ...     train_X, train_Y, bounds, q=256, config=DEMOConfig.fast(), seed=0
        ... )

    Args:
        train_X: ``n x d`` offline designs in the raw space given by ``bounds``.
        train_Y: ``n x 1`` scores, to be maximised.
        bounds: ``2 x d`` lower and upper bounds.
        q: Number of candidates K.
        categorical_features: Optional ``{column: n_categories}``; those
            columns hold integers ``0..n-1``.
        config: Hyperparameters; defaults to ``DEMOConfig()``.
        seed: Seed for fitting and generation (``None`` for random).
        exclude: Optional ``m x d`` designs never to return.
        unique: If ``True``, the ``q`` candidates are pairwise distinct.
        fixed_features: ``{column: value}`` every candidate takes, as in
            ``optimize_acqf``.
        inequality_constraints: ``[(indices, coefficients, rhs), ...]`` with
            ``sum coefficients * x[indices] >= rhs``, as in ``optimize_acqf``;
            satisfied by construction (projection onto the feasible polytope in
            the raw space, then rounding of integer columns).
        integer_features: Ordinal (non-categorical) integer columns; their
            values are rounded to integers inside ``bounds``.

    Returns:
        A tuple ``(candidates, predicted)``: ``q x d`` designs inside ``bounds``
        (categorical columns hold valid integers) in the inputs' dtype and
        device, and the ``q`` surrogate predictions of their scores.
    """
    model = DEMO(config).fit(train_X, train_Y, bounds, categorical_features, seed=seed)
    return model.generate(
        q,
        seed=seed,
        exclude=exclude,
        unique=unique,
        fixed_features=fixed_features,
        inequality_constraints=inequality_constraints,
        integer_features=integer_features,
    )
