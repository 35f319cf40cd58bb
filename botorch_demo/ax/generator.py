"""DEMO as an Ax ``TorchGenerator``.

Training happens in ``fit`` (Ax reports it as fit time): the DEMO node's adapter
(:class:`~botorch_demo.ax.adapter.DEMOAdapter`) tells the generator the
objective's direction before Ax fits it. The model is trained on the data the
node starts from: every observation that DEMO did NOT propose itself (the
offline data and, e.g., initial Sobol trials). Results of DEMO's own designs are
recognised by their candidate metadata (``demo_model``) and never trigger a
retraining; they only become "observed" designs that are not proposed again. A
trained model is kept for as long as that training data, the direction and the
configuration stay the same, and, with ``checkpoint_dir``, written to and read
from disk under a hash of exactly those inputs, so a resumed campaign does not
retrain.

One DEMO generation proposes a whole batch of ``batch_size`` designs (the
candidate pool). However Ax asks for them (``Client.get_next_trials(K)``, the
Orchestrator's one-trial-at-a-time loop, or ``gen(n)`` for a ``BatchTrial``),
each request takes the best pool designs that are neither observed nor
pending, and the generator serves at most ``batch_size`` designs per trained
model: designs, not trials, are counted. Failed or abandoned designs are
replaced.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
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
from botorch_demo.ax.utils import generation_key, pending_points, single_objective
from botorch_demo.constraints import make_feasible
from botorch_demo.diagnostics import GenerationDiagnostics
from botorch_demo.exceptions import CandidateShortfallError, CheckpointError
from botorch_demo.rows import first_occurrences, rows_in

logger = get_logger(__name__)

_TOP_UP_ATTEMPTS = 4
_PREDICT_CHUNK = 8192
#: Candidate-metadata key that marks a design proposed by DEMO.
DEMO_METADATA_KEY = "demo_model"


@dataclass(frozen=True)
class _TrainingData:
    X: Tensor  # n x d, Ax's transformed space (as Ax passed it)
    Z: Tensor  # n x d, DEMO's space
    Y: Tensor  # n x 1, as observed (not sign-flipped)
    encoding: DesignEncoding
    n_distinct: int  # distinct designs among the rows


@dataclass(frozen=True)
class _Observed:
    """Every observation Ax passed, DEMO's own results included."""

    X: Tensor  # n x d, Ax's space
    Z: Tensor  # n x d, DEMO's space
    Y: Tensor  # n x 1
    from_demo: Tensor  # n, bool: proposed by DEMO (candidate metadata)


@dataclass(frozen=True)
class _Pool:
    key: tuple[Any, ...]
    Z: Tensor  # DEMO-space candidates, best predicted first
    predicted: Tensor  # surrogate scores in the maximised direction


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
        self.seed = int(torch.randint(0, 2**31 - 1, (1,)).item()) if seed is None else seed
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.demo_device = None if device is None else torch.device(device)
        #: Direction of the objective (+1 maximise, -1 minimise), set by
        #: ``DEMOAdapter`` before ``fit`` so that ``fit`` can train.
        self.objective_sign: float | None = None
        # Counters for users and tests: how often a model was trained or loaded.
        self.num_trainings = 0
        self.num_checkpoint_loads = 0
        #: Seconds of the last training (0.0 when loaded from a checkpoint).
        self.last_training_seconds = 0.0
        self._data: _TrainingData | None = None
        self._observed: _Observed | None = None
        self._model: DEMO | None = None
        self._model_key: str | None = None
        self._model_targets: Tensor | None = None
        self._sign: float | None = None
        self._pool: _Pool | None = None

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
        Z = encoding.to_demo(dataset.X)
        Y = dataset.Y.to(device=device)
        metadata = candidate_metadata[0] if candidate_metadata else None
        from_demo = torch.tensor(
            [bool(m) and DEMO_METADATA_KEY in m for m in metadata]
            if metadata is not None and len(metadata) == Z.shape[0]
            else [False] * Z.shape[0],
            dtype=torch.bool,
            device=device,
        )
        self._observed = _Observed(X=dataset.X, Z=Z, Y=Y, from_demo=from_demo)
        start = ~from_demo if bool((~from_demo).any()) else torch.ones_like(from_demo)
        X0, Z0, Y0 = dataset.X[start.to(dataset.X.device)], Z[start], Y[start]
        # Canonical row order: Ax's row order depends on how the experiment was
        # built or loaded, the trained model and its checkpoint key must not.
        rows = torch.cat([Z0, Y0.to(Z0)], dim=-1).cpu().numpy()
        order = torch.from_numpy(np.lexsort(rows.T[::-1]).copy()).to(device)
        self._data = _TrainingData(
            X=X0[order.to(X0.device)],
            Z=Z0[order],
            Y=Y0[order],
            encoding=encoding,
            n_distinct=int(first_occurrences(Z0).sum()),
        )
        if self.objective_sign is not None:
            self._trained_model(self.objective_sign)

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
        stored = None if path is None else _load_targets(path)
        if path is not None and stored is not None and _same(targets, stored[0]) and path.exists():
            model = DEMO.load(str(path), map_location=data.Z.device)
            if self.configured_seed is None and stored[1] is not None:
                self.seed = stored[1]  # Generate as the run that trained it did.
            self.num_checkpoint_loads += 1
            self.last_training_seconds = 0.0
            logger.info(f"Loaded the DEMO model from checkpoint {path}.")
        else:
            self._log_training(data)
            tic = time.perf_counter()
            model = DEMO(self.demo_config).fit(
                data.Z,
                targets,
                data.encoding.bounds,
                categorical_features=data.encoding.categorical_features or None,
                seed=self.seed,
            )
            self.last_training_seconds = time.perf_counter() - tic
            self.num_trainings += 1
            if path is not None:
                _save_atomically(
                    {"targets": targets.cpu(), "seed": self.seed},
                    _targets_path(path),
                    torch.save,
                )
                _save_atomically(model, path, lambda m, p: m.save(p))
        self._model, self._model_key, self._model_targets = model, key, targets
        self._sign = sign
        self._pool = None
        return model

    def _log_training(self, data: _TrainingData) -> None:
        observed = self._observed
        resumed = self._model is None and observed is not None and bool(observed.from_demo.any())
        if self.checkpoint_dir is None and resumed:
            logger.warning(
                f"Training DEMO again on {data.Z.shape[0]} designs: this campaign already "
                "has results of DEMO designs, so it was probably reloaded, and the "
                "generator has no `checkpoint_dir` to load the trained model from. Pass "
                "`checkpoint_dir` (e.g. a folder beside the SQLite file) to avoid this."
            )
        else:
            where = "" if self.checkpoint_dir is None else f" (checkpoint in {self.checkpoint_dir})"
            logger.info(f"Training DEMO on {data.Z.shape[0]} designs{where}.")

    def _fingerprint(self, data: _TrainingData, sign: float) -> str:
        """Key of everything a trained model depends on except the exact scores.

        Scores are compared with a tolerance instead (see ``_same``): Ax's SQL
        storage keeps about ten significant digits, so scores reloaded from a
        database differ from the originals in the last bits. With a drawn seed
        (``seed=None``) the key holds None, so a resumed campaign finds the
        checkpoint whatever seed it drew.
        """
        digest = hashlib.sha256(b"botorch-demo-ax-checkpoint-v3")
        for tensor in (data.Z, data.encoding.bounds):
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        digest.update(
            json.dumps(
                {
                    "categorical": sorted(data.encoding.categorical_features.items()),
                    "config": dataclasses.asdict(self.demo_config),
                    "dtype": str(data.Z.dtype),
                    "seed": self.configured_seed,
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

    def _current_sign(self) -> float:
        for sign in (self._sign, self.objective_sign):
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
        observed = self._observed
        encoding = data.encoding
        fixed = {
            j: encoding.value_to_demo(j, v)
            for j, v in (torch_opt_config.fixed_features or {}).items()
        }
        linear = torch_opt_config.linear_constraints
        if linear is not None and any(
            bool(linear[0][:, j].ne(0).any()) for j in encoding.categorical_values
        ):
            raise UnsupportedError(
                "DEMO supports linear constraints on numeric parameters only, not on "
                "unordered choice parameters."
            )
        pending = pending_points(torch_opt_config, outcome)
        pending_Z = None if pending is None else encoding.to_demo(pending)

        key = (self._model_key, *generation_key(fixed, linear))
        if self._pool is None or self._pool.key != key:
            # The pool excludes the training designs only, so that a campaign
            # resumed from storage regenerates the same pool.
            Z, pred = self._candidates(model, self.batch_size, self.seed, data.Z, fixed, linear)
            self._pool = _Pool(key=key, Z=Z, predicted=pred)

        taken = rows_in(self._pool.Z, pending_Z) | rows_in(self._pool.Z, observed.Z)
        served = int(taken.sum())
        served = max(served, int(first_occurrences(observed.Z[observed.from_demo]).sum()))
        remaining = self.batch_size - served
        if remaining <= 0:
            raise DataRequiredError(
                f"DEMO has proposed all {self.batch_size} designs of its batch; complete "
                "(or mark failed) those trials before asking for more."
            )
        n = min(n, remaining)

        known = torch.cat([t for t in (observed.Z, pending_Z) if t is not None])
        for attempt in range(_TOP_UP_ATTEMPTS + 1):
            pool = self._pool
            free = ~rows_in(pool.Z, known)
            if int(free.sum()) >= n or attempt == _TOP_UP_ATTEMPTS:
                break
            exclude = torch.cat([known, pool.Z])
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
        tag = self._model_key[:16]
        return TorchGenResults(
            points=points,
            weights=torch.ones(points.shape[0], dtype=points.dtype),
            gen_metadata={"demo_model": self._model_key, "demo_seed": self.seed},
            candidate_metadata=[{"demo_predicted": s, DEMO_METADATA_KEY: tag} for s in scores],
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
            except CandidateShortfallError:
                # DEMO's re-edits keep landing on known designs: ask for fewer.
                logger.info(f"DEMO could not find {ask} new designs; asking for {ask // 2}.")
                ask //= 2
                continue
            _log_diagnostics(model.diagnostics)
            found.append(Z.to(exclude))
            total += Z.shape[0]
            seed += 1
        if not found:
            return exclude.new_zeros(0, exclude.shape[-1]), exclude.new_zeros(0)
        Z = torch.cat(found).to(encoding.bounds)
        # Feasible by construction: fixed features set, projected onto the
        # linear constraints in the raw space, discrete columns snapped.
        Z = encoding.project(Z)
        Z, feasible = make_feasible(
            Z,
            encoding.bounds,
            fixed_features=fixed,
            linear=None if linear is None else (linear[0].to(Z), linear[1].to(Z)),
            discrete_values=encoding.discrete_values,
        )
        keep = feasible & first_occurrences(Z) & ~rows_in(Z, exclude)
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


def _log_diagnostics(diag: GenerationDiagnostics | None) -> None:
    """Log what one ``DEMO.generate`` did, as ``model.diagnostics`` reports it.

    The distinct raw edits and the surrogate's verdict go to INFO; a collapsed
    batch or a diverging sampler goes to WARNING with the model's own message.
    """
    if diag is None:
        return
    above = (
        ""
        if diag.n_predicted_above_source is None
        else f", {diag.n_predicted_above_source} predicted above their source"
    )
    logger.info(
        f"DEMO generated {diag.q} designs: {diag.n_distinct_raw} distinct raw edits, "
        f"{diag.n_distinct} distinct after de-duplication{above}."
    )
    for message in diag.messages:
        logger.warning(message)


def _targets_path(path: Path) -> Path:
    return path.with_name(path.stem + ".targets.pt")


def _load_targets(path: Path) -> tuple[Tensor, int | None] | None:
    """The scores (and seed) a checkpoint was trained with, or None if it has none.

    Raises:
        CheckpointError: If the scores file is unreadable or holds neither a tensor
            nor a dict of ``targets`` and ``seed`` (the message names it; torch's
            hint to unpickle unsafely is dropped).
    """
    targets_path = _targets_path(path)
    if not targets_path.exists():
        return None
    try:
        stored = torch.load(targets_path, weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f"{targets_path} is not a DEMO checkpoint's scores file: torch.load cannot read "
            f"it ({type(err).__name__}); delete it and {path.name} to retrain."
        ) from None
    if isinstance(stored, Tensor):  # Written by an earlier version.
        return stored, None
    if not isinstance(stored, dict) or not isinstance(stored.get("targets"), Tensor):
        raise CheckpointError(
            f"{targets_path} is not a DEMO checkpoint's scores file: it holds a "
            f"{type(stored).__name__}; delete it and {path.name} to retrain."
        )
    return stored["targets"], stored.get("seed")


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
