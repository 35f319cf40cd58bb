"""The DEMO node's served batch: the candidate pool, admissibility and top-ups.

One DEMO generation proposes a whole batch of ``batch_size`` designs (the
candidate pool). However Ax asks for them (``Client.get_next_trials(K)``, the
Orchestrator's one-trial-at-a-time loop, or ``gen(n)`` for a ``BatchTrial``),
each request takes the best pool designs that are neither observed, pending nor
given up, and at most ``batch_size`` live or completed designs are served per
batch: designs, not trials, are counted. A failed or abandoned design is
replaced by the next unserved design of the same pool.

Every design is admissible by construction: fixed features set, projected onto
the linear parameter constraints, discrete columns at allowed values (DEMO
itself gets the integer and ordinal columns and the constraints, so its refill
of repeated designs happens after snapping), and never an observed, pending,
given-up or repeated design.

When the pool runs short:

- on a small discrete search space (at most
  :data:`~botorch_demo.ax.rounds.MAX_ENUMERATE` designs) every admissible design
  is enumerated, and the missing designs are the unseen ones nearest to DEMO's
  edits (ties: the best predicted);
- elsewhere, further DEMO generations with other seeds and more noise top the
  pool up, and then the unseen neighbours of its designs (one discrete step, or
  a small continuous step, at a time) fill what is still missing.

When fewer admissible designs exist than a request needs, the pool serves those
it has and logs one line; the node's criteria then hand off (see
:mod:`botorch_demo.ax.rounds`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from math import prod

import torch
from ax.exceptions.core import DataRequiredError, SearchSpaceExhausted, UnsupportedError
from ax.generators.torch_base import TorchOptConfig
from ax.utils.common.logger import get_logger
from torch import Tensor

from botorch_demo import DEMO
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.model_cache import Observed, TrainingData
from botorch_demo.ax.rounds import MAX_ENUMERATE
from botorch_demo.ax.utils import generation_key
from botorch_demo.config import DEMOConfig
from botorch_demo.constraints import make_feasible, satisfied
from botorch_demo.diagnostics import (
    CollapseWarning,
    GenerationDiagnostics,
    SamplerDivergenceWarning,
)
from botorch_demo.editing import raised_noise_level
from botorch_demo.exceptions import CandidateShortfallError
from botorch_demo.rows import first_occurrences, novel_rows, rows_in

#: The DEMO node logs under its generator's module name, whichever part speaks.
logger = get_logger("botorch_demo.ax.generator")

#: Generations that top up a pool that runs short, each with more noise.
TOP_UP_ATTEMPTS = 4
#: Neighbourhoods (steps away from the pool's designs) searched for unseen designs.
NEIGHBOUR_RINGS = 8
#: Continuous step of the first neighbourhood, as a fraction of the column's range.
CONTINUOUS_STEP = 1.0 / 64
_PREDICT_CHUNK = 8192
_SUMMARISED = (SamplerDivergenceWarning, CollapseWarning)
_DISTANCE_CHUNK = 4096


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
        return make_feasible(
            Z,
            encoding.bounds,
            fixed_features=self.fixed,
            linear=self._linear(Z),
            discrete_values=encoding.discrete_values,
        )

    def _linear(self, like: Tensor) -> tuple[Tensor, Tensor] | None:
        if self.linear is None:
            return None
        return self.linear[0].to(like), self.linear[1].to(like).reshape(-1)

    def generate_kwargs(self, encoding: DesignEncoding) -> dict:
        """The rules as ``DEMO.generate``'s keywords: fixed features, the
        constraints in ``optimize_acqf``'s format, and the ordinal columns."""
        integer, values = encoding.ordinal_features()
        kwargs: dict = {
            "fixed_features": dict(self.fixed) or None,
            "integer_features": integer or None,
            "discrete_values": values or None,
        }
        if self.linear is not None:
            A, b = self._linear(encoding.bounds)
            constraints = []
            for row, rhs in zip(A, b, strict=True):
                (indices,) = torch.nonzero(row, as_tuple=True)
                if indices.numel():  # sum(-a x) >= -b
                    constraints.append((indices, -row[indices], -float(rhs)))
            kwargs["inequality_constraints"] = constraints or None
        return kwargs

    def grid(self, encoding: DesignEncoding) -> Tensor | None:
        """Every admissible design of a discrete space with at most
        :data:`~botorch_demo.ax.rounds.MAX_ENUMERATE` designs, or None."""
        columns = []
        discrete = encoding.discrete_values
        for j in range(encoding.bounds.shape[-1]):
            if j in self.fixed:
                columns.append(encoding.bounds.new_tensor([self.fixed[j]]))
            elif j in discrete:
                columns.append(discrete[j])
            else:
                return None
        if prod(c.numel() for c in columns) > MAX_ENUMERATE:
            return None
        grid = torch.cartesian_prod(*columns).reshape(-1, len(columns))
        linear = self._linear(grid)
        return grid if linear is None else grid[satisfied(grid, *linear)]


def predicted_scores(model: DEMO, Z: Tensor) -> Tensor:
    """Surrogate predictions as a flat tensor, in chunks to bound memory."""
    if Z.shape[0] == 0:
        return Z.new_zeros(0)
    with torch.no_grad():
        parts = [model.predict(c).reshape(-1) for c in Z.split(_PREDICT_CHUNK)]
    return torch.cat(parts)


def ranked(model: DEMO, Z: Tensor) -> tuple[Tensor, Tensor]:
    """``Z`` sorted by predicted score, best first, and the scores."""
    pred = predicted_scores(model, Z)
    order = torch.argsort(pred, descending=True, stable=True)
    return Z[order], pred[order]


def candidates(
    model: DEMO,
    data: TrainingData,
    q: int,
    seed: int,
    exclude: Tensor,
    rules: Admissibility,
    m: int | None = None,
    grid: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One DEMO generation, made admissible and sorted by predicted score.

    DEMO gets the rules (fixed features, constraints, integer and ordinal
    columns), so that its own refill of repeated designs sees the designs as
    they will be served. On a space whose admissible designs are enumerated
    (``grid``), DEMO edits once and the edits that repeat an excluded or an
    earlier design are replaced by the nearest unseen designs; a space with at
    most ``q`` unseen designs is served whole. Elsewhere, when DEMO cannot find
    ``q`` new designs at once, smaller batches are asked for; this may return
    fewer than ``q`` (the pool tops up with other seeds and more noise ``m``).

    Returns:
        The new designs (none in ``exclude``, no repeats) in DEMO's space, best
        predicted first, and their predicted scores.
    """
    kwargs = rules.generate_kwargs(data.encoding)
    if m is not None:
        kwargs["m"] = m
    if grid is not None:
        unseen = grid[~rows_in(grid, exclude)]
        if unseen.shape[0] <= q:
            return ranked(model, unseen)
        Z, _ = model.generate(min(q, data.n_distinct), seed=seed, **kwargs)
        _log_diagnostics(model.diagnostics)
        Z, feasible = rules.apply(Z.to(data.encoding.bounds), data.encoding)
        keep = feasible & novel_rows(Z, exclude)
        new = Z[keep]
        fill = nearest_unseen(unseen, Z, torch.cat([exclude, new]), q - new.shape[0], model, data)
        return ranked(model, torch.cat([new, fill]))
    # DEMO edits the top-q designs, so q cannot exceed the distinct designs.
    q = min(q, data.n_distinct)
    found: list[Tensor] = []
    ask, total = q, 0
    while ask >= 1 and total < q:
        known = torch.cat([exclude, *found])
        try:
            Z, _ = model.generate(
                min(ask, q - total), seed=seed, exclude=known, unique=True, **kwargs
            )
        except CandidateShortfallError:
            # DEMO's re-edits keep landing on known designs: ask for fewer.
            logger.debug(f"DEMO could not find {ask} new designs; asking for {ask // 2}.")
            ask //= 2
            continue
        _log_diagnostics(model.diagnostics)
        found.append(Z.to(exclude))
        total += Z.shape[0]
        seed += 1
    if not found:
        return exclude.new_zeros(0, exclude.shape[-1]), exclude.new_zeros(0)
    Z, feasible = rules.apply(torch.cat(found).to(data.encoding.bounds), data.encoding)
    return ranked(model, Z[feasible & novel_rows(Z, exclude)])


def nearest_unseen(
    unseen: Tensor, reference: Tensor, known: Tensor, n: int, model: DEMO, data: TrainingData
) -> Tensor:
    """The ``n`` designs of ``unseen`` (not in ``known``) nearest to any row of
    ``reference`` (L1 distance, each column scaled by its range, a differing
    category counting 1); ties go to the best predicted."""
    pool = unseen[~rows_in(unseen, known)]
    if n <= 0 or pool.shape[0] == 0:
        return unseen.new_zeros(0, unseen.shape[-1])
    if reference.shape[0] == 0:
        return ranked(model, pool)[0][:n]
    distance = torch.cat(
        [_distance(chunk, reference, data.encoding) for chunk in pool.split(_DISTANCE_CHUNK)]
    )
    by_score = torch.argsort(predicted_scores(model, pool), descending=True, stable=True)
    order = by_score[torch.argsort(distance[by_score], stable=True)]
    return pool[order[:n]]


def _distance(Z: Tensor, reference: Tensor, encoding: DesignEncoding) -> Tensor:
    """For each row of ``Z``, its smallest scaled L1 distance to ``reference``."""
    scale = encoding.scale().to(Z)
    diff = (Z.unsqueeze(1) - reference.to(Z).unsqueeze(0)).abs() / scale
    for j in encoding.categorical_values:
        diff[..., j] = (diff[..., j] > 0).to(Z)
    return diff.sum(-1).min(dim=1).values


def neighbours(
    Z: Tensor, step: int, encoding: DesignEncoding, rules: Admissibility
) -> tuple[Tensor, Tensor]:
    """The admissible designs ``step`` steps from the rows of ``Z``, one column
    at a time: an ordinal column ``step`` allowed values up or down, a
    categorical column to each other category (first step only), a continuous
    column ``step`` times :data:`CONTINUOUS_STEP` of its range up or down.

    Returns:
        The designs (made admissible) and the mask of those that satisfy the rules.
    """
    moves = []
    scale = encoding.scale().to(Z)
    for j in range(Z.shape[-1]):
        if j in rules.fixed:
            continue
        if j in encoding.categorical_values:
            if step == 1:
                for code in range(len(encoding.categorical_values[j])):
                    W = Z.clone()
                    W[:, j] = float(code)
                    moves.append(W)
            continue
        values = encoding.ordinal_values.get(j)
        for sign in (-1, 1):
            W = Z.clone()
            if values is None:
                W[:, j] = W[:, j] + sign * step * CONTINUOUS_STEP * scale[j]
            else:
                position = torch.searchsorted(values.to(Z), Z[:, j].contiguous())
                W[:, j] = values.to(Z)[(position + sign * step).clamp(0, values.numel() - 1)]
            moves.append(W)
    if not moves:
        return Z.new_zeros(0, Z.shape[-1]), torch.zeros(0, dtype=torch.bool)
    return rules.apply(torch.cat(moves), encoding)


class CandidatePool:
    """The designs of one DEMO batch, for one trained model and set of rules.

    The pool is generated once per model, rules and round, excluding the
    training designs only, so that a campaign resumed from storage regenerates
    the same pool.

    Args:
        batch_size: Designs in the batch (K): the most that are live or
            completed at a time.
        config: DEMO's configuration (its noise levels ``m`` and ``M`` set the
            top-ups' noise).
    """

    def __init__(self, batch_size: int, config: DEMOConfig) -> None:
        self.batch_size = batch_size
        self.config = config
        self._model: DEMO | None = None
        self._key: tuple | None = None
        self._grid: Tensor | None = None
        self._short_logged: tuple | None = None
        self.Z: Tensor | None = None  # DEMO-space candidates, best predicted first
        self.predicted: Tensor | None = None  # scores in the maximised direction
        #: Designs served since the batch's state was last read from the
        #: experiment (see :meth:`start_request`).
        self.served_since_update = 0

    def start_request(self) -> None:
        """Forgets what was served since the experiment was last read: the
        caller's new batch state counts those designs."""
        self.served_since_update = 0

    def serve(
        self,
        n: int,
        model: DEMO,
        data: TrainingData,
        observed: Observed,
        pending_Z: Tensor | None,
        rules: Admissibility,
        seed: int,
        served: tuple[int, int] | None = None,
        unobserved_Z: Tensor | None = None,
        round_index: int = 0,
    ) -> tuple[Tensor, Tensor]:
        """Up to ``n`` new designs, best predicted first, and their scores.

        Args:
            n: Designs asked for.
            model: The batch's trained model.
            data: Its training data.
            observed: Every observation.
            pending_Z: Pending designs (DEMO's space), or None.
            rules: The request's fixed features and constraints.
            seed: Seed of the batch's DEMO generations.
            served: ``(served, live)``: the batch's completed-or-live and live
                designs as the experiment records them (see
                :mod:`botorch_demo.ax.rounds`); None (a generator used without
                its adapter) counts pool designs among the pending and observed
                ones instead.
            unobserved_Z: Designs without results (out, failed, abandoned; DEMO's
                space), never served again.
            round_index: The batch's round (part of the pool's key).

        Raises:
            DataRequiredError: When ``batch_size`` designs of the batch are live
                or completed, or every admissible design is already out.
            SearchSpaceExhausted: If no admissible new design exists at all.
        """
        with one_warning_per_kind():
            return self._serve(
                n, model, data, observed, pending_Z, rules, seed, served, unobserved_Z, round_index
            )

    def _serve(
        self,
        n: int,
        model: DEMO,
        data: TrainingData,
        observed: Observed,
        pending_Z: Tensor | None,
        rules: Admissibility,
        seed: int,
        served: tuple[int, int] | None,
        unobserved_Z: Tensor | None,
        round_index: int,
    ) -> tuple[Tensor, Tensor]:
        key = (rules.key, round_index)
        if self._model is not model or self._key != key:
            self._grid = rules.grid(data.encoding)
            self.Z, self.predicted = candidates(
                model, data, self.batch_size, seed, data.Z, rules, grid=self._grid
            )
            self._model, self._key = model, key
        count, live = self._served(observed, pending_Z, served)
        remaining = self.batch_size - count
        if remaining <= 0:
            raise DataRequiredError(
                f"DEMO has {self.batch_size} designs of its batch out or completed; "
                "complete (or mark failed or abandoned) those trials before asking "
                "for more."
            )
        n = min(n, remaining)
        parts = [t for t in (observed.Z, pending_Z, unobserved_Z) if t is not None]
        known = torch.cat([t.to(data.Z) for t in parts])
        # On an enumerated space, look for the whole rest of the batch (cheap):
        # a batch that cannot be filled is known now, not at its last design.
        needed = remaining if self._grid is not None else n
        free = self._fill(needed, known, model, data, rules, seed)
        Z, pred = self.Z[free][:n], self.predicted[free][:n]
        if Z.shape[0] == 0:
            if live > 0:
                raise DataRequiredError(
                    "Every admissible design is observed, pending or given up; DEMO "
                    "waits for the results of its designs that are out."
                )
            raise SearchSpaceExhausted(
                "DEMO found no admissible design that is not observed, pending or given up."
            )
        if int(free.sum()) < needed and self._short_logged != key:
            self._short_logged = key
            logger.info(
                f"DEMO serves {count + int(free.sum())} designs in this batch instead of "
                f"{self.batch_size}: no more admissible designs are unobserved; the "
                "node hands off once they have results."
            )
        self.served_since_update += Z.shape[0]
        return Z, pred

    def _served(
        self, observed: Observed, pending_Z: Tensor | None, served: tuple[int, int] | None
    ) -> tuple[int, int]:
        """Live or completed designs of the batch, and live ones."""
        if served is not None:
            count, live = served
            return count + self.served_since_update, live + self.served_since_update
        pending = rows_in(self.Z, pending_Z)
        taken = pending | rows_in(self.Z, observed.Z)
        own = int(first_occurrences(observed.Z[observed.held_out]).sum())
        return max(int(taken.sum()), own), int(pending.sum())

    def _fill(
        self,
        n: int,
        known: Tensor,
        model: DEMO,
        data: TrainingData,
        rules: Admissibility,
        seed: int,
    ) -> Tensor:
        """Adds designs until ``n`` pool designs are not ``known`` (or no more
        can be found); returns the mask of those designs."""
        free = ~rows_in(self.Z, known)
        if int(free.sum()) >= n:
            return free
        if self._grid is not None:
            reference = self.Z if self.Z.shape[0] else _best_training(model, self.batch_size)
            extra = nearest_unseen(
                self._grid,
                reference,
                torch.cat([known, self.Z]),
                n - int(free.sum()),
                model,
                data,
            )
            self._append(extra, model)
            return ~rows_in(self.Z, known)
        for attempt in range(1, TOP_UP_ATTEMPTS + 1):
            missing = n - int(free.sum())
            # More noise than the configured m, to move away from known designs.
            m = raised_noise_level(self.config.m, self.config.M, attempt, TOP_UP_ATTEMPTS)
            exclude = torch.cat([known, self.Z])
            Z, _ = candidates(model, data, 2 * missing + 8, seed + attempt, exclude, rules, m)
            self._append(Z, model)
            free = ~rows_in(self.Z, known)
            if int(free.sum()) >= n:
                return free
        centres = self.Z if self.Z.shape[0] else _best_training(model, self.batch_size)
        extra = self._neighbours(n - int(free.sum()), centres, known, rules, data.encoding)
        self._append(extra, model)
        return ~rows_in(self.Z, known)

    def _neighbours(
        self, n: int, centres: Tensor, known: Tensor, rules: Admissibility, encoding: DesignEncoding
    ) -> Tensor:
        """Up to ``n`` unseen admissible neighbours of ``centres``, nearest first."""
        found = known.new_zeros(0, known.shape[-1])
        for step in range(1, NEIGHBOUR_RINGS + 1):
            Z, ok = neighbours(centres.to(known), step, encoding, rules)
            Z = Z[ok]
            new = Z[novel_rows(Z, torch.cat([known, self.Z, found]))]
            found = torch.cat([found, new])
            if found.shape[0] >= n:
                break
        return found

    def _append(self, Z: Tensor, model: DEMO) -> None:
        """Adds new designs after the pool's own, best predicted first."""
        Z = Z[novel_rows(Z, self.Z)]
        Z, pred = ranked(model, Z)
        self.Z = torch.cat([self.Z, Z])
        self.predicted = torch.cat([self.predicted, pred])


def _best_training(model: DEMO, k: int) -> Tensor:
    """The ``k`` best training designs (those DEMO edits)."""
    return model.train_X[model.ranked_rows[:k]]


@contextmanager
def one_warning_per_kind() -> Iterator[None]:
    """Issues DEMO's ``SamplerDivergenceWarning`` and ``CollapseWarning`` at most
    once each for everything inside (one Ax generation may call DEMO several
    times: smaller asks, top-ups); other warnings pass unchanged."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    summaries: dict[type, list[str]] = {}
    for record in caught:
        if issubclass(record.category, _SUMMARISED):
            summaries.setdefault(record.category, []).append(str(record.message))
        else:
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)
    for category, messages in summaries.items():
        more = "" if len(messages) == 1 else f" ({len(messages)} DEMO calls of this request)"
        warnings.warn(messages[0] + more, category, stacklevel=3)


def _log_diagnostics(diag: GenerationDiagnostics | None) -> None:
    """Log what one ``DEMO.generate`` did, as ``model.diagnostics`` reports it.

    The distinct raw edits, the surrogate's verdict and the model's messages
    (a collapsed batch, a diverging sampler) go to INFO: the messages also come
    as warnings, once per request (see :func:`one_warning_per_kind`).
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
        logger.info(message)
