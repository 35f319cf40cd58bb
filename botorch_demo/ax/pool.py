"""The DEMO node's served batch: the candidate pool, admissibility and top-ups.

One DEMO generation proposes a whole batch of ``batch_size`` designs (the
candidate pool). However Ax asks for them (``Client.get_next_trials(K)``, the
Orchestrator's one-trial-at-a-time loop, or ``gen(n)`` for a ``BatchTrial``),
each request takes the best pool designs that are neither observed nor pending,
and at most ``batch_size`` designs are served per trained model: designs, not
trials, are counted. Failed or abandoned designs are replaced; when the pool
runs short it is topped up by further generations with other seeds and more
noise.

Every design is admissible by construction: fixed features set, projected onto
the linear parameter constraints, discrete columns snapped, and never an
observed, pending or repeated design.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from ax.exceptions.core import DataRequiredError, SearchSpaceExhausted, UnsupportedError
from ax.generators.torch_base import TorchOptConfig
from ax.utils.common.logger import get_logger
from torch import Tensor

from botorch_demo import DEMO
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.model_cache import Observed, TrainingData
from botorch_demo.ax.utils import generation_key
from botorch_demo.config import DEMOConfig
from botorch_demo.constraints import make_feasible
from botorch_demo.diagnostics import GenerationDiagnostics
from botorch_demo.editing import raised_noise_level
from botorch_demo.exceptions import CandidateShortfallError
from botorch_demo.rows import first_occurrences, rows_in

#: The DEMO node logs under its generator's module name, whichever part speaks.
logger = get_logger("botorch_demo.ax.generator")

#: Generations that top up a pool that runs short, each with more noise.
TOP_UP_ATTEMPTS = 4
_PREDICT_CHUNK = 8192


@dataclass(frozen=True)
class Admissibility:
    """The rules of one ``gen`` call, in DEMO's space.

    Attributes:
        fixed: ``{column: value}`` of the fixed features.
        linear: Ax's linear parameter constraints ``(A, b)``, ``A x <= b``.
    """

    fixed: dict[int, float]
    linear: tuple[Tensor, Tensor] | None

    @classmethod
    def from_opt_config(
        cls, encoding: DesignEncoding, torch_opt_config: TorchOptConfig
    ) -> Admissibility:
        """The fixed features and linear constraints of ``torch_opt_config``.

        Raises:
            UnsupportedError: For a linear constraint on an unordered choice
                parameter.
        """
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
        return cls(fixed=fixed, linear=linear)

    @property
    def key(self) -> tuple:
        """Hashable summary of the rules, for the pool's cache."""
        return generation_key(self.fixed, self.linear)

    def apply(self, Z: Tensor, encoding: DesignEncoding) -> tuple[Tensor, Tensor]:
        """``Z`` made valid (see :meth:`DesignEncoding.project`), fixed features
        set and projected onto the linear constraints in the raw space, discrete
        columns snapped; and the mask of the rows that satisfy every rule."""
        Z = encoding.project(Z)
        linear = self.linear
        return make_feasible(
            Z,
            encoding.bounds,
            fixed_features=self.fixed,
            linear=None if linear is None else (linear[0].to(Z), linear[1].to(Z)),
            discrete_values=encoding.discrete_values,
        )


def predicted_scores(model: DEMO, Z: Tensor) -> Tensor:
    """Surrogate predictions as a flat tensor, in chunks to bound memory."""
    if Z.shape[0] == 0:
        return Z.new_zeros(0)
    with torch.no_grad():
        parts = [model.predict(c).reshape(-1) for c in Z.split(_PREDICT_CHUNK)]
    return torch.cat(parts)


def candidates(
    model: DEMO,
    data: TrainingData,
    q: int,
    seed: int,
    exclude: Tensor,
    rules: Admissibility,
    m: int | None = None,
) -> tuple[Tensor, Tensor]:
    """One DEMO generation, made admissible and sorted by predicted score.

    When DEMO cannot find ``q`` new designs at once, smaller batches are asked
    for; this may return fewer than ``q`` (the pool tops up with other seeds and
    more noise ``m``).

    Returns:
        The new designs (none in ``exclude``, no repeats) in DEMO's space, best
        predicted first, and their predicted scores.
    """
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
    Z, feasible = rules.apply(torch.cat(found).to(data.encoding.bounds), data.encoding)
    Z = Z[feasible & first_occurrences(Z) & ~rows_in(Z, exclude)]
    # Scores of the designs as projected (fixed features, snapped ordinals).
    pred = predicted_scores(model, Z)
    order = torch.argsort(pred, descending=True, stable=True)
    return Z[order], pred[order]


class CandidatePool:
    """The batch of ``batch_size`` designs that one trained model serves.

    The pool is generated once per model and set of rules, excluding the
    training designs only, so that a campaign resumed from storage regenerates
    the same pool.

    Args:
        batch_size: Designs in the batch (K): the most one model serves.
        config: DEMO's configuration (its noise levels ``m`` and ``M`` set the
            top-ups' noise).
    """

    def __init__(self, batch_size: int, config: DEMOConfig) -> None:
        self.batch_size = batch_size
        self.config = config
        self._model: DEMO | None = None
        self._key: tuple | None = None
        self.Z: Tensor | None = None  # DEMO-space candidates, best predicted first
        self.predicted: Tensor | None = None  # scores in the maximised direction

    def serve(
        self,
        n: int,
        model: DEMO,
        data: TrainingData,
        observed: Observed,
        pending_Z: Tensor | None,
        rules: Admissibility,
        seed: int,
    ) -> tuple[Tensor, Tensor]:
        """Up to ``n`` new designs, best predicted first, and their scores.

        Raises:
            DataRequiredError: When all ``batch_size`` designs of the batch were
                proposed and none failed.
            SearchSpaceExhausted: If no admissible new design can be found.
        """
        if self._model is not model or self._key != rules.key:
            self.Z, self.predicted = candidates(model, data, self.batch_size, seed, data.Z, rules)
            self._model, self._key = model, rules.key
        n = min(n, self._remaining(observed, pending_Z))
        known = torch.cat([t for t in (observed.Z, pending_Z) if t is not None])
        free = self._top_up(n, known, model, data, rules, seed)
        Z, pred = self.Z[free][:n], self.predicted[free][:n]
        if Z.shape[0] == 0:
            raise SearchSpaceExhausted(
                "DEMO found no admissible design that is not observed or pending."
            )
        if Z.shape[0] < n:
            logger.warning(f"DEMO proposes {Z.shape[0]} designs; {n} were requested.")
        return Z, pred

    def _remaining(self, observed: Observed, pending_Z: Tensor | None) -> int:
        """Designs of the batch not yet served (failed ones are served again)."""
        taken = rows_in(self.Z, pending_Z) | rows_in(self.Z, observed.Z)
        served = int(taken.sum())
        served = max(served, int(first_occurrences(observed.Z[observed.from_demo]).sum()))
        remaining = self.batch_size - served
        if remaining <= 0:
            raise DataRequiredError(
                f"DEMO has proposed all {self.batch_size} designs of its batch; complete "
                "(or mark failed) those trials before asking for more."
            )
        return remaining

    def _top_up(
        self,
        n: int,
        known: Tensor,
        model: DEMO,
        data: TrainingData,
        rules: Admissibility,
        seed: int,
    ) -> Tensor:
        """Adds designs until ``n`` pool designs are not ``known`` (or the
        attempts are spent); returns the mask of those designs."""
        for attempt in range(1, TOP_UP_ATTEMPTS + 1):
            free = ~rows_in(self.Z, known)
            if int(free.sum()) >= n:
                return free
            missing = n - int(free.sum())
            # More noise than the configured m, to move away from known designs.
            m = raised_noise_level(self.config.m, self.config.M, attempt, TOP_UP_ATTEMPTS)
            exclude = torch.cat([known, self.Z])
            Z, pred = candidates(model, data, 2 * missing + 8, seed + attempt, exclude, rules, m)
            self.Z = torch.cat([self.Z, Z])
            self.predicted = torch.cat([self.predicted, pred])
        return ~rows_in(self.Z, known)


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
