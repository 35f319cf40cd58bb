"""DEMO as an Ax ``TorchGenerator``.

This module is the Ax protocol (``fit``, ``predict``, ``cross_validate``,
``best_point``, ``gen``); the work is done by two parts:

- :mod:`botorch_demo.ax.model_cache`: what DEMO trains on (the data the node
  starts from, not its own results), the key of a trained model, and training
  or loading it (with ``checkpoint_dir``);
- :mod:`botorch_demo.ax.pool`: the batch of ``batch_size`` designs one trained
  model serves, however Ax asks for them, and what makes a design admissible.

Training happens in ``fit`` (Ax reports it as fit time): the DEMO node's adapter
(:class:`~botorch_demo.ax.adapter.DEMOAdapter`) tells the generator the
objective's direction before Ax fits it. Results of DEMO's own designs are
recognised by their candidate metadata (:data:`DEMO_METADATA_KEY`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from ax.core.search_space import SearchSpaceDigest
from ax.core.types import TCandidateMetadata
from ax.exceptions.core import DataRequiredError, UnsupportedError
from ax.generators.torch_base import TorchGenerator, TorchGenResults, TorchOptConfig
from ax.utils.common.logger import get_logger
from botorch.utils.datasets import SupervisedDataset
from torch import Tensor

from botorch_demo import DEMO
from botorch_demo.ax.arguments import checked_config, int_argument, seed_argument
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.model_cache import ModelCache, Observed, TrainingData, split_observations
from botorch_demo.ax.pool import Admissibility, CandidatePool, predicted_scores
from botorch_demo.ax.rounds import (
    DEMO_MODEL_KEY,
    DEMO_ROUND_KEY,
    DEMO_SEED_KEY,
    ROUND_SEED_STRIDE,
    BatchRound,
)
from botorch_demo.ax.utils import marked, outcome_metadata, pending_points, single_objective

logger = get_logger(__name__)

#: Candidate-metadata key that marks a design proposed by DEMO.
DEMO_METADATA_KEY = DEMO_MODEL_KEY
#: Observed designs whose values predict a tracking metric (DEMO does not model it).
TRACKING_NEIGHBOURS = 5
_NEIGHBOUR_CHUNK = 256


def _from_cache(name: str, doc: str) -> property:
    """A read-only property of the generator that reads its model cache's ``name``."""
    return property(lambda self: getattr(self.model_cache, name), doc=doc)


class DEMOGenerator(TorchGenerator):
    """DEMO (Design Editing for offline MBO) behind Ax's generator registry.

    Use it through ``DEMOGenerators.DEMO`` in a ``GeneratorSpec`` (or
    :func:`~botorch_demo.ax.demo_node`); all constructor arguments are JSON
    values so that they persist with the generation strategy.

    Args:
        config: ``DEMOConfig`` preset name (``"default"``, ``"fast"``,
            ``"paper"``, ``"smoke"``) or a dict of ``DEMOConfig`` fields.
        config_overrides: Optional dict of ``DEMOConfig`` fields replacing those
            of ``config``.
        batch_size: Designs proposed by one DEMO generation (K): the pool that
            Ax's requests are served from, and the most designs of one batch
            that are live or completed.
        seed: Seed of DEMO's training and candidate generation. None (default)
            draws it from torch's global random number generator when the
            generator is built, so it follows ``torch.manual_seed``, Ax's
            ``with_rng_seed`` (``benchmark_replication`` seeds it) and the
            ``Client``'s ``random_seed``.
        checkpoint_dir: Optional directory for trained models, keyed by a hash of
            the training data, objective direction and configuration.
        device: Optional torch device for DEMO (e.g. ``"cuda"``); defaults to
            the device of the data Ax passes.
        min_completed: Completed designs after which a batch is done (default:
            ``batch_size``); a last DEMO node then trains again and serves the
            next batch. Match the node's criteria (:func:`~botorch_demo.ax.demo_node`
            does).
    """

    def __init__(
        self,
        config: str | Mapping[str, Any] = "default",
        config_overrides: Mapping[str, Any] | None = None,
        batch_size: int = 256,
        seed: int | None = None,
        checkpoint_dir: str | None = None,
        device: str | None = None,
        min_completed: int | None = None,
    ) -> None:
        batch_size = int_argument(batch_size, "batch_size", 1)
        seed = seed_argument(seed)
        min_completed = int_argument(
            batch_size if min_completed is None else min_completed, "min_completed", 1, batch_size
        )
        self.demo_config = checked_config(config, config_overrides)
        self.batch_size = batch_size
        self.min_completed = min_completed
        #: The seed as configured (None: drawn); part of the checkpoint key.
        self.configured_seed = seed
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.demo_device = None if device is None else torch.device(device)
        #: Direction of the objective (+1 maximise, -1 minimise), set by
        #: ``DEMOAdapter`` before ``fit`` so that ``fit`` can train.
        self.objective_sign: float | None = None
        #: The objective's outcome name, set by ``DEMOAdapter``: with tracking
        #: metrics Ax passes one dataset per metric, and DEMO models this one.
        self.objective_name: str | None = None
        #: The batch to serve from, set by ``DEMOAdapter`` from the experiment
        #: before each fit (None: a generator used by hand, which serves one
        #: batch and counts it from the pending and observed designs).
        self.batch_round: BatchRound | None = None
        #: Designs of the experiment without results (out, failed, abandoned;
        #: Ax's space), set by ``DEMOAdapter``: never proposed again.
        self.unobserved_X: Tensor | None = None
        #: The trained model, its key and counters (see ``ModelCache``).
        self.model_cache = ModelCache(
            self.demo_config,
            seed=int(torch.randint(0, 2**31 - 1, (1,)).item()) if seed is None else seed,
            configured_seed=seed,
            checkpoint_dir=self.checkpoint_dir,
        )
        #: The batch the trained model serves (see ``CandidatePool``).
        self.pool = CandidatePool(batch_size, self.demo_config)
        self._fitted: _FitInputs | None = None
        self._split_round: int | None = None
        self._data: TrainingData | None = None
        self._observed: Observed | None = None
        self._tracking_logged = False
        self._noise_key: tuple | None = None
        self._noise = 0.0

    seed = _from_cache(
        "seed", "Seed of training and generation (a loaded checkpoint's, when drawn)."
    )
    num_trainings = _from_cache("num_trainings", "How often a model was trained.")
    num_checkpoint_loads = _from_cache(
        "num_checkpoint_loads", "How often a model was loaded from ``checkpoint_dir``."
    )
    last_training_seconds = _from_cache(
        "last_training_seconds", "Seconds of the last training (0.0 after a checkpoint load)."
    )
    _model = _from_cache("model", "The trained model (None before training).")

    @property
    def round_index(self) -> int:
        """The batch (round) the generator serves: 0, 1, ..."""
        return 0 if self.batch_round is None else self.batch_round.index

    def designs_left(self) -> int | None:
        """How many more designs the current batch may serve (K minus its live
        and completed designs), or None for a generator used by hand."""
        batch = self.batch_round
        if batch is None:
            return None
        return self.batch_size - batch.served - self.pool.served_since_update

    def adopt_seed(self, seed: int | None) -> None:
        """Uses ``seed`` (the seed the campaign's DEMO batches were made with, as
        recorded in the experiment) when no seed is configured and no model was
        trained or loaded yet: a campaign resumed from storage then trains and
        generates as the first run did."""
        cache = self.model_cache
        if seed is not None and self.configured_seed is None and cache.model is None:
            cache.seed = seed

    def start_request(self, batch_round: BatchRound, unobserved_X: Tensor | None = None) -> None:
        """Sets the batch to serve from, as the experiment records it now (the
        adapter calls this before every fit, which Ax may skip when the data
        did not change)."""
        self.batch_round = batch_round
        self.unobserved_X = unobserved_X
        self.pool.start_request()

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        datasets: Sequence[SupervisedDataset],
        search_space_digest: SearchSpaceDigest,
        candidate_metadata: list[list[TCandidateMetadata]] | None = None,
    ) -> None:
        """Records the data and trains DEMO on the data its batch starts from.

        Observations whose candidate metadata marks them as designs of the
        current batch are not trained on (a DEMO batch comes from one model);
        they are remembered as observed. Results of earlier batches are trained
        on. DEMO models the objective only: the other outcomes (tracking
        metrics) are predicted from their nearest observed designs. Training
        needs the objective's direction: it happens here when
        :attr:`objective_sign` is set (``DEMOAdapter`` does that), otherwise at
        the first ``gen``.

        Raises:
            UnsupportedError: For several outcomes without a known objective.
            DataRequiredError: Without any observed design.
        """
        index = self._objective_index(datasets)
        dataset = datasets[index]
        if dataset.X.shape[0] == 0:
            raise DataRequiredError(
                "DEMO needs offline data: attach it first, e.g. with "
                "`botorch_demo.ax.attach_offline_data`."
            )
        device = self.demo_device or dataset.X.device
        encoding = DesignEncoding.from_digest(
            search_space_digest, dtype=dataset.X.dtype, device=device
        )
        metadata = outcome_metadata(candidate_metadata, index, dataset.X.shape[0])
        from_demo = marked(metadata, (DEMO_METADATA_KEY,))
        rounds = [
            int(m.get(DEMO_ROUND_KEY, 0)) if f else -1
            for m, f in zip(metadata, from_demo, strict=True)
        ]
        self._fitted = _FitInputs(
            X=dataset.X,
            Y=dataset.Y.to(device=device),
            encoding=encoding,
            from_demo=torch.tensor(from_demo, dtype=torch.bool, device=device),
            rounds=torch.tensor(rounds, dtype=torch.long, device=device),
            outcomes=[name for d in datasets for name in d.outcome_names],
            objective=index,
            others={
                i: (encoding.to_demo(d.X), d.Y.reshape(-1).to(device))
                for i, d in enumerate(datasets)
                if i != index
            },
        )
        self._split_round = None
        self._log_tracking()
        if self.objective_sign is not None:
            self._trained_model(self.objective_sign)

    def _objective_index(self, datasets: Sequence[SupervisedDataset]) -> int:
        names = [n for d in datasets for n in d.outcome_names]
        if any(len(d.outcome_names) != 1 for d in datasets):
            raise UnsupportedError(f"DEMO needs one dataset per outcome; got {names}.")
        if len(datasets) == 1:
            return 0
        if self.objective_name is None or self.objective_name not in names:
            raise UnsupportedError(
                f"DEMO models one outcome, the objective; got datasets for {names} and "
                "no objective name (use the generator through `DEMOGenerators.DEMO`, "
                "whose adapter sets it)."
            )
        return names.index(self.objective_name)

    def _log_tracking(self) -> None:
        fitted = self._fitted
        if self._tracking_logged or fitted is None or not fitted.others:
            return
        self._tracking_logged = True
        others = [fitted.outcomes[i] for i in fitted.others]
        logger.info(
            f"DEMO models only the objective {fitted.outcomes[fitted.objective]!r}; the "
            f"tracking metrics {others} are not modelled (each is predicted by the mean "
            f"of its {TRACKING_NEIGHBOURS} nearest observed designs)."
        )

    def _prepare(self) -> tuple[Observed, TrainingData]:
        """All observations and the training data of the current batch."""
        fitted = self._fitted
        if fitted is None:
            raise DataRequiredError("DEMOGenerator.fit must be called first.")
        if self._split_round != self.round_index or self._data is None:
            held_out = fitted.from_demo & (fitted.rounds >= self.round_index)
            self._observed, self._data = split_observations(
                fitted.X, fitted.Y, fitted.encoding, fitted.from_demo, held_out
            )
            self._split_round = self.round_index
        return self._observed, self._data

    def _trained_model(self, sign: float) -> DEMO:
        """The model for the current batch's data and direction, training once."""
        observed, data = self._prepare()
        return self.model_cache.get(data, sign, bool(observed.held_out.any()))

    def _require_data(self) -> TrainingData:
        return self._prepare()[1]

    def _current_sign(self) -> float:
        for sign in (self.model_cache.sign, self.objective_sign):
            if sign is not None:
                return sign
        return 1.0

    def _noise_variance(self, model: DEMO, sign: float) -> float:
        """The surrogate's mean squared error on its training designs (in-sample),
        the variance its predictions are reported with."""
        key = (id(model), sign)
        if self._noise_key != key:
            data = self._require_data()
            residual = predicted_scores(model, data.Z) - sign * data.Y.reshape(-1).to(data.Z)
            variance = float(residual.pow(2).mean()) if residual.numel() else 0.0
            scale = float(data.Y.var()) if data.Y.numel() > 1 else 1.0
            self._noise, self._noise_key = max(variance, 1e-12 * max(scale, 1e-12)), key
        return self._noise

    # --------------------------------------------------------------- prediction
    def predict(self, X: Tensor, use_posterior_predictive: bool = False) -> tuple[Tensor, Tensor]:
        """Surrogate mean at ``X`` for the objective, with the surrogate's
        in-sample mean squared error as its variance (DEMO's MLP is
        deterministic). Tracking metrics are not modelled: each gets the mean
        and variance of its values at the nearest observed designs."""
        fitted = self._fitted
        if fitted is None:
            raise DataRequiredError("DEMOGenerator.fit must be called first.")
        sign = self._current_sign()
        model = self._trained_model(sign)
        encoding = self._require_data().encoding
        m = len(fitted.outcomes)
        mean = X.new_zeros(X.shape[0], m)
        cov = X.new_zeros(X.shape[0], m, m)
        mean[:, fitted.objective] = sign * predicted_scores(model, encoding.to_demo(X)).to(X)
        cov[:, fitted.objective, fitted.objective] = self._noise_variance(model, sign)
        Z = encoding.to_demo(X)
        for i, (train_Z, train_Y) in fitted.others.items():
            mu, var = neighbour_mean(Z, train_Z, train_Y, encoding)
            mean[:, i], cov[:, i, i] = mu.to(X), var.to(X)
        return mean, cov

    def cross_validate(
        self,
        datasets: Sequence[SupervisedDataset],
        X_test: Tensor,
        search_space_digest: SearchSpaceDigest,
        use_posterior_predictive: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Predictions of the model trained on all data (DEMO is not refit per
        fold, as BoTorch models with ``refit_on_cv=False`` are not re-tuned), so
        these are in-sample and optimistic."""
        return self.predict(X_test)

    def best_point(
        self,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> Tensor | None:
        """The best OBSERVED design (by its observed value).

        DEMO's surrogate is deterministic and its cross-validation is in-sample,
        so ranking observed designs by its predictions could report a design
        worse than one already measured; the measured best is returned instead.
        """
        _, sign = single_objective(torch_opt_config)
        observed, _ = self._prepare()
        best = int(torch.argmax(sign * observed.Y.reshape(-1)))
        return observed.X[best]

    # --------------------------------------------------------------- generation
    def gen(
        self,
        n: int,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> TorchGenResults:
        """Returns up to ``n`` new designs from the current DEMO batch: never an
        observed, pending or given-up design, no duplicates, fixed features and
        linear parameter constraints satisfied by construction.

        Raises:
            UnsupportedError: For multiple objectives or outcome constraints.
            DataRequiredError: When ``batch_size`` designs of the batch are out
                or completed (complete them first).
            SearchSpaceExhausted: If no admissible new design exists.
        """
        outcome, sign = single_objective(torch_opt_config)
        if torch_opt_config.outcome_constraints is not None:
            raise UnsupportedError("DEMO does not support outcome constraints.")
        model = self._trained_model(sign)
        observed, data = self._prepare()
        rules = Admissibility.from_opt_config(data.encoding, torch_opt_config)
        pending = pending_points(torch_opt_config, outcome)
        pending_Z = None if pending is None else data.encoding.to_demo(pending)
        unobserved = None if self.unobserved_X is None else data.encoding.to_demo(self.unobserved_X)
        batch = self.batch_round
        r = self.round_index
        seed = self.seed + ROUND_SEED_STRIDE * r
        Z, pred = self.pool.serve(
            n,
            model,
            data,
            observed,
            pending_Z,
            rules,
            seed,
            served=None if batch is None else (batch.served, batch.live),
            unobserved_Z=unobserved,
            round_index=r,
        )
        points = data.encoding.to_ax(Z, like=data.X).cpu()
        key = self.model_cache.key
        return TorchGenResults(
            points=points,
            weights=torch.ones(points.shape[0], dtype=points.dtype),
            gen_metadata={DEMO_MODEL_KEY: key, DEMO_SEED_KEY: seed, DEMO_ROUND_KEY: r},
            candidate_metadata=[
                {"demo_predicted": s, DEMO_METADATA_KEY: key[:16], DEMO_ROUND_KEY: r}
                for s in (sign * pred).tolist()
            ],
        )


def neighbour_mean(
    Z: Tensor, train_Z: Tensor, train_Y: Tensor, encoding: DesignEncoding
) -> tuple[Tensor, Tensor]:
    """Mean and variance of ``train_Y`` at the :data:`TRACKING_NEIGHBOURS`
    designs of ``train_Z`` nearest to each row of ``Z`` (L1 distance, columns
    scaled by their range, a differing category counting 1); the variance is at
    least a millionth of the values' overall variance."""
    if train_Z.shape[0] == 0:
        nan = Z.new_full((Z.shape[0],), float("nan"))
        return nan, nan
    k = min(TRACKING_NEIGHBOURS, train_Z.shape[0])
    floor = 1e-6 * float(train_Y.var(unbiased=False)) if train_Y.numel() > 1 else 0.0
    scale = encoding.scale().to(Z)
    means, variances = [], []
    for chunk in Z.split(_NEIGHBOUR_CHUNK):
        diff = (chunk.unsqueeze(1) - train_Z.to(Z).unsqueeze(0)).abs() / scale
        for j in encoding.categorical_values:
            diff[..., j] = (diff[..., j] > 0).to(Z)
        nearest = diff.sum(-1).topk(k, largest=False).indices
        values = train_Y.to(Z)[nearest]
        means.append(values.mean(-1))
        variances.append(values.var(-1, unbiased=False).clamp_min(max(floor, 1e-12)))
    return torch.cat(means), torch.cat(variances)


@dataclass(frozen=True)
class _FitInputs:
    """What the last ``fit`` was given, per observation of the objective."""

    X: Tensor
    Y: Tensor
    encoding: DesignEncoding
    from_demo: Tensor  # bool: a DEMO design
    rounds: Tensor  # long: the DEMO batch it came from (-1: not DEMO's)
    outcomes: list[str]  # every outcome, in the order of the datasets
    objective: int  # the objective's position in ``outcomes``
    others: dict[int, tuple[Tensor, Tensor]]  # tracking metrics: designs (DEMO space), values
