"""The BoTorch-style functional entry point."""

from __future__ import annotations

from torch import Tensor

from botorch_demo.config import DEMOConfig
from botorch_demo.constraints import feasibility_map
from botorch_demo.model import DEMO
from botorch_demo.rows import n_distinct
from botorch_demo.validation import (
    validate_designs,
    validate_q,
    validate_seed,
    validate_training_data,
)


def validate_generation_request(
    train_X: Tensor,
    train_Y: Tensor,
    bounds: Tensor,
    q: int,
    categorical_features: dict[int, int] | None,
    config: DEMOConfig,
    seed: int | None,
    *,
    exclude: Tensor | None = None,
    unique: bool = False,
    fixed_features: dict[int, float] | None = None,
    inequality_constraints: list[tuple[Tensor, Tensor, float]] | None = None,
    integer_features: list[int] | None = None,
) -> None:
    """Check every argument of :func:`gen_candidates_demo` without fitting.

    Args:
        train_X: ``n x d`` offline designs.
        train_Y: ``n x 1`` scores.
        bounds: ``2 x d`` bounds.
        q: Number of candidates.
        categorical_features: ``{column: n_categories}`` or ``None``.
        config: The configuration the fit will use.
        seed: Seed or ``None``.
        exclude: Optional ``m x d`` designs never to return.
        unique: Whether the candidates must be pairwise distinct.
        fixed_features: ``{column: value}``.
        inequality_constraints: ``[(indices, coefficients, rhs), ...]``.
        integer_features: Integer columns.

    Raises:
        InputDataError, ValueError, TypeError: As :func:`gen_candidates_demo`.
    """
    if not isinstance(config, DEMOConfig):
        raise TypeError(f"config must be a DEMOConfig or None, got {type(config).__name__}.")
    cats = validate_training_data(train_X, train_Y, bounds, categorical_features)
    validate_q(q, n_distinct(train_X.detach()) if config.editing else None)
    validate_seed(seed)
    if not isinstance(unique, bool):
        raise TypeError(f"unique must be True or False, got {unique!r}.")
    if exclude is not None:
        validate_designs(exclude, train_X.shape[-1], cats, train_X.dtype, "exclude")
    feasibility_map(
        bounds.detach().to(train_X),
        cats,
        fixed_features,
        inequality_constraints,
        integer_features,
    )


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

    Raises:
        InputDataError: For bad data, ``exclude``, ``fixed_features``,
            ``integer_features`` or ``inequality_constraints``.
        ValueError: For a bad ``q``, ``bounds`` or ``categorical_features``.
        TypeError: For a ``seed`` that is not an int or a non-bool ``unique``.

        Every argument is checked before fitting starts, so a bad one fails in
        milliseconds rather than after training.
    """
    validate_generation_request(
        train_X,
        train_Y,
        bounds,
        q,
        categorical_features,
        config if config is not None else DEMOConfig(),
        seed,
        exclude=exclude,
        unique=unique,
        fixed_features=fixed_features,
        inequality_constraints=inequality_constraints,
        integer_features=integer_features,
    )
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
