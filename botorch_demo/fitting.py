"""Phase 1 of Algorithm 1: the fitted parts of a DEMO model, and how they are made.

:func:`fit_parts` trains, in order, the surrogate f_theta (Eq. 5), the synthetic
dataset D' by gradient ascent from every offline design (Eq. 6) and the
classifier-free conditional diffusion model on D' (Eqs. 7-8), or on the
offline data with ``pseudo_target=False``. It returns a :class:`FittedParts`,
the state that :class:`~botorch_demo.model.DEMO` holds; :func:`empty_parts`
builds the same layout untrained, for loading a checkpoint into.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from botorch_demo.ascent import gradient_ascent
from botorch_demo.config import ASCENT_FIELDS, SURROGATE_FIELDS, DEMOConfig
from botorch_demo.diffusion import ScoreNetwork, fit_score_network
from botorch_demo.encoding import DesignEncoder
from botorch_demo.exceptions import DivergenceError
from botorch_demo.reach import Reach, measure_reach
from botorch_demo.rows import ranked_distinct_rows
from botorch_demo.runtime import autocast_dtype
from botorch_demo.sde import VPSDE
from botorch_demo.surrogate import build_surrogate, fit_surrogate
from botorch_demo.training import TrainStats
from botorch_demo.validation import require_finite, standardisation

#: Names of ``DEMOConfig.network_dtype``.
NETWORK_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class FittedParts:
    """Everything phase 1 produces; phase 2 and ``predict`` read only this.

    Attributes:
        encoder: Raw designs <-> the standardised space the networks see.
        surrogate: f_theta*, ``D -> 1``, on standardised scores.
        score_net: The conditional noise predictor of Eq. (8).
        train_X: ``n x d`` offline designs (raw space).
        train_Y: ``n x 1`` offline scores.
        y_mean: Mean of ``train_Y`` (standardisation of the scores).
        y_std: Standard deviation of ``train_Y``.
        ranked_rows: Indices of the distinct offline designs, best first.
        synthetic_X: ``n x D`` D' (encoded), or ``None`` without gradient ascent.
        synthetic_y: ``n`` surrogate labels of D' (offline standard units), or ``None``.
        seconds: Wall-clock seconds per phase (``surrogate``, ``ascent``, ``diffusion``).
        stats: Training statistics per trained network, and the reach of the
            ascent (``"ascent"``: how far D' lies from the offline designs).
    """

    encoder: DesignEncoder
    surrogate: nn.Sequential
    score_net: ScoreNetwork
    train_X: Tensor
    train_Y: Tensor
    y_mean: Tensor
    y_std: Tensor
    ranked_rows: Tensor
    synthetic_X: Tensor | None
    synthetic_y: Tensor | None
    seconds: dict[str, float] = field(default_factory=dict)
    stats: dict[str, TrainStats | Reach] = field(default_factory=dict)


class Reusable(Protocol):
    """A fitted model whose surrogate (and D') another fit may reuse, or whose
    weights may start another fit."""

    config: DEMOConfig
    encoder: DesignEncoder | None
    surrogate: nn.Sequential | None
    score_net: ScoreNetwork | None
    train_X: Tensor
    train_Y: Tensor
    synthetic_X: Tensor | None
    synthetic_y: Tensor | None

    @property
    def is_fitted(self) -> bool:
        """Whether the model holds fitted parts."""
        ...


def seeded_generator(seed: int, stream: str, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator for one random stream of a fit, independent of the others.

    Every network draws its initial weights and its training randomness from
    streams of its own, so its weights depend on the seed and its own settings
    only: not on which other networks were built, reused or trained before it.

    Args:
        seed: The fit's seed.
        stream: The stream's name, e.g. ``"surrogate.init"``.
        device: Device of the generator.

    Returns:
        A seeded ``torch.Generator``.
    """
    digest = hashlib.sha256(f"botorch-demo:{seed}:{stream}".encode()).digest()
    return torch.Generator(device=device).manual_seed(int.from_bytes(digest[:8], "big") >> 1)


def network_dtype(config: DEMOConfig, input_dtype: torch.dtype) -> torch.dtype:
    """The networks' dtype: ``config.network_dtype``, or the inputs' when it is ``None``."""
    name = config.network_dtype
    return input_dtype if name is None else NETWORK_DTYPES[name]


def mixed_precision_dtype(
    config: DEMOConfig, dtype: torch.dtype, device: torch.device
) -> torch.dtype | None:
    """The autocast dtype of a fit (``DEMOConfig.mixed_precision``), or ``None``.

    Mixed precision applies to float32 networks; float64 ones keep float64.
    """
    if dtype != torch.float32:
        return None
    return autocast_dtype(config.mixed_precision, device)


def needs_synthetic(config: DEMOConfig) -> bool:
    """Whether the configuration uses D' (to train on it, or to edit its designs)."""
    return config.pseudo_target or config.edits_from != "offline"


def empty_parts(
    config: DEMOConfig,
    bounds: Tensor,
    categorical_features: dict[int, int],
    n: int,
    dtype: torch.dtype,
    with_synthetic: bool,
    seed: int = 0,
    surrogate: nn.Sequential | None = None,
) -> FittedParts:
    """Untrained parts of the right shapes (buffers zero), built once each.

    Args:
        config: The model's configuration.
        bounds: ``2 x d`` bounds (their dtype and device are the buffers').
        categorical_features: ``{column: n_categories}``.
        n: Number of offline rows.
        dtype: The networks' dtype.
        with_synthetic: Whether the parts hold D'.
        seed: Seed of the initial weights (:func:`seeded_generator`).
        surrogate: A trained surrogate to hold instead of building one.

    Returns:
        The parts.
    """
    device = bounds.device
    encoder = DesignEncoder(
        bounds, categorical_features, config.categorical_encoding, config.logit_smoothing
    )
    D = encoder.encoded_dim
    if surrogate is None:
        gen = seeded_generator(seed, "surrogate.init")
        surrogate = build_surrogate(D, config, generator=gen, dtype=dtype, device=device)
    gen = seeded_generator(seed, "diffusion.init")
    score_net = ScoreNetwork(D, config, generator=gen, dtype=dtype, device=device)
    kw: dict[str, Any] = dict(dtype=bounds.dtype, device=device)
    return FittedParts(
        encoder=encoder,
        surrogate=surrogate,
        score_net=score_net,
        train_X=torch.zeros(n, bounds.shape[-1], **kw),
        train_Y=torch.zeros(n, 1, **kw),
        y_mean=torch.zeros((), **kw),
        y_std=torch.ones((), **kw),
        ranked_rows=torch.zeros(0, dtype=torch.long, device=device),
        synthetic_X=torch.zeros(n, D, **kw) if with_synthetic else None,
        synthetic_y=torch.zeros(n, **kw) if with_synthetic else None,
    )


def fit_parts(
    config: DEMOConfig,
    sde: VPSDE,
    train_X: Tensor,
    train_Y: Tensor,
    bounds: Tensor,
    categorical_features: dict[int, int],
    *,
    seed: int,
    reuse: Reusable | None = None,
    warm_start: Reusable | None = None,
) -> FittedParts:
    """Run phase 1 on validated inputs.

    Args:
        config: The configuration.
        sde: The forward process of Eq. (7).
        train_X: ``n x d`` offline designs (validated, detached).
        train_Y: ``n x 1`` scores.
        bounds: ``2 x d`` bounds in ``train_X``'s dtype and device.
        categorical_features: ``{column: n_categories}``.
        seed: Seed of the weights, minibatches, noise and label dropout.
        reuse: A model fitted on the same data whose surrogate (and D', when
            the ascent settings agree) is taken instead of trained.
        warm_start: A model fitted earlier in the same design space whose
            network weights start the training, which then runs
            ``config.warm_start_fraction`` of the epochs (:func:`warm_config`).

    Returns:
        The fitted parts.

    Raises:
        DivergenceError: If a phase produced NaN or infinite numbers.
        ValueError: If ``reuse`` does not fit these data and settings, if
            ``warm_start`` has other networks, or if both are given.
    """
    dtype = network_dtype(config, train_X.dtype)
    device = train_X.device
    amp = mixed_precision_dtype(config, dtype, device)
    surrogate = None if reuse is None else _reusable_surrogate(reuse, config)
    parts = empty_parts(
        config,
        bounds,
        categorical_features,
        train_X.shape[0],
        dtype,
        needs_synthetic(config),
        seed,
        surrogate,
    )
    train_config = config
    if warm_start is not None:
        if reuse is not None:
            raise ValueError("Pass reuse_surrogate or warm_start, not both.")
        train_config = warm_config(config)
        _load_warm_weights(parts, warm_start, config)
    parts.train_X, parts.train_Y = train_X.clone(), train_Y.to(train_X).clone()
    parts.encoder.fit(train_X)
    y = train_Y.squeeze(-1)
    parts.y_mean, parts.y_std = standardisation(y)
    parts.ranked_rows = ranked_distinct_rows(train_X, y)
    Z = parts.encoder.encode(train_X)
    y_std = (y - parts.y_mean) / parts.y_std

    tic = time.perf_counter()
    reused_synthetic = False
    if reuse is not None:
        _check_same_data(parts, reuse)
        reused_synthetic = _take_synthetic(parts, config, reuse)
    else:
        gen = seeded_generator(seed, "surrogate.train", device)
        parts.stats["surrogate"] = fit_surrogate(
            parts.surrogate, Z, y_std, train_config, generator=gen, autocast_dtype=amp
        )
    parts.seconds["surrogate"] = time.perf_counter() - tic
    require_finite("Training the surrogate", parts.surrogate.parameters(), "surrogate_lr")

    tic = time.perf_counter()
    if parts.synthetic_X is not None and not reused_synthetic:
        parts.synthetic_X, parts.synthetic_y = _ascend(parts, config, Z, amp)
    parts.seconds["ascent"] = time.perf_counter() - tic
    if parts.synthetic_X is not None:
        parts.stats["ascent"] = synthetic_reach(parts)

    tic = time.perf_counter()
    diff_X, diff_y = (parts.synthetic_X, parts.synthetic_y) if config.pseudo_target else (Z, y_std)
    # Labels of D' and of the offline data are both in offline standard units.
    cap = None if config.target_cap is None else float(y_std.max()) + config.target_cap
    gen = seeded_generator(seed, "diffusion.train", device)
    parts.stats["diffusion"] = fit_score_network(
        parts.score_net,
        diff_X,
        diff_y,
        sde,
        train_config,
        generator=gen,
        label_cap=cap,
        autocast_dtype=amp,
    )
    parts.seconds["diffusion"] = time.perf_counter() - tic
    require_finite("Training the score network", parts.score_net.parameters(), "diffusion_lr")
    return parts


#: Fields two models must share for one's weights to start the other's training.
NETWORK_FIELDS = (
    "surrogate_hidden",
    "surrogate_layers",
    "surrogate_activation",
    "diffusion_hidden",
    "diffusion_layers",
    "diffusion_activation",
    "categorical_encoding",
)


def warm_config(config: DEMOConfig) -> DEMOConfig:
    """The training settings of a warm-started fit: ``config`` with
    ``warm_start_fraction`` (1 when ``None``) of its surrogate and diffusion
    epochs, rounded up, at least one each."""
    fraction = 1.0 if config.warm_start_fraction is None else config.warm_start_fraction
    return dataclasses.replace(
        config,
        surrogate_epochs=max(1, math.ceil(fraction * config.surrogate_epochs)),
        diffusion_epochs=max(1, math.ceil(fraction * config.diffusion_epochs)),
    )


def _load_warm_weights(parts: FittedParts, other: Reusable, config: DEMOConfig) -> None:
    """Copy another fitted model's surrogate and score-network weights into ``parts``.

    Raises:
        ValueError: If ``other`` is not fitted, or its networks differ in shape
            or settings.
    """
    if not getattr(other, "is_fitted", False) or other.encoder is None:
        raise ValueError("warm_start must be a fitted DEMO model.")
    mismatched = [k for k in NETWORK_FIELDS if getattr(other.config, k) != getattr(config, k)]
    if other.encoder.encoded_dim != parts.encoder.encoded_dim:
        mismatched.append("the encoded width of the designs")
    if mismatched:
        raise ValueError(f"warm_start cannot start this fit: {mismatched} differ.")
    with torch.no_grad():
        parts.surrogate.load_state_dict(other.surrogate.state_dict())
        parts.score_net.net.load_state_dict(other.score_net.net.state_dict())


def synthetic_reach(parts: FittedParts) -> Reach:
    """How far the ascent moved the offline designs: D' decoded against them."""
    return measure_reach(
        parts.train_X,
        parts.encoder.decode(parts.synthetic_X),
        parts.encoder.categorical_features,
        parts.train_X.std(dim=0),
    )


def _ascend(
    parts: FittedParts, config: DEMOConfig, Z: Tensor, amp: torch.dtype | None
) -> tuple[Tensor, Tensor]:
    """D' by gradient ascent from every encoded offline design (Eq. 6), with the
    surrogate's forward passes under autocast to ``amp`` (``None``: none)."""
    step = (
        config.ascent_step_size_discrete
        if parts.encoder.is_discrete
        else config.ascent_step_size_continuous
    )
    try:
        syn_X, syn_y = gradient_ascent(
            parts.surrogate,
            Z,
            steps=config.ascent_steps,
            step_size=step,
            optimizer=config.ascent_optimizer,
            trust_radius=config.ascent_trust_radius,
            batch_size=config.ascent_batch_size,
            progress=config.progress,
            units=parts.encoder.design_units() if config.ascent_units == "design" else None,
            autocast_dtype=amp,
            project=_round_trip(parts.encoder) if config.ascent_decoded else None,
        )
    except DivergenceError as err:
        raise DivergenceError(
            f"{err} Lower DEMOConfig.ascent_step_size_continuous / ascent_step_size_discrete."
        ) from None
    syn_y = syn_y.to(Z)
    require_finite(
        "Gradient ascent",
        [syn_X, syn_y],
        "ascent_step_size_continuous / ascent_step_size_discrete",
    )
    return syn_X, syn_y


def _round_trip(encoder: DesignEncoder) -> Callable[[Tensor], Tensor]:
    """Encoded designs -> the encodings of their decoded designs."""
    return lambda Z: encoder.encode(encoder.decode(Z))


def _reusable_surrogate(other: Reusable, config: DEMOConfig) -> nn.Sequential:
    """Another fitted model's surrogate, after checking its settings match.

    Raises:
        ValueError: If ``other`` is not fitted or has other surrogate settings.
    """
    if not getattr(other, "is_fitted", False) or other.encoder is None:
        raise ValueError("reuse_surrogate must be a fitted DEMO model.")
    mismatched = [k for k in SURROGATE_FIELDS if getattr(other.config, k) != getattr(config, k)]
    if mismatched:
        raise ValueError(
            f"reuse_surrogate cannot be reused here: config fields {mismatched} differ."
        )
    return other.surrogate


def _check_same_data(parts: FittedParts, other: Reusable) -> None:
    """Raise ``ValueError`` unless ``other`` was fitted on the data of ``parts``."""
    same_data = (
        other.train_X.shape == parts.train_X.shape
        and torch.equal(other.train_X, parts.train_X)
        and torch.equal(other.train_Y, parts.train_Y)
        and torch.equal(other.encoder.bounds, parts.encoder.bounds)
        and other.encoder.categorical_features == parts.encoder.categorical_features
    )
    if not same_data:
        raise ValueError("reuse_surrogate cannot be reused here: the training data differ.")


def _take_synthetic(parts: FittedParts, config: DEMOConfig, other: Reusable) -> bool:
    """Put another model's D' into ``parts`` when both use the same ascent.

    Returns:
        Whether D' was taken.
    """
    same_ascent = all(getattr(other.config, k) == getattr(config, k) for k in ASCENT_FIELDS)
    if parts.synthetic_X is None or other.synthetic_X is None or not same_ascent:
        return False
    parts.synthetic_X = other.synthetic_X.to(parts.synthetic_X)
    parts.synthetic_y = other.synthetic_y.to(parts.synthetic_y)
    return True
