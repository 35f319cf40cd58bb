"""DEMO as an Ax ``TorchGenerator``.

Ax calls ``fit`` before every ``gen``; this generator only records the data there
and trains lazily, on first use, once the objective's direction is known (Ax
passes it to ``gen`` as ``objective_weights``, not to ``fit``). A trained model is
kept for as long as the training data, the direction and the configuration stay
the same, and, with ``checkpoint_dir``, written to and read from disk under a
hash of exactly those inputs, so a resumed campaign does not retrain.

One DEMO call proposes a whole batch of ``batch_size`` designs (the candidate
pool). Ax's ``Client.get_next_trials(max_trials=K)`` asks a node for one arm per
trial, K times in a row; each of those calls takes the best remaining pool
design that is not yet pending, so K trials cost one DEMO generation. A
``gen(n=K)`` for one ``BatchTrial`` takes K pool designs at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ax.core.search_space import SearchSpaceDigest
from ax.core.types import TCandidateMetadata
from ax.exceptions.core import (
    DataRequiredError,
    SearchSpaceExhausted,
    UnsupportedError,
    UserInputError,
)
from ax.generators.torch_base import TorchGenerator, TorchGenResults, TorchOptConfig
from ax.utils.common.logger import get_logger
from botorch.utils.datasets import SupervisedDataset
from torch import Tensor

import botorch_demo
from botorch_demo import DEMO
from botorch_demo.ax.config import resolve_demo_config
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.utils import (
    first_occurrences,
    generation_key,
    pending_points,
    rows_in,
    satisfies,
    single_objective,
)
from botorch_demo.model import CheckpointError

logger = get_logger(__name__)

_TOP_UP_ATTEMPTS = 4
_PREDICT_CHUNK = 8192


@dataclass(frozen=True)
class _TrainingData:
    X: Tensor  # n x d, Ax's transformed space (as Ax passed it)
    Z: Tensor  # n x d, DEMO's space
    Y: Tensor  # n x 1, as observed (not sign-flipped)
    encoding: DesignEncoding
    n_distinct: int  # distinct designs among the rows


@dataclass(frozen=True)
class _Pool:
    key: tuple[Any, ...]
    Z: Tensor  # DEMO-space candidates, best predicted first
    predicted: Tensor  # surrogate scores in the maximised direction


class DEMOGenerator(TorchGenerator):
    """DEMO (Design Editing for offline MBO) behind Ax's generator registry.

    Use it through ``DEMOGenerators.DEMO`` in a ``GeneratorSpec``; all
    constructor arguments are JSON values so that they persist with the
    generation strategy.

    Args:
        config: ``DEMOConfig`` preset name (``"default"``, ``"fast"``,
            ``"paper"``, ``"smoke"``) or a dict of ``DEMOConfig`` fields.
        config_overrides: Optional dict of ``DEMOConfig`` fields replacing those
            of ``config``.
        batch_size: Designs proposed by one DEMO generation (the pool that
            successive one-arm trials draw from). A request for more arms than
            this generates more.
        seed: Seed of DEMO's training and candidate generation.
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
        seed: int = 0,
        checkpoint_dir: str | None = None,
        device: str | None = None,
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise UserInputError(f"batch_size must be a positive int; got {batch_size}.")
        self.demo_config = resolve_demo_config(config, config_overrides)
        self.batch_size = batch_size
        self.seed = int(seed)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.demo_device = None if device is None else torch.device(device)
        # Counters for users and tests: how often a model was trained or loaded.
        self.num_trainings = 0
        self.num_checkpoint_loads = 0
        self._data: _TrainingData | None = None
        self._model: DEMO | None = None
        self._model_key: str | None = None
        self._model_targets: Tensor | None = None
        self._sign: float | None = None
        self._pool: _Pool | None = None
        self._best_index: int | None = None

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        datasets: Sequence[SupervisedDataset],
        search_space_digest: SearchSpaceDigest,
        candidate_metadata: list[list[TCandidateMetadata]] | None = None,
    ) -> None:
        """Records the training data; training happens lazily on first use.

        Raises:
            UnsupportedError: For more than one modelled outcome (DEMO needs a
                single objective and no outcome constraints).
            DataRequiredError: Without any observed design.
        """
        if len(datasets) != 1:
            names = [n for d in datasets for n in d.outcome_names]
            raise UnsupportedError(
                "DEMO models exactly one outcome, the objective, and supports no "
                f"outcome constraints; the experiment asks to model {names}."
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
        Z = encoding.to_demo(dataset.X)
        Y = dataset.Y.to(device=device)
        # Canonical row order: Ax's row order depends on how the experiment was
        # built or loaded, the trained model and its checkpoint key must not.
        rows = torch.cat([Z, Y.to(Z)], dim=-1).cpu().numpy()
        order = torch.from_numpy(np.lexsort(rows.T[::-1]).copy()).to(device)
        self._data = _TrainingData(
            X=dataset.X[order.to(dataset.X.device)],
            Z=Z[order],
            Y=Y[order],
            encoding=encoding,
            n_distinct=int(first_occurrences(Z).sum()),
        )

    def _trained_model(self, sign: float) -> DEMO:
        """Returns the model for the current data and direction, training once."""
        data = self._require_data()
        key = self._fingerprint(data, sign)
        targets = sign * data.Y
        if key == self._model_key and _same(targets, self._model_targets):
            return self._model
        path = None
        if self.checkpoint_dir is not None:
            path = self.checkpoint_dir / f"demo-{key[:32]}.pt"
        if path is not None and _same(targets, _load_targets(path)) and path.exists():
            model = DEMO.load(str(path), map_location=data.Z.device)
            self.num_checkpoint_loads += 1
            logger.info(f"Loaded the DEMO model from checkpoint {path}.")
        else:
            model = DEMO(self.demo_config).fit(
                data.Z,
                targets,
                data.encoding.bounds,
                categorical_features=data.encoding.categorical_features or None,
                seed=self.seed,
            )
            self.num_trainings += 1
            if path is not None:
                _save_atomically(targets.cpu(), _targets_path(path), torch.save)
                _save_atomically(model, path, lambda m, p: m.save(p))
        self._model, self._model_key, self._model_targets = model, key, targets
        self._sign = sign
        self._pool, self._best_index = None, None
        return model

    def _fingerprint(self, data: _TrainingData, sign: float) -> str:
        """Key of everything a trained model depends on except the exact scores.

        Scores are compared with a tolerance instead (see ``_same``): Ax's SQL
        storage keeps about ten significant digits, so scores reloaded from a
        database differ from the originals in the last bits.
        """
        digest = hashlib.sha256(b"botorch-demo-ax-checkpoint-v2")
        for tensor in (data.Z, data.encoding.bounds):
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        digest.update(
            json.dumps(
                {
                    "categorical": sorted(data.encoding.categorical_features.items()),
                    "config": dataclasses.asdict(self.demo_config),
                    "dtype": str(data.Z.dtype),
                    "seed": self.seed,
                    "sign": sign,
                    "version": botorch_demo.__version__,
                },
                sort_keys=True,
            ).encode()
        )
        return digest.hexdigest()

    def _require_data(self) -> _TrainingData:
        if self._data is None:
            raise DataRequiredError("DEMOGenerator.fit must be called first.")
        return self._data

    # --------------------------------------------------------------- prediction
    def predict(self, X: Tensor, use_posterior_predictive: bool = False) -> tuple[Tensor, Tensor]:
        """Surrogate mean at ``X`` and a zero covariance (DEMO's MLP is
        deterministic).

        Before the first ``gen`` the objective's direction is unknown and the
        model is trained for maximisation; a later ``gen`` that minimises
        retrains once.
        """
        sign = self._sign if self._sign is not None else 1.0
        model = self._trained_model(sign)
        encoding = self._require_data().encoding
        mean = sign * _predict(model, encoding.to_demo(X)).to(X)
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
        """The observed design with the best surrogate prediction."""
        _, sign = single_objective(torch_opt_config)
        model = self._trained_model(sign)
        data = self._require_data()
        if self._best_index is None:
            self._best_index = int(_predict(model, data.Z).argmax())
        return data.X[self._best_index]

    # --------------------------------------------------------------- generation
    def gen(
        self,
        n: int,
        search_space_digest: SearchSpaceDigest,
        torch_opt_config: TorchOptConfig,
    ) -> TorchGenResults:
        """Returns ``n`` new designs: never an observed or pending design, no
        duplicates, fixed features and linear parameter constraints respected.

        Raises:
            UnsupportedError: For multiple objectives or outcome constraints.
            SearchSpaceExhausted: If no admissible new design can be found.
        """
        outcome, sign = single_objective(torch_opt_config)
        if torch_opt_config.outcome_constraints is not None:
            raise UnsupportedError("DEMO does not support outcome constraints.")
        model = self._trained_model(sign)
        data = self._require_data()
        encoding = data.encoding
        fixed = {
            j: encoding.value_to_demo(j, v)
            for j, v in (torch_opt_config.fixed_features or {}).items()
        }
        linear = torch_opt_config.linear_constraints
        pending = pending_points(torch_opt_config, outcome)
        pending_Z = None if pending is None else encoding.to_demo(pending)

        key = (self._model_key, *generation_key(fixed, linear))
        if self._pool is None or self._pool.key != key:
            # The pool excludes observed designs only, so that a campaign resumed
            # from storage regenerates the same pool and continues where it was.
            Z, pred = self._candidates(
                model, max(self.batch_size, n), self.seed, data.Z, fixed, linear
            )
            self._pool = _Pool(key=key, Z=Z, predicted=pred)

        for attempt in range(_TOP_UP_ATTEMPTS + 1):
            pool = self._pool
            free = ~rows_in(pool.Z, pending_Z)
            if int(free.sum()) >= n or attempt == _TOP_UP_ATTEMPTS:
                break
            exclude = torch.cat([t for t in (data.Z, pending_Z, pool.Z) if t is not None])
            missing = n - int(free.sum())
            # More noise than the configured m, to move away from known designs.
            m = min(self.demo_config.M, self.demo_config.m + 200 * (attempt + 1))
            Z, pred = self._candidates(
                model, 2 * missing + 8, self.seed + 1 + attempt, exclude, fixed, linear, m
            )
            self._pool = _Pool(
                key=key,
                Z=torch.cat([pool.Z, Z]),
                predicted=torch.cat([pool.predicted, pred]),
            )
        Z, pred = pool.Z[free][:n], pool.predicted[free][:n]
        if Z.shape[0] == 0:
            raise SearchSpaceExhausted(
                "DEMO found no admissible design that is not observed or pending."
            )
        if Z.shape[0] < n:
            logger.warning(f"DEMO proposes {Z.shape[0]} designs; {n} were requested.")
        points = encoding.to_ax(Z, like=data.X).cpu()
        scores = (sign * pred).tolist()
        return TorchGenResults(
            points=points,
            weights=torch.ones(points.shape[0], dtype=points.dtype),
            gen_metadata={"demo_model": self._model_key},
            candidate_metadata=[{"demo_predicted": s} for s in scores],
        )

    def _candidates(
        self,
        model: DEMO,
        q: int,
        seed: int,
        exclude: Tensor,
        fixed: dict[int, float],
        linear: tuple[Tensor, Tensor] | None,
        m: int | None = None,
    ) -> tuple[Tensor, Tensor]:
        """One DEMO generation, made admissible and sorted by predicted score.

        When DEMO cannot find ``q`` new designs at once, smaller batches are asked
        for; this may return fewer than ``q`` (the caller tops up with other seeds
        and more noise ``m``).
        """
        data = self._require_data()
        encoding = data.encoding
        # DEMO edits the top-q designs, so q cannot exceed the distinct designs.
        q = min(q, data.n_distinct)
        overrides = {} if m is None else {"m": m}
        found: list[Tensor] = []
        ask, total = q, 0
        while ask >= 1 and total < q:
            known = torch.cat([exclude, *found])
            try:
                Z, _ = model.generate(
                    min(ask, q - total), seed=seed, exclude=known, unique=True, **overrides
                )
            except RuntimeError as err:
                if "distinct" not in str(err):
                    raise
                # DEMO's re-edits keep landing on known designs: ask for fewer.
                logger.info(f"DEMO could not find {ask} new designs; asking for {ask // 2}.")
                ask //= 2
                continue
            found.append(Z.to(exclude))
            total += Z.shape[0]
            seed += 1
        if not found:
            return exclude.new_zeros(0, exclude.shape[-1]), exclude.new_zeros(0)
        Z = torch.cat(found)
        Z = Z.to(encoding.bounds).clone()
        for j, value in fixed.items():
            Z[:, j] = value
        Z = encoding.project(Z)
        keep = first_occurrences(Z) & ~rows_in(Z, exclude)
        if linear is not None:
            keep &= satisfies(encoding.to_ax(Z, like=linear[0]), linear)
        Z = Z[keep]
        # Scores of the designs as projected (fixed features, snapped ordinals).
        pred = _predict(model, Z)
        order = torch.argsort(pred, descending=True, stable=True)
        return Z[order], pred[order]


def _predict(model: DEMO, Z: Tensor) -> Tensor:
    """Surrogate predictions as a flat tensor, in chunks to bound memory."""
    if Z.shape[0] == 0:
        return Z.new_zeros(0)
    with torch.no_grad():
        parts = [model.predict(c).reshape(-1) for c in Z.split(_PREDICT_CHUNK)]
    return torch.cat(parts)


def _targets_path(path: Path) -> Path:
    return path.with_name(path.stem + ".targets.pt")


def _load_targets(path: Path) -> Tensor | None:
    """The scores a checkpoint was trained on, or None if it has none.

    Raises:
        CheckpointError: If the scores file is unreadable or holds no tensor
            (the message names it; torch's hint to unpickle unsafely is dropped).
    """
    targets_path = _targets_path(path)
    if not targets_path.exists():
        return None
    try:
        targets = torch.load(targets_path, weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f"{targets_path} is not a DEMO checkpoint's scores file: torch.load cannot read "
            f"it ({type(err).__name__}); delete it and {path.name} to retrain."
        ) from None
    if not isinstance(targets, Tensor):
        raise CheckpointError(
            f"{targets_path} is not a DEMO checkpoint's scores file: it holds a "
            f"{type(targets).__name__}; delete it and {path.name} to retrain."
        )
    return targets


def _same(targets: Tensor, other: Tensor | None) -> bool:
    """Whether two score vectors are equal up to storage round-off."""
    if other is None or other.shape != targets.shape:
        return False
    other = other.to(targets)
    scale = float(targets.abs().max()) if targets.numel() else 0.0
    return bool(torch.allclose(targets, other, rtol=1e-7, atol=1e-9 * max(scale, 1e-30)))


def _save_atomically(obj: Any, path: Path, save: Callable[[Any, str], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    save(obj, str(tmp))
    os.replace(tmp, path)
