"""The stateful DEMO model: fit once, generate many batches, save and reload."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import Tensor, nn

from botorch_demo.ascent import gradient_ascent
from botorch_demo.config import GENERATION_FIELDS, DEMOConfig
from botorch_demo.constraints import feasibility_map
from botorch_demo.diagnostics import (
    COLLAPSE_FRACTION,
    CollapseWarning,
    GenerationDiagnostics,
    SamplerDivergenceWarning,
    SamplerGuard,
    collapse_message,
    divergence_message,
)
from botorch_demo.diffusion import ScoreNetwork, fit_score_network
from botorch_demo.editing import edit_designs, raised_noise_level, sample_from_prior
from botorch_demo.encoding import DesignEncoder
from botorch_demo.exceptions import CandidateShortfallError, CheckpointError, DivergenceError
from botorch_demo.neighbours import best_new_mutants, best_unseen_designs
from botorch_demo.networks import mlp
from botorch_demo.rows import n_distinct, novel_rows, ranked_distinct_rows
from botorch_demo.sde import VPSDE
from botorch_demo.surrogate import fit_surrogate, predict_batched
from botorch_demo.validation import (
    check_categorical_values,
    standardisation,
    validate_count,
    validate_q,
    validate_seed,
    validate_training_data,
)

_FORMAT_VERSION = 2
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_F = TypeVar("_F", bound=Callable[..., Any])


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


def _require_finite(what: str, tensors: Any, fields: str) -> None:
    """Raise a clear error if a phase produced NaN or infinite numbers.

    Raises:
        DivergenceError: Naming the phase and the config fields to lower; a
            failing ``fit`` leaves the model's previous state (it is atomic).
    """
    if not all(bool(torch.isfinite(t).all()) for t in tensors):
        raise DivergenceError(
            f"{what} diverged: it produced NaN or infinite values. Lower DEMOConfig.{fields} "
            "(or check the scale of the data)."
        )


def _content_hash(meta: dict[str, Any], state: dict[str, Tensor]) -> str:
    """SHA-256 over a checkpoint's metadata (config included) and every tensor."""
    digest = hashlib.sha256(b"botorch-demo-checkpoint")
    digest.update(json.dumps(meta, sort_keys=True, default=str).encode())
    for key in sorted(state):
        t = state[key]
        digest.update(f"{key}:{t.dtype}:{tuple(t.shape)}".encode())
        digest.update(t.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


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

    def _network_dtype(self, input_dtype: torch.dtype) -> torch.dtype:
        name = self.config.network_dtype
        return input_dtype if name is None else _DTYPES[name]

    def _build(
        self,
        bounds: Tensor,
        categorical_features: dict[int, int],
        n: int,
        net_dtype: torch.dtype,
        init_generator: torch.Generator | None,
        with_synthetic: bool,
    ) -> None:
        """Create the modules and buffers (also used by :meth:`load`)."""
        cfg = self.config
        device = bounds.device
        self.encoder = DesignEncoder(
            bounds, categorical_features, cfg.categorical_encoding, cfg.logit_smoothing
        )
        D = self.encoder.encoded_dim
        self.surrogate = mlp(
            D,
            1,
            cfg.surrogate_hidden,
            cfg.surrogate_layers,
            cfg.surrogate_activation,
            generator=init_generator,
            dtype=net_dtype,
            device=device,
        )
        self.score_net = ScoreNetwork(
            D, cfg, generator=init_generator, dtype=net_dtype, device=device
        )
        kw = dict(dtype=bounds.dtype, device=device)
        self.register_buffer("train_X", torch.zeros(n, bounds.shape[-1], **kw))
        self.register_buffer("train_Y", torch.zeros(n, 1, **kw))
        self.register_buffer("y_mean", torch.zeros((), **kw))
        self.register_buffer("y_std", torch.ones((), **kw))
        self.register_buffer("ranked_rows", torch.zeros(0, dtype=torch.long, device=device))
        syn = torch.zeros(n, D, **kw) if with_synthetic else None
        self.register_buffer("synthetic_X", syn)
        self.register_buffer("synthetic_y", None if syn is None else torch.zeros(n, **kw))

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

        Returns:
            ``self``, fitted. The fit is atomic: if it raises (or is
            interrupted), the model keeps its previous state. Inputs that
            require grad are detached; no gradient flows through ``fit``.
        """
        cats = validate_training_data(train_X, train_Y, bounds, categorical_features)
        seed = validate_seed(seed)
        train_X, train_Y, bounds = (t.detach() for t in (train_X, train_Y, bounds))
        cfg = self.config
        device = train_X.device
        net_dtype = self._network_dtype(train_X.dtype)
        seed = int(torch.randint(0, 2**62, (1,)).item()) if seed is None else seed
        init_gen = torch.Generator().manual_seed(seed)
        gen = torch.Generator(device=device).manual_seed(seed + 1)
        need_synthetic = cfg.pseudo_target or cfg.edit_source == "ascent"
        bounds = bounds.to(train_X)
        self._build(bounds, cats, train_X.shape[0], net_dtype, init_gen, need_synthetic)
        assert self.encoder is not None
        self.train_X.copy_(train_X)
        self.train_Y.copy_(train_Y)
        self.encoder.fit(train_X)
        y = train_Y.squeeze(-1)
        mean, std = standardisation(y)
        self.y_mean.copy_(mean)
        self.y_std.copy_(std)
        self.ranked_rows = ranked_distinct_rows(train_X, y)
        Z = self.encoder.encode(train_X)
        y_std = (y - self.y_mean) / self.y_std
        self.fit_seconds = {}
        self.fit_stats = {}

        # Phase 1a: surrogate (Eq. 5).
        tic = time.perf_counter()
        reused_synthetic = False
        if reuse_surrogate is not None:
            reused_synthetic = self._take_surrogate(reuse_surrogate, train_X, train_Y, bounds, cats)
        else:
            self.surrogate, stats = fit_surrogate(
                Z, y_std, cfg, init_generator=init_gen, generator=gen, dtype=net_dtype
            )
            self.fit_stats["surrogate"] = stats
        self.fit_seconds["surrogate"] = time.perf_counter() - tic
        _require_finite("Training the surrogate", self.surrogate.parameters(), "surrogate_lr")

        # Phase 1b: synthetic dataset D' by gradient ascent (Eq. 6).
        tic = time.perf_counter()
        if need_synthetic and not reused_synthetic:
            step = (
                cfg.ascent_step_size_discrete
                if self.encoder.is_discrete
                else cfg.ascent_step_size_continuous
            )
            try:
                syn_X, syn_y = gradient_ascent(
                    self.surrogate,
                    Z,
                    steps=cfg.ascent_steps,
                    step_size=step,
                    optimizer=cfg.ascent_optimizer,
                    trust_radius=cfg.ascent_trust_radius,
                    batch_size=cfg.ascent_batch_size,
                    progress=cfg.progress,
                )
            except DivergenceError as err:
                raise DivergenceError(
                    f"{err} Lower DEMOConfig.ascent_step_size_continuous / "
                    "ascent_step_size_discrete."
                ) from None
            self.synthetic_X.copy_(syn_X)
            self.synthetic_y.copy_(syn_y.to(self.synthetic_y))
        self.fit_seconds["ascent"] = time.perf_counter() - tic
        if need_synthetic:
            _require_finite(
                "Gradient ascent",
                [self.synthetic_X, self.synthetic_y],
                "ascent_step_size_continuous / ascent_step_size_discrete",
            )

        # Phase 1c: conditional diffusion on D' (or on the offline data).
        tic = time.perf_counter()
        diff_X, diff_y = (self.synthetic_X, self.synthetic_y) if cfg.pseudo_target else (Z, y_std)
        # Labels of D' and of the offline data are both in offline standard units.
        cap = None if cfg.target_cap is None else float(y_std.max()) + cfg.target_cap
        self.score_net, stats = fit_score_network(
            diff_X,
            diff_y,
            self.sde,
            cfg,
            init_generator=init_gen,
            generator=gen,
            dtype=net_dtype,
            label_cap=cap,
        )
        self.fit_stats["diffusion"] = stats
        self.fit_seconds["diffusion"] = time.perf_counter() - tic
        _require_finite("Training the score network", self.score_net.parameters(), "diffusion_lr")
        return self

    def _take_surrogate(
        self,
        other: DEMO,
        train_X: Tensor,
        train_Y: Tensor,
        bounds: Tensor,
        cats: dict[int, int],
    ) -> bool:
        """Copy another fitted model's surrogate after checking compatibility.

        Returns:
            Whether its synthetic dataset D' was copied too.
        """
        if not isinstance(other, DEMO) or not other.is_fitted:
            raise ValueError("reuse_surrogate must be a fitted DEMO model.")
        keys = (
            "categorical_encoding",
            "logit_smoothing",
            "surrogate_hidden",
            "surrogate_layers",
            "surrogate_activation",
            "surrogate_epochs",
            "surrogate_batch_size",
            "surrogate_lr",
            "surrogate_weight_decay",
            "network_dtype",
        )
        mismatched = [k for k in keys if getattr(other.config, k) != getattr(self.config, k)]
        same_data = (
            other.train_X.shape == train_X.shape
            and torch.equal(other.train_X, train_X)
            and torch.equal(other.train_Y, train_Y)
            and torch.equal(other.encoder.bounds, bounds)
            and other.encoder.categorical_features == cats
        )
        if mismatched or not same_data:
            why = f"config fields {mismatched} differ" if mismatched else "the training data differ"
            raise ValueError(f"reuse_surrogate cannot be reused here: {why}.")
        self.surrogate = other.surrogate
        ascent_keys = (
            "ascent_steps",
            "ascent_step_size_continuous",
            "ascent_step_size_discrete",
            "ascent_optimizer",
            "ascent_trust_radius",
        )
        same_ascent = all(getattr(other.config, k) == getattr(self.config, k) for k in ascent_keys)
        if self.synthetic_X is None or other.synthetic_X is None or not same_ascent:
            return False
        self.synthetic_X.copy_(other.synthetic_X)
        self.synthetic_y.copy_(other.synthetic_y)
        return True

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
        from botorch.exceptions import InputDataError

        d = self.train_X.shape[-1]
        if not isinstance(X, Tensor) or X.dim() != 2 or X.shape[-1] != d:
            shape = tuple(X.shape) if isinstance(X, Tensor) else type(X).__name__
            raise InputDataError(f"{name} must be an n x {d} tensor, got {shape}.")
        if X.is_complex():
            raise InputDataError(f"{name} must be a real tensor, got dtype {X.dtype}.")
        X = X.detach()
        if not X.is_floating_point():
            X = X.to(self.train_X.dtype)
        if not torch.isfinite(X).all():
            raise InputDataError(f"{name} contains NaN or infinite values.")
        if self.encoder.categorical_features:
            check_categorical_values(X, self.encoder.categorical_features, name)
        return X

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
            **overrides: Per-call replacements of phase-2 config fields:
                ``editing``, ``edit_source``, ``m``, ``num_steps``, ``sampler``,
                ``guidance_weight``, ``target_score``, ``sampler_bound``,
                ``sampler_clamp``. The trained networks are
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
        allowed = set(GENERATION_FIELDS)
        unknown = sorted(set(overrides) - allowed)
        if unknown:
            raise ValueError(
                f"generate() got unknown overrides {unknown}; allowed: {sorted(allowed)}."
            )
        cfg = self.config.replace(**overrides) if overrides else self.config
        if cfg.edit_source == "ascent" and self.synthetic_X is None:
            raise ValueError("edit_source='ascent' needs a model fitted with gradient-ascent data.")
        validate_q(q, self.ranked_rows.numel() if cfg.editing else None)
        q = int(q)
        max_rounds = validate_count(max_rounds, "max_rounds", 0)
        if not isinstance(unique, bool):
            raise TypeError(f"unique must be True or False, got {unique!r}.")
        if exclude is not None:
            exclude = self._check_designs(exclude, "exclude").to(self.train_X)
        seed = validate_seed(seed)
        seed = int(torch.randint(0, 2**62, (1,)).item()) if seed is None else seed
        gen = torch.Generator(device=self.train_X.device).manual_seed(seed)

        feasible = feasibility_map(
            self.encoder.bounds,
            self.encoder.categorical_features,
            fixed_features,
            inequality_constraints,
            integer_features,
        )
        guard = SamplerGuard(self.score_net.state_bound(cfg.sampler_bound), cfg.sampler_clamp)
        sources = self._edit_sources(q, cfg) if cfg.editing else None
        cands = self._propose(cfg, q, sources, gen, feasible, guard)
        n_raw = n_distinct(cands)
        if exclude is not None or unique:
            cands = self._fill_novel(cfg, cands, sources, gen, exclude, max_rounds, feasible, guard)
        predicted = self.predict(cands).squeeze(-1)
        self.diagnostics = self._diagnose(cands, predicted, sources, n_raw, guard)
        return cands, predicted

    def _diagnose(
        self,
        cands: Tensor,
        predicted: Tensor,
        sources: Tensor | None,
        n_raw: int,
        guard: SamplerGuard,
    ) -> GenerationDiagnostics:
        """Build :attr:`diagnostics` and issue the guards' warnings."""
        q = cands.shape[0]
        above = None
        if sources is not None:
            src_pred = self.predict(self.encoder.decode(sources).to(self.train_X)).squeeze(-1)
            above = int((predicted > src_pred).sum())
        messages = []
        if guard.diverged:
            messages.append(divergence_message(guard))
            warnings.warn(messages[-1], SamplerDivergenceWarning, stacklevel=3)
        collapsed = n_raw < COLLAPSE_FRACTION * q
        if collapsed:
            messages.append(collapse_message(n_raw, q))
            warnings.warn(messages[-1], CollapseWarning, stacklevel=3)
        return GenerationDiagnostics(
            q=q,
            n_distinct=n_distinct(cands),
            n_distinct_raw=n_raw,
            n_predicted_above_source=above,
            n_states_outside=guard.n_outside,
            max_state_ratio=guard.max_ratio,
            clamped=guard.clamp and guard.diverged,
            collapsed=collapsed,
            messages=tuple(messages),
        )

    def _edit_sources(self, q: int, cfg: DEMOConfig) -> Tensor:
        """Encoded starting points: the top-q offline designs or their ascents."""
        rows = self.ranked_rows[:q]
        if cfg.edit_source == "ascent":
            return self.synthetic_X[rows]
        return self.encoder.encode(self.train_X[rows])

    def _propose(
        self,
        cfg: DEMOConfig,
        n: int,
        sources: Tensor | None,
        gen: torch.Generator,
        feasible: Callable[[Tensor], Tensor] | None = None,
        guard: SamplerGuard | None = None,
    ) -> Tensor:
        kw = dict(
            target_score=cfg.target_score,
            guidance_weight=cfg.guidance_weight,
            method=cfg.sampler,
            generator=gen,
            progress=cfg.progress,
            guard=guard,
        )
        if sources is not None:
            Z = edit_designs(
                self.score_net,
                self.sde,
                sources,
                m=cfg.m,
                M=cfg.M,
                num_steps=cfg.num_steps,
                **kw,
            )
        else:
            steps = cfg.num_steps or cfg.M
            Z = sample_from_prior(
                self.score_net,
                self.sde,
                n,
                self.encoder.encoded_dim,
                num_steps=steps,
                **kw,
            )
        _require_finite("The reverse SDE", [Z], "beta_max, guidance_weight or target_score")
        X = self.encoder.decode(Z).to(self.train_X)
        return X if feasible is None else feasible(X)

    def _fill_novel(
        self,
        cfg: DEMOConfig,
        cands: Tensor,
        sources: Tensor | None,
        gen: torch.Generator,
        exclude: Tensor | None,
        max_rounds: int,
        feasible: Callable[[Tensor], Tensor] | None = None,
        guard: SamplerGuard | None = None,
    ) -> Tensor:
        """Replace rejected candidates by re-editing their sources harder.

        A candidate is rejected when it equals an excluded design or an earlier
        candidate. Its source is edited again with fresh noise at a noise level
        raised step by step from ``m`` to ``M`` over the first half of the
        rounds: an edit that keeps falling back onto a known design needs more
        noise, not just new noise. The second half samples those slots from the
        prior (as ``editing=False``), the most diverse fallback; on a space whose
        columns are all categorical it instead moves each rejected design to its
        best new single-site neighbour by the surrogate
        (:func:`~botorch_demo.neighbours.best_new_mutants`), because there the
        guided prior samples collapse onto the same few known sequences too; its
        last round takes the best unseen designs of the whole space by the
        surrogate when the space has at most 2^20 designs
        (:func:`~botorch_demo.neighbours.best_unseen_designs`). Only
        the rejected slots are recomputed, all of them in one batch. None of this
        is in the paper, whose protocol keeps repeats.
        """
        q = cands.shape[0]
        filled = torch.zeros(q, dtype=torch.bool, device=cands.device)
        out = cands.clone()
        pending = torch.arange(q, device=cands.device)
        ramp = max(max_rounds // 2, 1)
        for r in range(1, max_rounds + 2):
            reference = out[filled] if exclude is None else torch.cat([exclude, out[filled]])
            ok = novel_rows(cands, reference)
            out[pending[ok]] = cands[ok]
            filled[pending[ok]] = True
            pending = pending[~ok]
            if pending.numel() == 0:
                return out
            if r > max_rounds:
                break
            if r > ramp and self._all_categorical():
                # Edits and prior samples of a categorical space can keep landing on
                # the same few known designs: move to new single-site neighbours,
                # and in the last round to the best unseen designs of a small space.
                known = out[filled] if exclude is None else torch.cat([exclude, out[filled]])
                cats = self.encoder.categorical_features
                predict = lambda X: self.predict(X).squeeze(-1)  # noqa: E731
                best = None
                if r == max_rounds:
                    best = best_unseen_designs(cats, known, pending.numel(), predict, cands)
                if best is not None:
                    if best.shape[0] < pending.numel():
                        break  # Fewer unseen designs than empty slots.
                    cands = best
                else:
                    cands = best_new_mutants(cands[~ok], cats, known, predict, gen)
                if feasible is not None:
                    cands = feasible(cands)
                continue
            src = None if sources is None or r > ramp else sources[pending]
            m_r = raised_noise_level(cfg.m, cfg.M, r, ramp)
            cands = self._propose(cfg.replace(m=m_r), pending.numel(), src, gen, feasible, guard)
        raise CandidateShortfallError(
            f"Could not find {pending.numel()} of {q} new, distinct candidates after "
            f"{max_rounds} rounds of re-editing and sampling from the prior: the excluded "
            "designs may cover most of the design space. Lower q, exclude fewer designs, "
            "or allow repeats.",
            requested=q,
            missing=pending.numel(),
        )

    def _all_categorical(self) -> bool:
        """Whether every design column is categorical."""
        return len(self.encoder.categorical_features) == self.train_X.shape[-1]

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
            "format_version": _FORMAT_VERSION,
            "config": self.config.to_dict(),
            "categorical_features": self.encoder.categorical_features,
            "n_train": self.train_X.shape[0],
            "network_dtype": str(next(self.surrogate.parameters()).dtype).removeprefix("torch."),
            "has_synthetic": self.synthetic_X is not None,
        }
        state = self.state_dict()
        payload = {**meta, "state_dict": state, "content_sha256": _content_hash(meta, state)}
        path = Path(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            torch.save(payload, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

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
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"DEMO checkpoint not found: {path}")
        try:
            payload = torch.load(path, map_location=map_location, weights_only=True)
        except (
            pickle.UnpicklingError,
            EOFError,
            OSError,
            RuntimeError,
            ValueError,
            zipfile.BadZipFile,
            KeyError,
            AttributeError,
            TypeError,
        ) as err:
            # torch's own message may suggest weights_only=False, which must never
            # be followed for an untrusted file: only the error type is reported.
            raise CheckpointError(
                f"{path} is not a DEMO checkpoint: torch.load cannot read it "
                f"({type(err).__name__}); the file is empty, truncated, corrupted or "
                "not written by DEMO.save."
            ) from None
        return cls._from_payload(payload, path)

    @classmethod
    def _from_payload(cls, payload: Any, path: Path) -> DEMO:
        def bad(why: str) -> CheckpointError:
            return CheckpointError(f"{path} is not a DEMO checkpoint: {why}.")

        if not isinstance(payload, dict):
            raise bad(f"it holds a {type(payload).__name__}, not DEMO.save's dict")
        version = payload.get("format_version")
        if version != _FORMAT_VERSION:
            raise bad(
                f"format_version is {version!r}, this version reads {_FORMAT_VERSION} "
                "(re-create it with fit() and save())"
            )
        keys = (
            "config",
            "categorical_features",
            "n_train",
            "network_dtype",
            "has_synthetic",
            "state_dict",
            "content_sha256",
        )
        missing = [k for k in keys if k not in payload]
        if missing:
            raise bad(f"it lacks the entries {missing}")
        state = payload["state_dict"]
        if not isinstance(state, dict) or not all(isinstance(t, Tensor) for t in state.values()):
            raise bad("its state_dict is not a dict of tensors")
        meta = {k: payload[k] for k in keys[:-2]}
        meta["format_version"] = version
        if _content_hash(meta, state) != payload["content_sha256"]:
            raise CheckpointError(
                f"{path}: the checkpoint's content does not match its hash: the file "
                "is corrupted or was edited after saving. Re-create it with fit() and save()."
            )
        if payload["network_dtype"] not in _DTYPES:
            raise bad(
                f"unknown network_dtype {payload['network_dtype']!r}; known: {sorted(_DTYPES)}"
            )
        try:
            model = cls(DEMOConfig.from_dict(payload["config"]))
            bounds = state["encoder.bounds"]
            model._build(
                bounds,
                {int(k): int(v) for k, v in payload["categorical_features"].items()},
                int(payload["n_train"]),
                _DTYPES[payload["network_dtype"]],
                None,
                bool(payload["has_synthetic"]),
            )
            model.ranked_rows = torch.zeros_like(state["ranked_rows"])
            model.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as err:
            why = f"its content does not fit a DEMO model ({type(err).__name__}: {err})"
            raise bad(why) from None
        model.eval()
        model.requires_grad_(False)
        return model
