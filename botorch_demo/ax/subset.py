"""An exact-GP BoTorch generator that trains on a bounded subset of the data.

An exact GP cannot be fit to 30,000+ offline designs on a small machine, so the
qEI baseline and the online node after DEMO train on at most ``max_points``
observations per outcome, chosen by :func:`training_subset`:

1. the ``n_top`` best observations of the objective (direction from Ax's
   ``objective_weights``), so the incumbent and the promising region are known;
2. the ``n_recent`` observations of the newest trials, so that the results of
   the online rounds are always seen;
3. a uniform random sample (seeded) of the remaining observations up to
   ``max_points``, for global coverage.

Below ``max_points`` observations the GP sees everything. Ax passes the
objective's direction to ``gen`` only, so the GP is fit lazily, at the first
``gen``/``predict``/``best_point`` after ``fit``. Because the acquisition
optimiser only avoids the designs the GP was trained on, every proposed design is
checked against ALL observed designs; a repeat is fed back as a pending point and
a replacement is generated.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from ax.core.search_space import SearchSpaceDigest
from ax.core.types import TCandidateMetadata
from ax.exceptions.core import SearchSpaceExhausted, UnsupportedError, UserInputError
from ax.generators.torch.botorch_modular.acquisition import Acquisition
from ax.generators.torch.botorch_modular.generator import BoTorchGenerator
from ax.generators.torch.botorch_modular.surrogate import Surrogate, SurrogateSpec
from ax.generators.torch_base import TorchGenResults, TorchOptConfig
from ax.utils.common.logger import get_logger
from botorch.acquisition.acquisition import AcquisitionFunction
from botorch.utils.datasets import SupervisedDataset
from torch import Tensor

from botorch_demo.ax.arguments import bool_argument, int_argument
from botorch_demo.ax.batch_ei import (
    discrete_candidates,
    enumerate_designs,
    is_discrete,
    kriging_believer_batch,
    kriging_believer_optimize,
)
from botorch_demo.ax.utils import generation_key
from botorch_demo.rows import first_occurrences, rows_in

logger = get_logger(__name__)

_DEDUP_ATTEMPTS = 5


def training_subset(
    Y: Tensor,
    sign: float,
    max_points: int,
    n_top: int,
    n_recent: int = 0,
    group_indices: Tensor | None = None,
    seed: int = 0,
) -> Tensor:
    """Indices of the observations an exact GP is trained on.

    Args:
        Y: ``n x 1`` (or ``n``) observations.
        sign: +1 if larger is better, -1 if smaller is better, 0 if the outcome is
            not an objective (then no top selection is made).
        max_points: Size of the subset; all indices if ``n <= max_points``.
        n_top: Number of best observations always kept.
        n_recent: Number of observations of the newest trials always kept.
        group_indices: Trial index of each observation (for ``n_recent``).
        seed: Seed of the random fill.

    Returns:
        Sorted ``int64`` indices into ``Y``.
    """
    y = Y.reshape(-1)
    n = y.shape[0]
    if n <= max_points:
        return torch.arange(n, device=y.device)
    chosen = torch.zeros(n, dtype=torch.bool, device=y.device)
    if sign != 0 and n_top > 0:
        chosen[torch.argsort(sign * y, descending=True, stable=True)[:n_top]] = True
    if n_recent > 0 and group_indices is not None:
        newest = torch.argsort(group_indices.to(y.device), descending=True, stable=True)
        chosen[newest[:n_recent]] = True
    rest = torch.nonzero(~chosen).flatten()
    n_fill = max(max_points - int(chosen.sum()), 0)
    generator = torch.Generator().manual_seed(seed)
    fill = rest[torch.randperm(rest.numel(), generator=generator)[:n_fill].to(y.device)]
    chosen[fill] = True
    return torch.nonzero(chosen).flatten()


class SubsetBoTorchGenerator(BoTorchGenerator):
    """``BoTorchGenerator`` trained on a bounded subset of the observations.

    Takes every argument of Ax's ``BoTorchGenerator`` (``surrogate_spec``,
    ``botorch_acqf_class``, ...) plus the subset policy's.

    Args:
        max_points: Largest number of observations per outcome the GP sees.
        n_top: Best observations always kept (default: ``max_points // 2``).
        n_recent: Observations of the newest trials always kept (default:
            ``max_points // 4``).
        subset_seed: Seed of the random part of the subset.
        batch_size: Designs of the batch built at once (one-arm trials are
            served from it).
        n_prescreen: Designs of an enumerated space the Kriging believer
            chooses among (those of highest LogEI).
        max_enumerate: Largest discrete space that is enumerated.
        continuous_kriging_believer: Whether batches of more than one design on
            spaces that cannot be enumerated (continuous or mixed) are built by
            Kriging-believer LogEI too
            (:func:`~botorch_demo.ax.batch_ei.kriging_believer_optimize`); with
            False (the default) Ax's optimiser builds them with
            ``botorch_acqf_class``, one arm at a time with pending points.
            On a discrete space too large to enumerate, the Kriging believer
            chooses among the single-site mutants of the ``n_sources`` best
            observations and ``n_prescreen`` uniformly drawn designs.
        n_sources: Best observations whose single-site mutants are candidates
            on a discrete space too large to enumerate.
    """

    def __init__(
        self,
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
        continuous_kriging_believer: bool = False,
        n_sources: int = 64,
    ) -> None:
        super().__init__(
            surrogate_spec=surrogate_spec,
            surrogate=surrogate,
            acquisition_class=acquisition_class,
            acquisition_options=acquisition_options,
            botorch_acqf_class=botorch_acqf_class,
            botorch_acqf_options=botorch_acqf_options,
            botorch_acqf_classes_with_options=botorch_acqf_classes_with_options,
            refit_on_cv=refit_on_cv,
            warm_start_refit=warm_start_refit,
            use_p_feasible=use_p_feasible,
        )
        n_top = max_points // 2 if n_top is None else n_top
        n_recent = max_points // 4 if n_recent is None else n_recent
        if max_points < 1 or n_top < 0 or n_recent < 0 or n_top + n_recent > max_points:
            raise UserInputError(
                "Need max_points >= 1, n_top >= 0, n_recent >= 0 and "
                f"n_top + n_recent <= max_points; got {max_points=}, {n_top=}, "
                f"{n_recent=}."
            )
        self.max_points = max_points
        self.n_top = n_top
        self.n_recent = n_recent
        if batch_size < 1 or n_prescreen < 1:
            raise UserInputError("batch_size and n_prescreen must be positive.")
        self.subset_seed = subset_seed
        self.batch_size = batch_size
        self.n_prescreen = n_prescreen
        self.max_enumerate = max_enumerate
        self.continuous_kriging_believer = bool_argument(
            continuous_kriging_believer, "continuous_kriging_believer"
        )
        self.n_sources = int_argument(n_sources, "n_sources", 1)
        self._pool: tuple[tuple[Any, ...], Tensor] | None = None
        self._fit_args: dict[str, Any] | None = None
        self._fitted_signs: tuple[float, ...] | None = None
        self._observed: Tensor | None = None
        # Kept here rather than read back from Ax's private attributes.
        self._acqf_class = botorch_acqf_class

    def fit(
        self,
        datasets: Sequence[SupervisedDataset],
        search_space_digest: SearchSpaceDigest,
        candidate_metadata: list[list[TCandidateMetadata]] | None = None,
        state_dict: OrderedDict[str, Tensor] | None = None,
        refit: bool = True,
        **additional_model_inputs: Any,
    ) -> None:
        """Records the data; the GP is fit on the subset at first use."""
        for dataset in datasets:
            if type(dataset) is not SupervisedDataset and (dataset.X.shape[0] > self.max_points):
                raise UnsupportedError(
                    f"Cannot subset a {type(dataset).__name__}; it has "
                    f"{dataset.X.shape[0]} > max_points={self.max_points} rows."
                )
        datasets = [_consistent_noise(d) for d in datasets]
        self._fit_args = {
            "datasets": list(datasets),
            "search_space_digest": search_space_digest,
            "candidate_metadata": candidate_metadata,
            "state_dict": state_dict,
            "refit": refit,
            **additional_model_inputs,
        }
        self._fitted_signs = None
        self._pool = None
        Xs = [d.X for d in datasets]
        self._observed = torch.cat(Xs) if Xs else None

    def _ensure_fit(self, signs: tuple[float, ...] | None = None) -> None:
        """Fits the GP on the subset chosen for the objective directions."""
        if self._fit_args is None:
            raise UnsupportedError("SubsetBoTorchGenerator.fit must be called first.")
        args = dict(self._fit_args)
        datasets: list[SupervisedDataset] = args.pop("datasets")
        if signs is None:
            signs = self._fitted_signs or (1.0,) * len(datasets)
        if signs == self._fitted_signs:
            return
        metadata = args.pop("candidate_metadata")
        subsets, sub_metadata = [], []
        for i, (dataset, sign) in enumerate(zip(datasets, signs, strict=True)):
            rows = self._subset_rows(dataset, sign)
            subsets.append(_take(dataset, rows))
            if metadata is not None:
                sub_metadata.append([metadata[i][int(r)] for r in rows])
        super().fit(
            datasets=subsets,
            candidate_metadata=sub_metadata if metadata is not None else None,
            **args,
        )
        self._fitted_signs = signs
        self._pool = None

    def _subset_rows(self, dataset: SupervisedDataset, sign: float) -> Tensor:
        policy = (self.max_points, self.n_top, self.n_recent)
        return training_subset(dataset.Y, sign, *policy, dataset.group_indices, self.subset_seed)

    def _signs(self, torch_opt_config: TorchOptConfig) -> tuple[float, ...]:
        """Direction of each dataset's outcome in the objective (0: none)."""
        weights = torch_opt_config.objective_weights
        column = weights.reshape(-1, weights.shape[-1]).sum(dim=0)
        names = [n for d in self._fit_args["datasets"] for n in d.outcome_names]
        if len(names) != column.numel():
            raise UnsupportedError("Multi-outcome datasets are not supported.")
        return tuple(float(torch.sign(w)) for w in column)

    def gen(
        self,
        n: int,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> TorchGenResults:
        """Generates ``n`` designs none of which repeats an observed design.

        Single-outcome problems without outcome constraints take batches of
        ``max(batch_size, n)`` designs by Kriging-believer LogEI, and successive
        calls are served from that batch: on a fully discrete search space of at
        most ``max_enumerate`` designs from
        :func:`~botorch_demo.ax.batch_ei.kriging_believer_batch`, on any other
        space (with ``continuous_kriging_believer``) from
        :func:`~botorch_demo.ax.batch_ei.kriging_believer_optimize` when the
        batch holds more than one design. All others go through Ax's
        acquisition optimiser with ``botorch_acqf_class``.
        """
        signs = self._signs(torch_opt_config)
        self._ensure_fit(signs)
        if self.surrogate.model.num_outputs == 1 and (torch_opt_config.outcome_constraints is None):
            points = self._gen_from_batch(n, search_space_digest, torch_opt_config)
            if points is not None:
                return TorchGenResults(
                    points=points,
                    weights=torch.ones(points.shape[0], dtype=points.dtype),
                    gen_metadata={"batch_selection": "kriging_believer_log_ei"},
                )
        return self._gen_with_optimizer(n, search_space_digest, torch_opt_config)

    def _gen_from_batch(
        self,
        n: int,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> Tensor | None:
        """Designs from the current Kriging-believer batch; None when Ax's
        optimiser is to generate them (a space that cannot be enumerated, unless
        ``continuous_kriging_believer`` and the batch holds several designs)."""
        pending = torch_opt_config.pending_observations
        pending_X = torch.cat(list(pending)) if pending else None
        fixed = torch_opt_config.fixed_features
        linear = torch_opt_config.linear_constraints
        key = generation_key(fixed, linear)
        if self._pool is not None and self._pool[0] == key:
            free = self._pool[1][~rows_in(self._pool[1], pending_X)]
            if free.shape[0] >= n:
                return free[:n]
        q = max(self.batch_size, n)
        designs = enumerate_designs(
            search_space_digest, fixed, linear, self.max_enumerate, like=self._observed
        )
        if designs is None and (q == 1 or not self.continuous_kriging_believer):
            return None
        sampled = designs is None and is_discrete(search_space_digest)
        if sampled:
            designs = self._discrete_candidates(search_space_digest, fixed, linear)
        sign = self._fitted_signs[0]
        Y = self.surrogate.training_data[0].Y
        if self._noisy_incumbent:
            with torch.no_grad():
                Y = self.surrogate.model.posterior(self.surrogate.training_data[0].X).mean
        best_f = float((sign * Y).max())
        if designs is None:
            batch = kriging_believer_optimize(
                self.surrogate.model,
                search_space_digest,
                q=q,
                best_f=best_f,
                sign=sign,
                fixed_features=fixed,
                linear_constraints=linear,
                pending=pending_X,
                like=self._observed,
            )
            batch = batch[first_occurrences(batch) & ~rows_in(batch, self._observed)]
            if batch.shape[0] < n:
                return None
            self._pool = (key, batch)
            return batch[:n]
        designs = designs[~rows_in(designs, self._observed) & ~rows_in(designs, pending_X)]
        if sampled and designs.shape[0] < n:
            return None  # Too few new candidates: Ax's optimiser searches the space.
        if designs.shape[0] == 0:
            raise SearchSpaceExhausted("Every design of the search space is observed.")
        order = kriging_believer_batch(
            self.surrogate.model,
            designs,
            q=q,
            best_f=best_f,
            sign=sign,
            n_prescreen=self.n_prescreen,
        )
        self._pool = (key, designs[order])
        return self._pool[1][:n]

    def _discrete_candidates(
        self,
        digest: SearchSpaceDigest,
        fixed: dict[int, float] | None,
        linear: tuple[Tensor, Tensor] | None,
    ) -> Tensor:
        """Candidates on a discrete space too large to enumerate: the single-site
        mutants of the ``n_sources`` best observations and ``n_prescreen``
        uniformly drawn designs (:func:`~botorch_demo.ax.batch_ei.discrete_candidates`)."""
        dataset = self._fit_args["datasets"][0]
        sign = self._fitted_signs[0]
        order = torch.argsort(sign * dataset.Y.reshape(-1), descending=True, stable=True)
        sources = dataset.X[order[: self.n_sources]]
        return discrete_candidates(
            digest,
            sources,
            self.n_prescreen,
            fixed,
            linear,
            seed=self.subset_seed + dataset.X.shape[0],
        )

    @property
    def _noisy_incumbent(self) -> bool:
        """Whether the configured acquisition is a noisy EI (plug-in incumbent)."""
        acqf = self._acqf_class
        return acqf is not None and "Noisy" in acqf.__name__

    def _gen_with_optimizer(
        self,
        n: int,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> TorchGenResults:
        """Ax's acquisition optimiser, retried while it repeats observed designs."""
        m = torch_opt_config.objective_weights.shape[-1]
        pending = torch_opt_config.pending_observations
        accepted: Tensor | None = None
        first: TorchGenResults | None = None
        for _ in range(_DEDUP_ATTEMPTS):
            need = n - (0 if accepted is None else accepted.shape[0])
            if need <= 0:
                break
            config = dataclasses.replace(torch_opt_config, pending_observations=pending)
            result = super().gen(need, search_space_digest, config)
            if first is None:
                first = result
            points = result.points
            new = first_occurrences(points) & ~rows_in(points, self._observed)
            new &= ~rows_in(points, accepted)
            accepted = points[new] if accepted is None else torch.cat([accepted, points[new]])
            # Whatever was proposed becomes pending for the next attempt.
            pending = [
                points if not pending else torch.cat([pending[i], points.to(pending[i])])
                for i in range(m)
            ]
        if accepted is None or accepted.shape[0] == 0:
            raise SearchSpaceExhausted("The GP proposed only designs that were already observed.")
        points = accepted[:n]
        return TorchGenResults(
            points=points,
            weights=torch.ones(points.shape[0], dtype=points.dtype),
            gen_metadata=dict(first.gen_metadata) if first is not None else {},
        )

    def predict(self, X: Tensor, use_posterior_predictive: bool = False) -> tuple[Tensor, Tensor]:
        self._ensure_fit()
        return super().predict(X, use_posterior_predictive=use_posterior_predictive)

    def best_point(
        self,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> Tensor | None:
        self._ensure_fit(self._signs(torch_opt_config))
        return super().best_point(search_space_digest, torch_opt_config)

    def evaluate_acquisition_function(
        self,
        X: Tensor,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
        acq_options: dict[str, Any] | None = None,
    ) -> Tensor:
        self._ensure_fit(self._signs(torch_opt_config))
        return super().evaluate_acquisition_function(
            X, search_space_digest, torch_opt_config, acq_options
        )

    def cross_validate(
        self, datasets: Sequence[SupervisedDataset], *args: Any, **kwargs: Any
    ) -> tuple[Tensor, Tensor]:
        """Cross-validates on the same kind of subset of the fold's data, with the
        noise treated as in the fit (inferred for an outcome whose SEMs were
        partly unknown); the other arguments are
        ``BoTorchGenerator.cross_validate``'s."""
        self._ensure_fit()
        signs = self._fitted_signs or (1.0,) * len(datasets)
        fitted = self._fit_args["datasets"]
        subsets = [
            _take(_without_yvar(d) if f.Yvar is None else d, self._subset_rows(d, s))
            for d, f, s in zip(datasets, fitted, signs, strict=True)
        ]
        return super().cross_validate(subsets, *args, **kwargs)

    def feature_importances(self) -> Any:
        self._ensure_fit()
        return super().feature_importances()


def _consistent_noise(dataset: SupervisedDataset) -> SupervisedDataset:
    """Drops a partly unknown noise level: the GP then infers the noise of all rows.

    Offline rows imported without an SEM have an unknown (NaN) noise variance;
    results reported later with an SEM (e.g. 0.0) have a known one. A GP needs
    one or the other for all of its training rows (BoTorch rejects NaN in
    ``Yvar``), so when both occur the known values are dropped, with a log line.
    """
    Yvar = dataset.Yvar
    if Yvar is None or type(dataset) is not SupervisedDataset:
        return dataset
    unknown = torch.isnan(Yvar)
    if not bool(unknown.any()):
        return dataset
    logger.info(
        f"{int(unknown.sum())} of {Yvar.numel()} observations of "
        f"{dataset.outcome_names} have no SEM (e.g. offline data imported with "
        "sem=None) and the others have one: the GP infers the noise for all of them."
    )
    return _without_yvar(dataset)


def _without_yvar(dataset: SupervisedDataset) -> SupervisedDataset:
    """``dataset`` with its noise left to be inferred."""
    if dataset.Yvar is None or type(dataset) is not SupervisedDataset:
        return dataset
    return SupervisedDataset(
        X=dataset.X,
        Y=dataset.Y,
        Yvar=None,
        feature_names=dataset.feature_names,
        outcome_names=dataset.outcome_names,
        group_indices=dataset.group_indices,
    )


def _take(dataset: SupervisedDataset, rows: Tensor) -> SupervisedDataset:
    if rows.numel() == dataset.X.shape[0]:
        return dataset
    return SupervisedDataset(
        X=dataset.X[rows],
        Y=dataset.Y[rows],
        Yvar=None if dataset.Yvar is None else dataset.Yvar[rows],
        feature_names=dataset.feature_names,
        outcome_names=dataset.outcome_names,
        group_indices=(None if dataset.group_indices is None else dataset.group_indices[rows]),
    )
