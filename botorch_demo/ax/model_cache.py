"""The DEMO node's trained model: what it is trained on, its key, load or train.

The model of a DEMO batch (a round, see :mod:`botorch_demo.ax.rounds`) is
trained on the data the batch starts from: every observation except the
results of the batch's own designs (the offline data, e.g. initial Sobol
trials, and the results of earlier batches). Results of the batch's designs
never trigger a retraining; they only become observed designs that are not
proposed again. A trained model is kept for as
long as that training data, the direction and the configuration stay the same,
and, with a ``checkpoint_dir``, written to and read from disk under a hash of
exactly those inputs (:func:`fingerprint`), so a resumed campaign does not
retrain.

Files in ``checkpoint_dir``, for a key ``<key>`` (the first 32 hex digits):

- ``demo-<key>.pt``: the model as :meth:`DEMO.save <botorch_demo.DEMO.save>`
  writes it; :meth:`DEMO.load <botorch_demo.DEMO.load>` verifies its content
  hash;
- ``demo-<key>.targets.pt``: the scores the model was trained on and the seed
  it was trained with, ``{"targets": tensor, "seed": int | None}``, or a bare
  tensor of scores, without the seed (read as seed None).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from ax.utils.common.logger import get_logger
from torch import Tensor

import botorch_demo
from botorch_demo import DEMO
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.config import DEMOConfig
from botorch_demo.exceptions import CheckpointError
from botorch_demo.fileio import atomic_torch_save
from botorch_demo.rows import first_occurrences

#: The DEMO node logs under its generator's module name, whichever part speaks.
logger = get_logger("botorch_demo.ax.generator")

#: First bytes hashed into every checkpoint key (the key format's version).
KEY_PREFIX = b"botorch-demo-ax-checkpoint-v3"


@dataclass(frozen=True)
class Observed:
    """Every observation Ax passed, DEMO's own results included."""

    X: Tensor  # n x d, Ax's space
    Z: Tensor  # n x d, DEMO's space
    Y: Tensor  # n x 1
    from_demo: Tensor  # n, bool: proposed by DEMO (candidate metadata)
    held_out: Tensor  # n, bool: results of the current batch's designs (not trained on)


@dataclass(frozen=True)
class TrainingData:
    """The observations DEMO trains on, in a canonical row order."""

    X: Tensor  # n x d, Ax's transformed space (as Ax passed it)
    Z: Tensor  # n x d, DEMO's space
    Y: Tensor  # n x 1, as observed (not sign-flipped)
    encoding: DesignEncoding
    n_distinct: int  # distinct designs among the rows


def split_observations(
    X: Tensor,
    Y: Tensor,
    encoding: DesignEncoding,
    from_demo: Tensor,
    held_out: Tensor | None = None,
) -> tuple[Observed, TrainingData]:
    """All observations, and those DEMO trains on.

    DEMO trains on every observation except the results of the current batch's
    designs (all of them if nothing else is left), in a canonical row order:
    Ax's row order depends on how the experiment was built or loaded, the
    trained model and its key must not.

    Args:
        X: ``n x d`` designs in Ax's transformed space.
        Y: ``n x 1`` observed objective values, on ``encoding``'s device.
        encoding: The search space's encoding.
        from_demo: ``n`` bools on ``encoding``'s device: proposed by DEMO.
        held_out: ``n`` bools: results of the current batch's designs, not
            trained on (default: every DEMO design).
    """
    Z = encoding.to_demo(X)
    held_out = from_demo if held_out is None else held_out
    observed = Observed(X=X, Z=Z, Y=Y, from_demo=from_demo, held_out=held_out)
    start = ~held_out if bool((~held_out).any()) else torch.ones_like(held_out)
    X0, Z0, Y0 = X[start.to(X.device)], Z[start], Y[start]
    rows = torch.cat([Z0, Y0.to(Z0)], dim=-1).cpu().numpy()
    order = torch.from_numpy(np.lexsort(rows.T[::-1]).copy()).to(Z.device)
    data = TrainingData(
        X=X0[order.to(X0.device)],
        Z=Z0[order],
        Y=Y0[order],
        encoding=encoding,
        n_distinct=int(first_occurrences(Z0).sum()),
    )
    return observed, data


def fingerprint(
    data: TrainingData, sign: float, config: DEMOConfig, configured_seed: int | None
) -> str:
    """Key of everything a trained model depends on except the exact scores.

    Scores are compared with a tolerance instead (see :func:`same_scores`): Ax's
    SQL storage keeps about ten significant digits, so scores reloaded from a
    database differ from the originals in the last bits. With a drawn seed
    (``configured_seed=None``) the key holds None, so a resumed campaign finds
    the checkpoint whatever seed it drew.
    """
    digest = hashlib.sha256(KEY_PREFIX)
    for tensor in (data.Z, data.encoding.bounds):
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(
        json.dumps(
            {
                "categorical": sorted(data.encoding.categorical_features.items()),
                "config": dataclasses.asdict(config),
                "dtype": str(data.Z.dtype),
                "seed": configured_seed,
                "sign": sign,
                "version": botorch_demo.__version__,
            },
            sort_keys=True,
        ).encode()
    )
    return digest.hexdigest()


def same_scores(targets: Tensor, other: Tensor | None) -> bool:
    """Whether two score vectors are equal up to storage round-off."""
    if other is None or other.shape != targets.shape:
        return False
    other = other.to(targets)
    scale = float(targets.abs().max()) if targets.numel() else 0.0
    return bool(torch.allclose(targets, other, rtol=1e-7, atol=1e-9 * max(scale, 1e-30)))


def same_order(targets: Tensor, other: Tensor | None) -> bool:
    """Whether two score vectors of the same observations rank them alike: no
    pair of rows is ordered one way by ``targets`` and the other way by
    ``other`` (ties aside), and neither is constant unless both are.

    Ax's outcome transforms for BoTorch nodes (``Winsorize``, then
    ``StandardizeY``) keep this order, and their parameters move as results
    arrive: the initial data's scores keep their order, not their values.
    Winsorising ties a clipped tail, and a later cut-off may tie more or fewer
    rows, so ties may form or come apart.
    """
    if other is None or other.shape != targets.shape:
        return False
    if targets.numel() < 2:
        return True
    t, o = targets.reshape(-1).double(), other.to(targets).reshape(-1).double()
    t_range, o_range = float(t.max() - t.min()), float(o.max() - o.min())
    if o_range == 0.0 or t_range == 0.0:
        return o_range == 0.0 and t_range == 0.0 and same_scores(targets, other)
    # Sorted by ``other``, then by ``targets`` within its ties: ``targets`` must
    # not decrease, except where ``targets`` tie with rows ``other`` separates.
    order = torch.from_numpy(np.lexsort((t.cpu().numpy(), o.cpu().numpy())).copy())
    return not bool((t[order.to(t.device)].diff() < -1e-7 * t_range).any())


def checkpoint_path(checkpoint_dir: Path, key: str) -> Path:
    """The model file of the key ``key`` in ``checkpoint_dir``."""
    return checkpoint_dir / f"demo-{key[:32]}.pt"


def targets_path(path: Path) -> Path:
    """The scores file beside the model file ``path``."""
    return path.with_name(path.stem + ".targets.pt")


def load_targets(path: Path) -> tuple[Tensor, int | None] | None:
    """The scores and seed the model at ``path`` was trained with; None without a
    scores file.

    Raises:
        CheckpointError: If the scores file is unreadable or holds anything but a
            tensor of scores or a dict of ``targets`` (a tensor) and ``seed`` (an
            int or None). The message names the file; torch's hint to unpickle
            unsafely is dropped.
    """
    scores_path = targets_path(path)
    if not scores_path.exists():
        return None
    try:
        stored = torch.load(scores_path, weights_only=True)
    except Exception as err:
        raise CheckpointError(
            f"{scores_path} is not a DEMO checkpoint's scores file: torch.load cannot read "
            f"it ({type(err).__name__}); delete it and {path.name} to retrain."
        ) from None
    if isinstance(stored, Tensor):  # Scores without the seed.
        return stored, None
    if not _is_targets_dict(stored):
        raise CheckpointError(
            f"{scores_path} is not a DEMO checkpoint's scores file: it holds a "
            f"{type(stored).__name__}; delete it and {path.name} to retrain."
        )
    return stored["targets"], stored.get("seed")


def _is_targets_dict(stored: object) -> bool:
    if not isinstance(stored, dict) or not isinstance(stored.get("targets"), Tensor):
        return False
    seed = stored.get("seed")
    valid_seed = seed is None or (isinstance(seed, int) and not isinstance(seed, bool))
    return valid_seed and set(stored) <= {"targets", "seed"}


class ModelCache:
    """The trained DEMO model for the current training data and direction.

    Args:
        config: DEMO's configuration.
        seed: Seed of training (and of the generator's candidate generation).
        configured_seed: The seed as configured (None: drawn); part of the key.
            With None, a model loaded from a checkpoint brings the seed it was
            trained with.
        checkpoint_dir: Optional directory for trained models.
        same_order_scores: Whether a kept or stored model also serves scores
            in the same order as its training scores (:func:`same_order`), not
            only equal ones. Its predictions are then in the units of the
            scores it was trained on: only for callers that use them up to
            such a transform (a ranking, or a GP prior mean with a fitted
            scale and offset).

    Attributes:
        model: The trained model (None before the first training or load).
        key: Its :func:`fingerprint`.
        sign: The direction it was trained for (+1 maximise, -1 minimise).
        seed: The seed of training and generation.
        num_trainings: Models trained.
        num_checkpoint_loads: Models loaded from ``checkpoint_dir``.
        num_warm_starts: Trainings started from the previous model's weights
            (``DEMOConfig.warm_start_fraction``).
        last_training_seconds: Seconds of the last training (0.0 after a load).
    """

    def __init__(
        self,
        config: DEMOConfig,
        seed: int,
        configured_seed: int | None,
        checkpoint_dir: Path | None,
        same_order_scores: bool = False,
    ) -> None:
        self.config = config
        self.same_order_scores = same_order_scores
        self.seed = seed
        self.configured_seed = configured_seed
        self.checkpoint_dir = checkpoint_dir
        self.model: DEMO | None = None
        self.key: str | None = None
        self.sign: float | None = None
        self.num_trainings = 0
        self.num_checkpoint_loads = 0
        self.num_warm_starts = 0
        self.last_training_seconds = 0.0
        self._targets: Tensor | None = None

    def get(self, data: TrainingData, sign: float, has_demo_results: bool = False) -> DEMO:
        """The model for ``data`` and ``sign``: kept, loaded or trained.

        Args:
            data: The training data.
            sign: +1 to maximise the objective, -1 to minimise it.
            has_demo_results: Whether the campaign already has results of this
                batch's designs (a training then is probably one after a reload,
                which is logged as a warning without ``checkpoint_dir``).

        Raises:
            CheckpointError: If a checkpoint file of this key is not intact.
        """
        key = fingerprint(data, sign, self.config, self.configured_seed)
        targets = sign * data.Y
        if self.model is not None and key == self.key and self._same(targets, self._targets):
            return self.model
        path = None if self.checkpoint_dir is None else checkpoint_path(self.checkpoint_dir, key)
        loaded = None if path is None else self._load(path, targets, data.Z.device)
        model, trained_on = (None, targets) if loaded is None else loaded
        if model is None:
            warm = self._warm_start_model(data, sign)
            resumed = self.model is None and has_demo_results
            model = self._train(data, targets, resumed=resumed, warm_start=warm)
            if path is not None:
                atomic_torch_save(targets_path(path), {"targets": targets.cpu(), "seed": self.seed})
                model.save(path)  # Atomic too, in the folder the scores file made.
        # The scores it was trained on: with same_order_scores, later scores are
        # compared with these, not with the last ones asked for.
        self.model, self.key, self.sign, self._targets = model, key, sign, trained_on
        return model

    def _load(
        self, path: Path, targets: Tensor, device: torch.device
    ) -> tuple[DEMO, Tensor] | None:
        """The checkpoint at ``path`` and the scores it was trained on, if those
        are ``targets`` (:meth:`_same`), else None."""
        stored = load_targets(path)
        if stored is None or not self._same(targets, stored[0]) or not path.exists():
            return None
        model = DEMO.load(str(path), map_location=device)
        if self.configured_seed is None and stored[1] is not None:
            self.seed = stored[1]  # Generate as the run that trained it did.
        self.num_checkpoint_loads += 1
        self.last_training_seconds = 0.0
        logger.info(f"Loaded the DEMO model from checkpoint {path}.")
        return model, stored[0].to(targets)

    def _same(self, targets: Tensor, other: Tensor | None) -> bool:
        if self.same_order_scores:
            return same_order(targets, other)
        return same_scores(targets, other)

    def _warm_start_model(self, data: TrainingData, sign: float) -> DEMO | None:
        """The model to start the next training from: the one trained before, for
        the same direction and design space, when the configuration asks for it."""
        model = self.model
        if self.config.warm_start_fraction is None or model is None or self.sign != sign:
            return None
        same_space = (
            model.encoder is not None
            and model.encoder.bounds.shape == data.encoding.bounds.shape
            and model.encoder.categorical_features == data.encoding.categorical_features
        )
        return model if same_space else None

    def _train(
        self, data: TrainingData, targets: Tensor, resumed: bool, warm_start: DEMO | None = None
    ) -> DEMO:
        n = data.Z.shape[0]
        if self.checkpoint_dir is None and resumed:
            logger.warning(
                f"Training DEMO again on {n} designs: this campaign already "
                "has results of DEMO designs, so it was probably reloaded, and the "
                "generator has no `checkpoint_dir` to load the trained model from. Pass "
                "`checkpoint_dir` (e.g. a folder beside the SQLite file) to avoid this."
            )
        else:
            where = "" if self.checkpoint_dir is None else f" (checkpoint in {self.checkpoint_dir})"
            how = "" if warm_start is None else ", warm-started from the previous model"
            logger.info(f"Training DEMO on {n} designs{how}{where}.")
        tic = time.perf_counter()
        model = DEMO(self.config).fit(
            data.Z,
            targets,
            data.encoding.bounds,
            categorical_features=data.encoding.categorical_features or None,
            seed=self.seed,
            warm_start=warm_start,
        )
        self.last_training_seconds = time.perf_counter() - tic
        self.num_trainings += 1
        self.num_warm_starts += warm_start is not None
        return model
