"""The DEMO model: a facade over the fitted parts and the phase functions.

:class:`DEMO` holds what phase 1 produced (:class:`~botorch_demo.fitting.FittedParts`:
the encoder, the surrogate, the score network and their buffers) and delegates
the work: :func:`~botorch_demo.fitting.fit_parts` (phase 1),
:func:`~botorch_demo.proposal.propose_batch` (phase 2) and
:mod:`botorch_demo.checkpoint` (the file format). Fit once, generate many
batches, save and reload.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from botorch_demo.checkpoint import (
    NETWORK_DTYPES,
    checkpoint_error,
    read_checkpoint,
    write_checkpoint,
)
from botorch_demo.config import GENERATION_FIELDS, DEMOConfig
from botorch_demo.constraints import feasibility_map
from botorch_demo.diagnostics import GenerationDiagnostics
from botorch_demo.diffusion import ScoreNetwork
from botorch_demo.encoding import DesignEncoder
from botorch_demo.fitting import FittedParts, empty_parts, fit_parts
from botorch_demo.proposal import Proposal, propose_batch
from botorch_demo.sde import VPSDE
from botorch_demo.surrogate import predict_batched
from botorch_demo.validation import (
    validate_count,
    validate_designs,
    validate_q,
    validate_seed,
    validate_training_data,
)

_F = TypeVar("_F", bound=Callable[..., Any])
#: The buffers of a fitted model, as named in its ``state_dict``.
_BUFFERS = (
    "train_X",
    "train_Y",
    "y_mean",
    "y_std",
    "ranked_rows",
    "synthetic_X",
    "synthetic_y",
)


def _atomic(method: _F) -> _F:
    """Make a state-changing method all-or-nothing.

    The instance's attributes (modules, parameters and buffers included) are
    snapshotted first; on any exception, ``KeyboardInterrupt`` included, they are
    restored, so the model keeps its previous state (fitted or not). The method
    must replace modules and buffers rather than modify them in place.
    """

    @functools.wraps(method)
    def wrapper(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
        saved = {k: v.copy() if isinstance(v, dict) else v for k, v in vars(self).items()}
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            vars(self).clear()
            vars(self).update(saved)
            raise

    return wrapper  # type: ignore[return-value]


def _draw_seed(seed: int | None) -> int:
    """``seed``, or a fresh one from torch's global generator when it is ``None``."""
    return int(torch.randint(0, 2**62, (1,)).item()) if seed is None else seed


class DEMO(nn.Module):
    """Design Editing for offline Model-based Optimization (Algorithm 1).

    ``fit`` runs phase 1 (surrogate, Eq. 5; gradient ascent, Eq. 6; conditional
    diffusion, Eqs. 7-8) and ``generate`` runs phase 2 (editing, Eq. 9, with the
    guided score of Eq. 4). All tensors follow the device of ``train_X``; outputs
    come back in the inputs' dtype.

    Example:
        >>> model = DEMO(DEMOConfig.fast()).fit(train_X, train_Y, bounds)
        >>> candidates, predicted = model.generate(q=256, seed=0)
        >>> model.save("demo.pt"); model = DEMO.load("demo.pt")

    Args:
        config: Hyperparameters; defaults to ``DEMOConfig()``.
    """

    def __init__(self, config: DEMOConfig | None = None) -> None:
        super().__init__()
        if config is not None and not isinstance(config, DEMOConfig):
            raise TypeError(f"config must be a DEMOConfig, got {type(config).__name__}.")
        self.config = config or DEMOConfig()
        self.sde = VPSDE(self.config.beta_min, self.config.beta_max)
        self.encoder: DesignEncoder | None = None
        self.surrogate: nn.Sequential | None = None
        self.score_net: ScoreNetwork | None = None
        self.fit_seconds: dict[str, float] = {}
        self.fit_stats: dict[str, Any] = {}
        self.diagnostics: GenerationDiagnostics | None = None
        """What the last :meth:`generate` did (``None`` before the first call)."""

    # ------------------------------------------------------------------ state
    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`load`) has run."""
        return self.score_net is not None

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError("This DEMO model is not fitted yet: call fit() or DEMO.load().")

    def _install(self, parts: FittedParts) -> None:
        """Hold ``parts``: new modules and buffers replace the old ones."""
        self.encoder = parts.encoder
        self.surrogate = parts.surrogate
        self.score_net = parts.score_net
        for name in _BUFFERS:
            self.register_buffer(name, getattr(parts, name))
        self.fit_seconds = parts.seconds
        self.fit_stats = parts.stats

    # -------------------------------------------------------------------- fit
    @_atomic
    def fit(
        self,
        train_X: Tensor,
        train_Y: Tensor,
        bounds: Tensor,
        categorical_features: dict[int, int] | None = None,
        *,
        seed: int | None = 0,
        reuse_surrogate: DEMO | None = None,
        warm_start: DEMO | None = None,
    ) -> DEMO:
        """Run phase 1 of Algorithm 1 on the offline data.

        Args:
            train_X: ``n x d`` offline designs in the raw space given by ``bounds``;
                categorical columns hold integers ``0..n_categories-1``.
            train_Y: ``n x 1`` scores (maximised).
            bounds: ``2 x d`` lower and upper bounds. Categorical columns must
                have bounds ``[0, n_categories - 1]``.
            categorical_features: ``{column: n_categories}``, or ``None``.
            seed: Seed for weights, minibatches, noise and dropout; ``None``
                draws a random seed.
            reuse_surrogate: A DEMO fitted on the same data with the same
                encoding and surrogate settings whose surrogate (and synthetic
                dataset D', when it has one) is reused instead of retrained.
                Lets ablations share phase 1a/1b work.
            warm_start: A DEMO fitted earlier in the same design space (e.g. on
                fewer designs, in the previous round of a campaign), with the
                same network settings: its surrogate and score-network weights
                start this fit's training, which runs
                ``config.warm_start_fraction`` of the epochs (all of them when
                ``None``). D' is ascended and labelled anew. Not in the paper.

        Returns:
            ``self``, fitted. The fit is atomic: if it raises (or is
            interrupted), the model keeps its previous state. Inputs that
            require grad are detached; no gradient flows through ``fit``.
        """
        cats = validate_training_data(train_X, train_Y, bounds, categorical_features)
        seed = _draw_seed(validate_seed(seed))
        train_X, train_Y, bounds = (t.detach() for t in (train_X, train_Y, bounds))
        parts = fit_parts(
            self.config,
            self.sde,
            train_X,
            train_Y,
            bounds.to(train_X),
            cats,
            seed=seed,
            reuse=reuse_surrogate,
            warm_start=warm_start,
        )
        self._install(parts)
        return self

    # ---------------------------------------------------------------- predict
    @torch.no_grad()
    def predict(self, X: Tensor) -> Tensor:
        """Surrogate prediction f_theta*(x) in the raw units of ``train_Y``.

        Args:
            X: ``n x d`` designs in the raw space. Integer or bool tensors are
                converted to the training data's dtype.

        Returns:
            ``n x 1`` predictions in ``X``'s dtype (the training data's dtype
            for integer ``X``) and device.
        """
        self._require_fitted()
        X = self._check_designs(X, "X")
        if X.shape[0] == 0:
            return X.new_zeros(0, 1)
        Z = self.encoder.encode(X)
        mean = predict_batched(self.surrogate, Z).to(self.y_mean) * self.y_std + self.y_mean
        return mean.unsqueeze(-1).to(X)

    def _check_designs(self, X: Tensor, name: str) -> Tensor:
        return validate_designs(
            X,
            self.train_X.shape[-1],
            self.encoder.categorical_features,
            self.train_X.dtype,
            name,
        )

    # --------------------------------------------------------------- generate
    def generate(
        self,
        q: int,
        seed: int | None = None,
        *,
        exclude: Tensor | None = None,
        unique: bool = False,
        max_rounds: int = 20,
        fixed_features: dict[int, float] | None = None,
        inequality_constraints: list[tuple[Tensor, Tensor, float]] | None = None,
        integer_features: list[int] | None = None,
        discrete_values: dict[int, Tensor] | None = None,
        sources: Tensor | None = None,
        **overrides: Any,
    ) -> tuple[Tensor, Tensor]:
        """Run phase 2: edit the top-q designs (or sample, without editing).

        Args:
            q: Number of candidates K.
            seed: Seed of the perturbation and sampler noise.
            exclude: Optional ``m x d`` raw designs that must not be returned
                (e.g. everything already evaluated).
            unique: If ``True``, no two returned candidates are equal.
            max_rounds: With ``exclude``/``unique``, how many times rejected
                candidates are regenerated before giving up; each round uses fresh
                noise, the first half with a noise level raised from ``m`` to
                ``M``, the second half sampling from the prior (on an all-
                categorical space: moving to the best new single-site neighbour).
            **overrides: Per-call replacements of phase-2 config fields
                (:data:`~botorch_demo.config.GENERATION_FIELDS`: ``editing``,
                ``edit_source``, ``m``, ``edit_draws``, ``edit_rounds``,
                ``edit_selection``, ``edit_per_source``, ``edit_max_m``, ``M``, ``sampler``,
                ``num_steps``, ``guidance_weight``, ``target_score``,
                ``sampler_bound``, ``sampler_clamp``). The trained networks are
                reused, so an m-sweep or the "w/o editing" ablation costs no
                retraining.
            fixed_features: ``{column: value}`` every candidate takes (as in
                ``optimize_acqf``).
            inequality_constraints: ``[(indices, coefficients, rhs), ...]``
                with ``sum coefficients * x[indices] >= rhs``, as in
                ``optimize_acqf``. Satisfied by construction: each design is
                projected onto the feasible polytope in the raw space, then
                integer columns are rounded (see
                :mod:`botorch_demo.constraints`).
            integer_features: Columns (ordinal, not categorical) whose values
                are rounded to integers inside the bounds.
            discrete_values: ``{column: allowed values}`` of ordinal columns
                whose values are not the integers in their bounds (e.g. an
                ordered choice of 8, 16, 32, 64); snapped to the nearest.
            sources: ``q x d`` raw designs to edit (Eq. 9) instead of the top-q
                training designs, e.g. the best designs observed after the
                model was trained; ``None`` edits the top-q training designs
                (the paper). They are edited as given: ``edit_source``, which
                picks the starting points among the training designs and their
                ascents, does not apply. Needs ``editing=True``.

        Returns:
            A tuple ``(candidates, predicted)``: ``q x d`` raw designs inside the
            bounds (categorical columns hold valid integers), in the dtype and
            device of the training data, and their ``q`` surrogate predictions.
            :attr:`diagnostics` then describes the batch.

        Warns:
            SamplerDivergenceWarning: Once per call, when the reverse SDE left
                ``sampler_bound`` times its training range (states are clamped
                when ``sampler_clamp``).
            CollapseWarning: When fewer than half of the raw edits are distinct.
        """
        self._require_fitted()
        proposal = self._proposal(
            q,
            seed,
            exclude,
            unique,
            max_rounds,
            feasibility_map(
                self.encoder.bounds,
                self.encoder.categorical_features,
                fixed_features,
                inequality_constraints,
                integer_features,
                discrete_values,
            ),
            overrides,
            sources,
        )
        cands, predicted, self.diagnostics = propose_batch(self, proposal)
        return cands, predicted

    def _proposal(
        self,
        q: int,
        seed: int | None,
        exclude: Tensor | None,
        unique: bool,
        max_rounds: int,
        feasible: Callable[[Tensor], Tensor] | None,
        overrides: dict[str, Any],
        sources: Tensor | None = None,
    ) -> Proposal:
        """Validate :meth:`generate`'s arguments into a :class:`Proposal`."""
        unknown = sorted(set(overrides) - set(GENERATION_FIELDS))
        if unknown:
            raise ValueError(
                f"generate() got unknown overrides {unknown}; allowed: {sorted(GENERATION_FIELDS)}."
            )
        cfg = self.config.replace(**overrides) if overrides else self.config
        if cfg.edits_from != "offline" and self.synthetic_X is None:
            raise ValueError(
                f"edit_source={cfg.edit_source!r} needs a model fitted with gradient-ascent data."
            )
        if sources is None:
            validate_q(q, self.ranked_rows.numel() if cfg.editing else None)
        else:
            sources = self._check_sources(sources, q, cfg)
        max_rounds = validate_count(max_rounds, "max_rounds", 0)
        if not isinstance(unique, bool):
            raise TypeError(f"unique must be True or False, got {unique!r}.")
        if exclude is not None:
            exclude = self._check_designs(exclude, "exclude").to(self.train_X)
        seed = _draw_seed(validate_seed(seed))
        return Proposal(
            config=cfg,
            q=int(q),
            generator=torch.Generator(device=self.train_X.device).manual_seed(seed),
            feasible=feasible,
            exclude=exclude,
            unique=unique,
            max_rounds=max_rounds,
            sources=sources,
        )

    def _check_sources(self, sources: Tensor, q: int, cfg: DEMOConfig) -> Tensor:
        """``sources`` as ``q`` valid designs in the training data's dtype."""
        if not cfg.editing:
            raise ValueError("sources are designs to edit; they need editing=True.")
        sources = self._check_designs(sources, "sources").to(self.train_X)
        validate_q(q, None)
        if sources.shape[0] != q:
            raise ValueError(f"sources must have q = {q} rows, got {sources.shape[0]}.")
        return sources

    def ascent_candidates(self, q: int) -> tuple[Tensor, Tensor]:
        """The gradient-ascent outputs of the top-q offline designs (Grad baseline).

        Args:
            q: Number of designs.

        Returns:
            ``(candidates, predicted)`` like :meth:`generate`.
        """
        self._require_fitted()
        if self.synthetic_X is None:
            raise ValueError("This model was fitted without gradient ascent (pseudo_target=False).")
        validate_q(q, self.ranked_rows.numel())
        cands = self.encoder.decode(self.synthetic_X[self.ranked_rows[:q]]).to(self.train_X)
        return cands, self.predict(cands).squeeze(-1)

    # ---------------------------------------------------------- persistence
    def save(self, path: str | Path) -> None:
        """Write the fitted model (config, layout and weights) to ``path``.

        The file carries a SHA-256 content hash over the config, the layout and
        every weight, which :meth:`load` verifies. It is written to a temporary
        file beside ``path`` and renamed into place, so an interrupted save
        leaves any earlier file at ``path`` as it was.

        Args:
            path: File to write (``torch.save`` format).
        """
        self._require_fitted()
        meta = {
            "config": self.config.to_dict(),
            "categorical_features": self.encoder.categorical_features,
            "n_train": self.train_X.shape[0],
            "network_dtype": str(next(self.surrogate.parameters()).dtype).removeprefix("torch."),
            "has_synthetic": self.synthetic_X is not None,
        }
        write_checkpoint(path, meta, self.state_dict())

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device | None = None) -> DEMO:
        """Load a model written by :meth:`save`; no retraining happens.

        Only plain tensors and containers are unpickled (``weights_only=True``),
        and the content hash is checked before anything is built.

        Args:
            path: File written by :meth:`save`.
            map_location: Device to load onto (default: where it was saved).

        Returns:
            The fitted model.

        Raises:
            FileNotFoundError: If ``path`` does not exist.
            CheckpointError: (a ``ValueError``) If the file is not a DEMO
                checkpoint (empty, truncated, random bytes, another object), was
                written by an incompatible version, or its content does not match
                its hash (corrupted or edited after saving). The message names
                the path.
        """
        meta, state = read_checkpoint(path, map_location)
        try:
            model = cls(DEMOConfig.from_dict(meta["config"]))
            parts = empty_parts(
                model.config,
                state["encoder.bounds"],
                {int(k): int(v) for k, v in meta["categorical_features"].items()},
                int(meta["n_train"]),
                NETWORK_DTYPES[meta["network_dtype"]],
                bool(meta["has_synthetic"]),
            )
            parts.ranked_rows = torch.zeros_like(state["ranked_rows"])
            model._install(parts)
            model.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
            raise checkpoint_error(path, err) from None
        model.eval()
        model.requires_grad_(False)
        return model
