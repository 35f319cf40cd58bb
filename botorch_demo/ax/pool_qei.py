"""A GP with qLogNEI that chooses each online batch among DEMO's edits.

:class:`DEMOPoolGenerator` is the online node of a campaign that keeps what
DEMO learned: at every round it

1. trains DEMO on ALL observations (offline data and every result so far; the
   trained model is kept while the data does not change, and with
   ``checkpoint_dir`` saved and reloaded as the DEMO node's is). With
   ``retrain_demo=False`` DEMO is trained only on the observations no DEMO or
   DEMO-pool node proposed (the data the campaign started from; with the DEMO
   node's ``checkpoint_dir`` its model is loaded) and kept for later rounds;
2. lets DEMO edit the ``pool_size`` best observed designs (phase 2 of DEMO:
   the diffusion model trained on the pseudo-target set D'), giving a pool of
   new designs (observed, pending and repeated ones removed);
3. fits the exact GP of :class:`~botorch_demo.ax.SubsetBoTorchGenerator` (same
   training-subset policy) and chooses the batch among the pool with
   ``qLogNoisyExpectedImprovement`` through BoTorch's
   ``optimize_acqf_discrete`` (sequential greedy, pending designs as
   ``X_pending``). With ``prior_mean=True`` that GP is replaced, for this
   choice, by one on the same training subset whose prior mean is DEMO's
   surrogate (:func:`~botorch_demo.ax.prior_mean.surrogate_prior_gp`): the GP
   then models the surrogate's residual, so DEMO's knowledge shapes both the
   candidates and their scores. With ``gp_candidates=True`` the batch the GP
   node itself would propose (the Kriging-believer batch of
   :class:`~botorch_demo.ax.SubsetBoTorchGenerator`, over the whole search
   space) joins the pool before the choice, so the candidates hold both DEMO's
   edits and the GP's own proposals. With ``gp_share > 0`` that fraction of
   each batch is the GP's own batch outright and the rest is chosen among the
   pool, a portfolio of the two proposers.

Successive one-arm requests of the same round are served from that batch, as
the GP nodes serve theirs. When the pool holds fewer new designs than asked for,
the rest comes from the GP node's own generation (Ax's acquisition optimiser,
or the enumerated Kriging-believer batch on small discrete spaces).

It is registered as ``DEMOGenerators.DEMO_POOL`` and built with Ax's own
transforms for BoTorch nodes (see :mod:`botorch_demo.ax.registry`), so its
constructor arguments are JSON values stored with the generation strategy.
Fixed features and linear parameter constraints are not supported (DEMO's edits
are not projected onto them here): ``gen`` raises ``UnsupportedError``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from ax.core.search_space import SearchSpaceDigest
from ax.exceptions.core import UnsupportedError
from ax.generators.torch.botorch_modular.acquisition import Acquisition
from ax.generators.torch.botorch_modular.surrogate import Surrogate, SurrogateSpec
from ax.generators.torch_base import TorchGenResults, TorchOptConfig
from botorch.acquisition.acquisition import AcquisitionFunction
from botorch.acquisition.logei import qLogNoisyExpectedImprovement
from botorch.acquisition.objective import LinearMCObjective
from botorch.models.model import Model
from botorch.optim.optimize import optimize_acqf_discrete
from torch import Tensor

from botorch_demo.ax.arguments import (
    bool_argument,
    checked_config,
    fraction_argument,
    int_argument,
    seed_argument,
)
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.generator import DEMO_METADATA_KEY
from botorch_demo.ax.model_cache import ModelCache, split_observations
from botorch_demo.ax.prior_mean import surrogate_prior_gp
from botorch_demo.ax.subset import SubsetBoTorchGenerator
from botorch_demo.ax.utils import generation_key, marked, outcome_metadata, single_objective
from botorch_demo.model import DEMO
from botorch_demo.rows import first_occurrences, ranked_distinct_rows, rows_in

#: ``gen_metadata`` key of a pool generator run: the key of the DEMO model that
#: made the pool (not DEMO's own key, so DEMO nodes do not count these runs).
POOL_MODEL_KEY = "demo_pool_model"
#: ``gen_metadata`` key: the number of new designs in the pool.
POOL_SIZE_KEY = "demo_pool_new_designs"
#: ``gen_metadata`` key: ``[scale, offset]`` of the GP's surrogate prior mean.
PRIOR_MEAN_KEY = "demo_prior_mean"
#: ``gen_metadata`` key: new designs the GP node's own batch added to the pool.
GP_CANDIDATES_KEY = "gp_candidates"
#: ``gen_metadata`` key: designs of the batch taken outright from the GP's batch.
GP_TAKEN_KEY = "gp_taken"
#: Candidate-metadata key that marks a design proposed by a DEMO-pool node.
POOL_PROPOSED_KEY = "demo_pool_proposed"


class DEMOPoolGenerator(SubsetBoTorchGenerator):
    """GP + qLogNEI choosing among DEMO's edits of the best observed designs.

    Takes the arguments of :class:`~botorch_demo.ax.SubsetBoTorchGenerator`
    (``max_points``, ``n_top``, ``n_recent``, ``subset_seed``, ``batch_size``,
    ...) plus DEMO's.

    Args:
        config: ``DEMOConfig`` preset name or dict of fields.
        config_overrides: ``DEMOConfig`` fields replacing those of ``config``.
        pool_size: DEMO edits per round (the best ``pool_size`` observed
            designs are edited); the batch is chosen among them.
        demo_seed: Seed of DEMO's training; the pool of a round is generated
            with ``demo_seed`` plus the number of observations. None draws it
            from torch's global generator when the generator is built.
        checkpoint_dir: Directory for DEMO checkpoints (a reloaded campaign
            reuses the trained model of the round).
        prior_mean: Whether qLogNEI scores the pool with a GP whose prior mean
            is DEMO's surrogate (fitted scale and offset) instead of Ax's GP
            with a constant mean.
        gp_candidates: Whether the GP node's own batch over the whole search
            space (``batch_size`` designs by Kriging-believer LogEI on the
            constant-mean GP) joins DEMO's edits as candidates.
        gp_share: Fraction of each batch (rounded) taken outright from the GP
            node's own batch; the rest is chosen among the pool with those
            designs pending. 0 takes none.
        retrain_demo: ``True``: DEMO is trained on every observation and
            retrained whenever they change (every round). ``False``: DEMO is
            trained on the observations no DEMO or DEMO-pool node proposed (the
            data the campaign started from, which the DEMO node of round 0
            trained on: with a shared ``checkpoint_dir`` its model is loaded,
            not trained again) and kept while those observations and the
            order of their scores do not change; each round
            it edits the ``pool_size`` best observed designs, new results
            included, and the new results reach the choice through the GP. Its
            online rounds then cost an edit pass and the GP, not a training.
        surrogate_spec, surrogate, acquisition_class, acquisition_options,
        botorch_acqf_class, botorch_acqf_options, botorch_acqf_classes_with_options,
        refit_on_cv, warm_start_refit, use_p_feasible, max_points, n_top, n_recent,
        subset_seed, batch_size, n_prescreen, max_enumerate,
        continuous_kriging_believer: As for
            :class:`~botorch_demo.ax.SubsetBoTorchGenerator` (the acquisition
            defaults to ``qLogNoisyExpectedImprovement``).

    Raises:
        UserInputError: For a ``pool_size`` that is not an int >= 1, a bad seed,
            a ``prior_mean``, ``gp_candidates`` or ``retrain_demo`` that is not
            a bool, a
            ``gp_share`` outside [0, 1] or a configuration that does not
            resolve.
    """

    def __init__(
        self,
        config: str | Mapping[str, Any] = "default",
        config_overrides: Mapping[str, Any] | None = None,
        pool_size: int = 256,
        demo_seed: int | None = None,
        checkpoint_dir: str | None = None,
        prior_mean: bool = False,
        gp_candidates: bool = False,
        gp_share: float = 0.0,
        retrain_demo: bool = True,
        surrogate_spec: SurrogateSpec | None = None,
        surrogate: Surrogate | None = None,
        acquisition_class: type[Acquisition] | None = None,
        acquisition_options: dict[str, Any] | None = None,
        botorch_acqf_class: type[AcquisitionFunction] | None = None,
        botorch_acqf_options: dict[str, Any] | None = None,
        botorch_acqf_classes_with_options: (
            list[tuple[type[AcquisitionFunction], dict[str, Any]]] | None
        ) = None,
        refit_on_cv: bool = False,
        warm_start_refit: bool = True,
        use_p_feasible: bool = True,
        max_points: int = 500,
        n_top: int | None = None,
        n_recent: int | None = None,
        subset_seed: int = 0,
        batch_size: int = 1,
        n_prescreen: int = 1024,
        max_enumerate: int = 2**20,
        continuous_kriging_believer: bool = True,
    ) -> None:
        # Ax passes a generator only the arguments its signature names, so the
        # GP generator's arguments are listed here rather than taken as **kwargs.
        super().__init__(
            surrogate_spec=surrogate_spec,
            surrogate=surrogate,
            acquisition_class=acquisition_class,
            acquisition_options=acquisition_options,
            botorch_acqf_class=botorch_acqf_class or qLogNoisyExpectedImprovement,
            botorch_acqf_options=botorch_acqf_options,
            botorch_acqf_classes_with_options=botorch_acqf_classes_with_options,
            refit_on_cv=refit_on_cv,
            warm_start_refit=warm_start_refit,
            use_p_feasible=use_p_feasible,
            max_points=max_points,
            n_top=n_top,
            n_recent=n_recent,
            subset_seed=subset_seed,
            batch_size=batch_size,
            n_prescreen=n_prescreen,
            max_enumerate=max_enumerate,
            continuous_kriging_believer=continuous_kriging_believer,
        )
        self.pool_size = int_argument(pool_size, "pool_size", 1)
        self.prior_mean = bool_argument(prior_mean, "prior_mean")
        self.gp_candidates = bool_argument(gp_candidates, "gp_candidates")
        self.gp_share = fraction_argument(gp_share, "gp_share")
        self.retrain_demo = bool_argument(retrain_demo, "retrain_demo")
        demo_seed = seed_argument(demo_seed, "demo_seed")
        self.demo_config = checked_config(config, config_overrides)
        drawn = int(torch.randint(0, 2**31 - 1, (1,)).item())
        self.demo_cache = ModelCache(
            self.demo_config,
            seed=drawn if demo_seed is None else demo_seed,
            configured_seed=demo_seed,
            checkpoint_dir=None if checkpoint_dir is None else Path(checkpoint_dir),
            # Ax winsorises and standardises the objective over all
            # observations, so as results arrive the initial data's scores keep
            # their order but not their values.
            same_order_scores=not self.retrain_demo,
        )
        #: Size of the last pool of new designs (for diagnostics).
        self.last_pool_size = 0
        #: ``(scale, offset)`` of the last fitted surrogate prior mean, if any.
        self.last_prior_mean: tuple[float, float] | None = None
        #: New designs the GP node's own batch added to the last pool.
        self.last_gp_candidates = 0
        #: Designs of the last batch taken outright from the GP's own batch.
        self.last_gp_taken = 0

    def gen(
        self,
        n: int,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> TorchGenResults:
        """``n`` new designs: the qLogNEI batch over DEMO's edits, topped up by
        the GP node's own generation when the pool runs short.

        Raises:
            UnsupportedError: For several objectives, outcome constraints,
                fixed features or linear parameter constraints.
        """
        outcome, _ = single_objective(torch_opt_config)
        if torch_opt_config.outcome_constraints is not None:
            raise UnsupportedError("The DEMO-pool node does not support outcome constraints.")
        if torch_opt_config.fixed_features or torch_opt_config.linear_constraints is not None:
            raise UnsupportedError(
                "The DEMO-pool node supports neither fixed features nor linear parameter "
                "constraints (DEMO's edits are not projected onto them)."
            )
        if self._fit_args is None:
            raise UnsupportedError("DEMOPoolGenerator.fit must be called first.")
        signs = self._signs(torch_opt_config)
        if not self.prior_mean or self.gp_candidates or self.gp_share > 0:
            # Ax's constant-mean GP scores the pool or makes the GP's own
            # batch. When the prior-mean GP only scores the pool, Ax's GP is
            # fit only if a top-up needs it (SubsetBoTorchGenerator.gen fits it).
            self._ensure_fit(signs)
        pending = torch_opt_config.pending_observations
        pending_X = torch.cat(list(pending)) if pending else None
        key = ("demo-pool", generation_key(None, None))
        chosen: Tensor | None = None
        if self._pool is not None and self._pool[0] == key:
            free = self._pool[1][~rows_in(self._pool[1], pending_X)]
            if free.shape[0] >= n:
                chosen = free[:n]
        metadata: dict[str, Any] = {"batch_selection": "qlognei_over_demo_edits"}
        if chosen is None:
            weights = torch_opt_config.objective_weights
            weights = weights.reshape(-1, weights.shape[-1])[0]
            batch = self._pool_batch(
                max(self.batch_size, n),
                search_space_digest,
                outcome,
                weights,
                pending_X,
                torch_opt_config,
            )
            self._pool = (key, batch)
            chosen = batch[:n]
        metadata[POOL_MODEL_KEY] = self.demo_cache.key
        metadata[POOL_SIZE_KEY] = self.last_pool_size
        if self.prior_mean and self.last_prior_mean is not None:
            metadata[PRIOR_MEAN_KEY] = list(self.last_prior_mean)
        if self.gp_candidates:
            metadata[GP_CANDIDATES_KEY] = self.last_gp_candidates
        if self.gp_share > 0:
            metadata[GP_TAKEN_KEY] = self.last_gp_taken
        if chosen.shape[0] < n:
            taken = chosen if pending_X is None else torch.cat([pending_X, chosen.to(pending_X)])
            outcomes = torch_opt_config.objective_weights.shape[-1]
            config = dataclasses.replace(torch_opt_config, pending_observations=[taken] * outcomes)
            rest = super().gen(n - chosen.shape[0], search_space_digest, config)
            chosen = torch.cat([chosen, rest.points.to(chosen)])
            metadata["topped_up_by_gp"] = int(rest.points.shape[0])
        return TorchGenResults(
            points=chosen,
            weights=torch.ones(chosen.shape[0], dtype=chosen.dtype),
            gen_metadata=metadata,
            candidate_metadata=[{POOL_PROPOSED_KEY: True} for _ in range(chosen.shape[0])],
        )

    def _pool_batch(
        self,
        q: int,
        digest: SearchSpaceDigest,
        outcome: int,
        weights: Tensor,
        pending_X: Tensor | None,
        torch_opt_config: TorchOptConfig,
    ) -> Tensor:
        """Trains (or keeps) DEMO on all observations of the objective (outcome
        ``outcome``), edits the best designs (with ``gp_candidates``, adds the
        GP node's own batch) and returns up to ``q`` of the new designs in the
        order qLogNEI (objective ``weights`` over the GP's outputs) chose
        them."""
        dataset = self._fit_args["datasets"][outcome]
        sign = float(torch.sign(weights[outcome]))
        X, Y = dataset.X, dataset.Y
        encoding = DesignEncoding.from_digest(digest, dtype=X.dtype, device=X.device)
        integer, discrete = encoding.ordinal_features()
        if self.retrain_demo:
            from_demo = torch.zeros(X.shape[0], dtype=torch.bool, device=X.device)
            _, data = split_observations(X, Y, encoding, from_demo)
            sources = None
            k = min(self.pool_size, data.n_distinct)
        else:
            proposed = self._proposed(outcome, X.shape[0]).to(X.device)
            observed, data = split_observations(X, Y, encoding, proposed, proposed)
            best = ranked_distinct_rows(observed.Z, sign * Y.reshape(-1))[: self.pool_size]
            sources = observed.Z[best]
            k = best.numel()
        model = self.demo_cache.get(data, sign)
        Z, _ = model.generate(
            k,
            seed=self.demo_cache.seed + X.shape[0],
            integer_features=integer or None,
            discrete_values=discrete or None,
            sources=sources,
        )
        pool = encoding.to_ax(encoding.project(Z), like=X)
        keep = first_occurrences(pool) & ~rows_in(pool, self._observed) & ~rows_in(pool, pending_X)
        pool = pool[keep]
        self.last_pool_size = int(pool.shape[0])
        taken = pool[:0]
        share = round(self.gp_share * q)
        if self.gp_candidates or share > 0:
            own = self._own_batch(q if self.gp_candidates else share, digest, torch_opt_config)
            taken = own[:share]
            self.last_gp_taken = int(taken.shape[0])
            pool = pool[~rows_in(pool, taken)]
            if self.gp_candidates:
                own = own[taken.shape[0] :]
                own = own[~rows_in(own, pool)]
                self.last_gp_candidates = int(own.shape[0])
                pool = torch.cat([pool, own])
            if taken.shape[0]:
                pending_X = taken if pending_X is None else torch.cat([pending_X, taken])
        q = min(q - taken.shape[0], pool.shape[0])
        if q <= 0:
            return taken
        if self.prior_mean:
            rows = self._subset_rows(dataset, sign)
            baseline_X = X[rows]
            gp = self._surrogate_prior_gp(model, sign, encoding, digest, baseline_X, Y[rows])
            objective = LinearMCObjective(weights=torch.tensor([sign]).to(X))
        else:
            baseline_X = self.surrogate.training_data[outcome].X
            gp = self.surrogate.model
            objective = LinearMCObjective(weights=weights.to(X))
        acqf = qLogNoisyExpectedImprovement(
            model=gp,
            X_baseline=baseline_X,
            objective=objective,
            X_pending=pending_X,
            prune_baseline=True,
        )
        candidates, _ = optimize_acqf_discrete(acqf, q=q, choices=pool, unique=True)
        return torch.cat([taken, candidates.to(X)])

    def _proposed(self, outcome: int, n: int) -> Tensor:
        """``n`` bools: the observations of ``outcome`` that a DEMO or DEMO-pool
        node proposed (by their candidate metadata)."""
        rows = outcome_metadata(self._fit_args.get("candidate_metadata"), outcome, n)
        return torch.tensor(marked(rows, (DEMO_METADATA_KEY, POOL_PROPOSED_KEY)), dtype=torch.bool)

    def _own_batch(self, q: int, digest: SearchSpaceDigest, config: TorchOptConfig) -> Tensor:
        """The batch of ``q`` designs the GP node would propose on its own
        (:meth:`SubsetBoTorchGenerator.gen`), none observed or pending."""
        saved = self._pool
        self._pool = None
        try:
            points = SubsetBoTorchGenerator.gen(self, q, digest, config).points
        finally:
            self._pool = saved
        return points

    def _surrogate_prior_gp(
        self,
        model: DEMO,
        sign: float,
        encoding: DesignEncoding,
        digest: SearchSpaceDigest,
        X: Tensor,
        Y: Tensor,
    ) -> Model:
        """The GP on the subset ``X``, ``Y`` (Ax's space and standardised
        objective) with DEMO's surrogate as its prior mean; DEMO was trained on
        ``sign * Y``, so its predictions are multiplied by ``sign``."""

        def surrogate(designs: Tensor) -> Tensor:
            return sign * model.predict(encoding.to_demo(designs)).reshape(-1).to(designs)

        bounds = torch.tensor(digest.bounds, dtype=X.dtype, device=X.device).T
        gp = surrogate_prior_gp(X, Y, surrogate, bounds, cat_dims=digest.categorical_features)
        mean = gp.mean_module
        self.last_prior_mean = (float(mean.scale.detach()), float(mean.offset.detach()))
        return gp
