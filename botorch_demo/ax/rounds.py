"""The DEMO node's batches as the experiment records them, and when one is done.

A DEMO batch (a "round") is the designs one trained model serves: at most K
(``batch_size``) live ones. Every generator run of the DEMO node carries its
round in ``gen_metadata`` (:data:`DEMO_ROUND_KEY`), so the batch's state is
read from the experiment alone (Ax's public trial statuses), whether the
campaign was just started, resumed from storage, or run by the Orchestrator.
The node's criteria, its adapter and its generator all read it here, so they
agree on what has been served:

- completed: the designs of COMPLETED or EARLY_STOPPED trials;
- given up: the designs of FAILED or ABANDONED trials, and arms abandoned
  inside a ``BatchTrial`` (DEMO replaces them by further designs of the round);
- live: the designs still out (CANDIDATE, STAGED, RUNNING).

A round is done (:func:`round_done`) when ``min_completed`` of its designs are
completed, or when the search space holds no admissible design that the
experiment has not seen (:func:`open_design_count`) and none of the round's
designs is live: then completed plus given-up designs are all the round can
have. A DEMO node with a next node hands off at that point; a last DEMO node
starts the next round, trained on everything observed so far.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from math import prod
from typing import Any

import numpy as np
from ax.core.arm import Arm
from ax.core.batch_trial import BatchTrial
from ax.core.experiment import Experiment
from ax.core.parameter import ChoiceParameter, FixedParameter, ParameterType, RangeParameter
from ax.core.search_space import SearchSpace
from ax.core.trial_status import TrialStatus

#: ``gen_metadata`` key of a DEMO generator run: the key of the trained model.
DEMO_MODEL_KEY = "demo_model"
#: ``gen_metadata`` key of a DEMO generator run: its round (0, 1, ...).
DEMO_ROUND_KEY = "demo_round"

#: ``gen_metadata`` key of a DEMO generator run: the seed its batch was made with.
DEMO_SEED_KEY = "demo_seed"
#: Seeds of consecutive batches (rounds) of one generator lie this far apart.
ROUND_SEED_STRIDE = 1000

#: Largest discrete search space whose open designs are counted exactly.
MAX_ENUMERATE = 2**16

_COMPLETED = {TrialStatus.COMPLETED, TrialStatus.EARLY_STOPPED}
_GIVEN_UP = {TrialStatus.FAILED, TrialStatus.ABANDONED}


@dataclass(frozen=True)
class RoundState:
    """The designs of the latest DEMO round, by what became of them.

    Attributes:
        index: The round (-1 before the node served anything).
        completed: Designs with results.
        given_up: Designs failed or abandoned.
        live: Designs still out.
    """

    index: int = -1
    completed: int = 0
    given_up: int = 0
    live: int = 0

    @property
    def served(self) -> int:
        """Designs of the round that count against K: completed and live."""
        return self.completed + self.live


def round_state(experiment: Experiment, trial_indices: Iterable[int] | None = None) -> RoundState:
    """The latest DEMO round of ``experiment`` (or of the trials ``trial_indices``).

    DEMO's generator runs are those with :data:`DEMO_MODEL_KEY` in their
    ``gen_metadata``; runs without a round are round 0.
    """
    indices = experiment.trials.keys() if trial_indices is None else trial_indices
    arms: list[tuple[int, str]] = []  # (round, what became of the arm)
    for index in indices:
        trial = experiment.trials[index]
        abandoned = trial.abandoned_arm_names if isinstance(trial, BatchTrial) else set()
        for run in trial.generator_runs:
            metadata = run.gen_metadata or {}
            if DEMO_MODEL_KEY not in metadata:
                continue
            r = int(metadata.get(DEMO_ROUND_KEY, 0))
            arms += [(r, _fate(trial.status, arm.name in abandoned)) for arm in run.arms]
    if not arms:
        return RoundState()
    latest = max(r for r, _ in arms)
    fates = [fate for r, fate in arms if r == latest]
    return RoundState(
        index=latest,
        completed=fates.count("completed"),
        given_up=fates.count("given_up"),
        live=fates.count("live"),
    )


def arms_without_results(experiment: Experiment) -> list[Arm]:
    """The arms of the experiment that have no results and never will, or not
    yet: those of trials that are not completed or early-stopped (out, failed,
    abandoned), and arms abandoned inside a ``BatchTrial``.

    Ax passes a running trial's arm as pending only while it has no data, and
    fits only completed trials' data, so a running trial whose metric already
    reported (e.g. under the Orchestrator) would otherwise be invisible to
    DEMO and could be proposed again.
    """
    arms: list[Arm] = []
    for trial in experiment.trials.values():
        if trial.status in _COMPLETED:
            if isinstance(trial, BatchTrial):
                arms += trial.abandoned_arms
            continue
        arms += trial.arms
    return arms


def _fate(status: TrialStatus, abandoned_in_batch: bool) -> str:
    if abandoned_in_batch or status in _GIVEN_UP:
        return "given_up"
    return "completed" if status in _COMPLETED else "live"


def round_done(state: RoundState, min_completed: int, experiment: Experiment) -> bool:
    """Whether the latest round is done: ``min_completed`` designs completed, or
    every served design resolved and no admissible design left to serve."""
    if state.index < 0:
        return False
    if state.completed >= min_completed:
        return True
    if state.live > 0 or state.completed + state.given_up == 0:
        return False
    return open_design_count(experiment, at_most=1) == 0


def open_design_count(experiment: Experiment, at_most: int) -> int | None:
    """How many designs of the search space satisfy its parameter constraints and
    are held by no arm of the experiment, capped at ``at_most``; None when the
    space is not discrete or has more than :data:`MAX_ENUMERATE` designs (then
    new designs are assumed to exist).
    """
    space = experiment.search_space
    grid = _discrete_grid(space)
    if grid is None:
        return None
    names, size, constrained = grid
    arms = experiment.arms_by_signature
    if not constrained and size - len(arms) >= at_most:
        return at_most  # Enough even if every arm held a design of the space.
    designs = _feasible_designs(space)
    taken = {tuple(arm.parameters.get(n) for n in names) for arm in arms.values()}
    count = 0
    for design in designs:
        if design not in taken:
            count += 1
            if count >= at_most:
                break
    return count


def _discrete_grid(space: SearchSpace) -> tuple[list[str], int, bool] | None:
    """Parameter names, number of designs and whether constraints apply, for a
    discrete space of at most :data:`MAX_ENUMERATE` designs; else None."""
    sizes = []
    for parameter in space.parameters.values():
        values = _values(parameter)
        if values is None:
            return None
        sizes.append(len(values))
    size = prod(sizes)
    if size > MAX_ENUMERATE:
        return None
    return list(space.parameters), size, bool(space.parameter_constraints)


def _values(parameter: Any) -> list | None:
    """The values a discrete parameter takes, or None for a continuous one."""
    if isinstance(parameter, ChoiceParameter):
        return list(parameter.values)
    if isinstance(parameter, FixedParameter):
        return [parameter.value]
    if isinstance(parameter, RangeParameter) and parameter.parameter_type == ParameterType.INT:
        return list(range(int(parameter.lower), int(parameter.upper) + 1))
    return None


#: Feasible designs of the last few small search spaces, by their ``repr``.
_DESIGNS: dict[str, tuple[tuple, ...]] = {}
_CACHED_SPACES = 8


def _feasible_designs(space: SearchSpace) -> tuple[tuple, ...]:
    """Every design of a small discrete space that meets its constraints."""
    key = repr(space)
    if key not in _DESIGNS:
        if len(_DESIGNS) >= _CACHED_SPACES:
            _DESIGNS.pop(next(iter(_DESIGNS)))
        _DESIGNS[key] = _enumerate(space)
    return _DESIGNS[key]


def _enumerate(space: SearchSpace) -> tuple[tuple, ...]:
    columns = [_values(p) for p in space.parameters.values()]
    names = list(space.parameters)
    designs = list(itertools.product(*columns))
    if not space.parameter_constraints or not designs:
        return tuple(designs)
    ok = np.ones(len(designs), dtype=bool)
    for constraint in space.parameter_constraints:
        total = np.zeros(len(designs))
        for name, weight in constraint.constraint_dict.items():
            column = names.index(name)
            total += weight * np.array([float(d[column]) for d in designs])
        ok &= total <= constraint.bound + 1e-8
    return tuple(d for d, keep in zip(designs, ok, strict=True) if keep)


@dataclass(frozen=True)
class BatchRound:
    """The batch a DEMO generator serves now, as its adapter read it from the
    experiment.

    Attributes:
        index: The round: the latest one, or the next when the latest is done.
        served: Its designs that count against K (completed or live).
        live: Its designs still out.
    """

    index: int = 0
    served: int = 0
    live: int = 0


def current_batch(experiment: Experiment, min_completed: int) -> tuple[BatchRound, RoundState]:
    """The batch to serve from: the latest round, or a new one once it is done
    (see :func:`round_done`); and the latest round's state."""
    state = round_state(experiment)
    if state.index < 0:
        return BatchRound(), state
    if round_done(state, min_completed, experiment):
        return BatchRound(index=state.index + 1), state
    return BatchRound(index=state.index, served=state.served, live=state.live), state


def recorded_seed(experiment: Experiment) -> int | None:
    """The seed DEMO's first recorded batch was made with (its base seed, without
    the round's offset), or None before DEMO served anything."""
    for trial in experiment.trials.values():
        for run in trial.generator_runs:
            metadata = run.gen_metadata or {}
            if DEMO_MODEL_KEY in metadata and DEMO_SEED_KEY in metadata:
                r = int(metadata.get(DEMO_ROUND_KEY, 0))
                return int(metadata[DEMO_SEED_KEY]) - ROUND_SEED_STRIDE * r
    return None
