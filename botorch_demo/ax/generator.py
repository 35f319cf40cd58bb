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
from pathlib import Path
from typing import Any

import torch
from ax.core.search_space import SearchSpaceDigest
from ax.core.types import TCandidateMetadata
from ax.exceptions.core import DataRequiredError, UnsupportedError, UserInputError
from ax.generators.torch_base import TorchGenerator, TorchGenResults, TorchOptConfig
from ax.utils.common.logger import get_logger
from botorch.utils.datasets import SupervisedDataset
from torch import Tensor

from botorch_demo import DEMO
from botorch_demo.ax.config import resolve_demo_config
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.model_cache import ModelCache, Observed, TrainingData, split_observations
from botorch_demo.ax.pool import Admissibility, CandidatePool, predicted_scores
from botorch_demo.ax.utils import pending_points, single_objective

logger = get_logger(__name__)

#: Candidate-metadata key that marks a design proposed by DEMO.
DEMO_METADATA_KEY = "demo_model"


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
            Ax's requests are served from, and the most designs one trained
            model proposes.
        seed: Seed of DEMO's training and candidate generation. None (default)
            draws it from torch's global random number generator when the
            generator is built, so it follows ``torch.manual_seed`` and Ax's
            ``with_rng_seed`` (``benchmark_replication`` seeds it).
        checkpoint_dir: Optional directory for trained models, keyed by a hash of
            the training data, objective direction and configuration.
        device: Optional torch device for DEMO (e.g. ``"cuda"``); defaults to
            the device of the data Ax passes.
    """

    def __init__(
        self,
        config: str | Mapping[str, Any] = "default",
        config_overrides: Mapping[str, Any] | None = None,
        batch_size: int = 256,
        seed: int | None = None,
        checkpoint_dir: str | None = None,
        device: str | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise UserInputError(f"batch_size must be a positive int; got {batch_size!r}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise UserInputError(f"seed must be an int or None; got {seed!r}.")
        self.demo_config = resolve_demo_config(config, config_overrides)
        self.batch_size = batch_size
        #: The seed as configured (None: drawn); part of the checkpoint key.
        self.configured_seed = seed
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.demo_device = None if device is None else torch.device(device)
        #: Direction of the objective (+1 maximise, -1 minimise), set by
        #: ``DEMOAdapter`` before ``fit`` so that ``fit`` can train.
        self.objective_sign: float | None = None
        #: The trained model, its key and counters (see ``ModelCache``).
        self.model_cache = ModelCache(
            self.demo_config,
            seed=int(torch.randint(0, 2**31 - 1, (1,)).item()) if seed is None else seed,
            configured_seed=seed,
            checkpoint_dir=self.checkpoint_dir,
        )
        #: The batch the trained model serves (see ``CandidatePool``).
        self.pool = CandidatePool(batch_size, self.demo_config)
        self._data: TrainingData | None = None
        self._observed: Observed | None = None

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

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        datasets: Sequence[SupervisedDataset],
        search_space_digest: SearchSpaceDigest,
        candidate_metadata: list[list[TCandidateMetadata]] | None = None,
    ) -> None:
        """Records the data and trains DEMO on the data the node starts from.

        Observations whose candidate metadata marks them as DEMO's own designs
        are not trained on (a DEMO batch comes from one model); they are
        remembered as observed. Training needs the objective's direction: it
        happens here when :attr:`objective_sign` is set (``DEMOAdapter`` does
        that), otherwise at the first ``gen``.

        Raises:
            UnsupportedError: For more than one modelled outcome.
            DataRequiredError: Without any observed design.
        """
        if len(datasets) != 1:
            names = [n for d in datasets for n in d.outcome_names]
            raise UnsupportedError(
                f"DEMO models exactly one outcome, the objective; got datasets for {names}."
            )
        dataset = datasets[0]
        if dataset.X.shape[0] == 0:
            raise DataRequiredError(
                "DEMO needs offline data: attach it first, e.g. with "
                "`botorch_demo.ax.attach_offline_data`."
            )
        device = self.demo_device or dataset.X.device
        encoding = DesignEncoding.from_digest(
            search_space_digest, dtype=dataset.X.dtype, device=device
        )
        metadata = candidate_metadata[0] if candidate_metadata else None
        n = dataset.X.shape[0]
        from_demo = torch.tensor(
            [bool(m) and DEMO_METADATA_KEY in m for m in metadata]
            if metadata is not None and len(metadata) == n
            else [False] * n,
            dtype=torch.bool,
            device=device,
        )
        self._observed, self._data = split_observations(
            dataset.X, dataset.Y.to(device=device), encoding, from_demo
        )
        if self.objective_sign is not None:
            self._trained_model(self.objective_sign)

    def _trained_model(self, sign: float) -> DEMO:
        """The model for the current data and direction, training once."""
        has_demo_results = self._observed is not None and bool(self._observed.from_demo.any())
        return self.model_cache.get(self._require_data(), sign, has_demo_results)

    def _require_data(self) -> TrainingData:
        if self._data is None:
            raise DataRequiredError("DEMOGenerator.fit must be called first.")
        return self._data

    def _current_sign(self) -> float:
        for sign in (self.model_cache.sign, self.objective_sign):
            if sign is not None:
                return sign
        return 1.0

    # --------------------------------------------------------------- prediction
    def predict(self, X: Tensor, use_posterior_predictive: bool = False) -> tuple[Tensor, Tensor]:
        """Surrogate mean at ``X`` and a zero covariance (DEMO's MLP is
        deterministic)."""
        sign = self._current_sign()
        model = self._trained_model(sign)
        encoding = self._require_data().encoding
        mean = sign * predicted_scores(model, encoding.to_demo(X)).to(X)
        return mean.reshape(-1, 1), torch.zeros(X.shape[0], 1, 1).to(X)

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
        observed = self._observed
        if observed is None:
            raise DataRequiredError("DEMOGenerator.fit must be called first.")
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
        observed or pending design, no duplicates, fixed features and linear
        parameter constraints satisfied by construction.

        Raises:
            UnsupportedError: For multiple objectives or outcome constraints.
            DataRequiredError: When all ``batch_size`` designs of the batch were
                proposed and none failed (complete them first).
            SearchSpaceExhausted: If no admissible new design can be found.
        """
        outcome, sign = single_objective(torch_opt_config)
        if torch_opt_config.outcome_constraints is not None:
            raise UnsupportedError("DEMO does not support outcome constraints.")
        model = self._trained_model(sign)
        data = self._require_data()
        rules = Admissibility.from_opt_config(data.encoding, torch_opt_config)
        pending = pending_points(torch_opt_config, outcome)
        pending_Z = None if pending is None else data.encoding.to_demo(pending)
        Z, pred = self.pool.serve(n, model, data, self._observed, pending_Z, rules, self.seed)
        points = data.encoding.to_ax(Z, like=data.X).cpu()
        key = self.model_cache.key
        return TorchGenResults(
            points=points,
            weights=torch.ones(points.shape[0], dtype=points.dtype),
            gen_metadata={"demo_model": key, "demo_seed": self.seed},
            candidate_metadata=[
                {"demo_predicted": s, DEMO_METADATA_KEY: key[:16]} for s in (sign * pred).tolist()
            ],
        )
