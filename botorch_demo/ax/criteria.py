"""The DEMO node's criteria, counting DESIGNS (arms) of its batches, not trials.

A DEMO batch is K designs, however Ax packs them into trials: K one-arm
``Trial``s (``Client.get_next_trials``, the Orchestrator) or a few
``BatchTrial``s of several arms each. Ax's ``MinTrials`` and
``MaxTrialsAwaitingData`` count trials, so with ``BatchTrial``s of 6 arms a cap
of K = 6 trials let the node propose 36 designs. Both criteria here count the
arms of the node's latest batch instead, as :mod:`botorch_demo.ax.rounds` reads
it from the experiment (completed, given-up and live designs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ax.core.experiment import Experiment
from ax.core.trial_status import TrialStatus
from ax.generation_strategy.transition_criterion import (
    MaxTrialsAwaitingData,
    MinTrials,
    filter_trials_by_status,
)

from botorch_demo.ax.adapter import check_problem
from botorch_demo.ax.rounds import open_design_count, round_done, round_state

if TYPE_CHECKING:
    from ax.generation_strategy.generation_node import GenerationNode

#: Statuses of a trial whose result is in.
RESOLVED: list[TrialStatus] = [TrialStatus.COMPLETED, TrialStatus.EARLY_STOPPED]

_UNLIMITED = 2**31 - 1


class DEMODesignsResolved(MinTrials):
    """The DEMO node's hand-off: its latest batch is done.

    Met when ``threshold`` of the batch's designs (arms) have results, whether
    they came as one-arm trials or in ``BatchTrial``s, or when every design the
    batch served is resolved and the search space holds no admissible design
    the experiment has not seen (see :func:`~botorch_demo.ax.rounds.round_done`):
    then completed plus given-up designs are all the batch can have. Failed and
    abandoned designs do not count as results; DEMO replaces them while the
    space has designs left. Takes ``MinTrials``'s arguments; the statuses are
    fixed (completed or early-stopped designs count).
    """

    def num_contributing_to_threshold(
        self, experiment: Experiment, trials_from_node: set[int]
    ) -> int:
        return round_state(experiment, trials_from_node).completed

    def is_met(self, experiment: Experiment, curr_node: GenerationNode) -> bool:
        trials = curr_node.trials_from_node
        return round_done(round_state(experiment, trials), self.threshold, experiment)


class DEMOBatchLimit(MaxTrialsAwaitingData):
    """At most ``threshold`` live or completed designs (arms) in the node's
    latest batch until it is done (``release_after`` of them completed, see
    :class:`DEMODesignsResolved`); failed and abandoned designs do not count,
    so DEMO replaces them.

    Once the batch is done the cap is lifted (the node hands off), or, with
    ``repeat`` (a last DEMO node), the next batch may take ``threshold`` designs.
    The limit never exceeds the admissible designs the search space has left
    (see :func:`~botorch_demo.ax.rounds.open_design_count`), so Ax never asks
    the node for a design that does not exist.

    Ax's ``MaxTrialsAwaitingData`` keeps limiting the node after its batch is
    done, and ``GenerationStrategy.gen`` applies the CURRENT node's limit before
    it transitions, so the first ``get_next_trials(n)`` after the hand-off would
    return a single trial. Lifting the cap once the batch is done avoids that.

    Args:
        threshold: The batch size K.
        release_after: Completed designs after which the batch is done; match
            the hand-off criterion.
        only_in_statuses: See ``MaxTrialsAwaitingData`` (trial counting only).
        not_in_statuses: See ``MaxTrialsAwaitingData`` (trial counting only;
            default: failed, abandoned).
        use_all_trials_in_exp: See ``MaxTrialsAwaitingData`` (trial counting only).
        count_only_trials_with_data: See ``MaxTrialsAwaitingData``.
        count_arms: Count the designs of DEMO batches (the default), or trials
            (for a node that is not DEMO's, e.g. the Sobol node of
            :func:`~botorch_demo.ax.sobol_node`; in a strategy with a DEMO node,
            such a node refuses a problem DEMO cannot optimise before it
            generates anything, see :func:`~botorch_demo.ax.adapter.check_problem`).
        repeat: Whether a done batch is followed by another one (a last DEMO
            node) rather than a hand-off.
    """

    def __init__(
        self,
        threshold: int,
        release_after: int,
        only_in_statuses: list[TrialStatus] | None = None,
        not_in_statuses: list[TrialStatus] | None = None,
        use_all_trials_in_exp: bool = False,
        count_only_trials_with_data: bool = False,
        count_arms: bool = True,
        repeat: bool = False,
    ) -> None:
        super().__init__(
            threshold=threshold,
            only_in_statuses=only_in_statuses,
            not_in_statuses=not_in_statuses,
            use_all_trials_in_exp=use_all_trials_in_exp,
            count_only_trials_with_data=count_only_trials_with_data,
        )
        self.release_after = release_after
        self.count_arms = count_arms
        self.repeat = repeat

    def _trials(self, experiment: Experiment, trials_from_node: set[int], **kwargs) -> set[int]:
        trials = filter_trials_by_status(
            experiment=experiment,
            only_in_statuses=kwargs.get("only_in_statuses"),
            not_in_statuses=kwargs.get("not_in_statuses"),
        )
        return trials if self.use_all_trials_in_exp else trials & trials_from_node

    def _done(self, experiment: Experiment, trials_from_node: set[int]) -> bool:
        if self.count_arms:
            state = round_state(experiment, trials_from_node)
            return round_done(state, self.release_after, experiment)
        resolved = self._trials(experiment, trials_from_node, only_in_statuses=RESOLVED)
        return len(resolved) >= self.release_after

    def num_contributing_to_threshold(
        self, experiment: Experiment, trials_from_node: set[int]
    ) -> int:
        """Live or completed designs of the latest batch, or the node's trials in
        the counted statuses."""
        if self.count_arms:
            return round_state(experiment, trials_from_node).served
        return len(
            self._trials(
                experiment,
                trials_from_node,
                only_in_statuses=self.only_in_statuses,
                not_in_statuses=self.not_in_statuses,
            )
        )

    def num_till_threshold(self, experiment: Experiment, trials_from_node: set[int]) -> int:
        if not self.count_arms:
            if self._done(experiment, trials_from_node):
                return _UNLIMITED
            return super().num_till_threshold(experiment, trials_from_node)
        state = round_state(experiment, trials_from_node)
        if round_done(state, self.release_after, experiment):
            if not self.repeat:
                return _UNLIMITED
            remaining = self.threshold
        else:
            remaining = self.threshold - state.served
        if remaining <= 0:
            return remaining
        left = open_design_count(experiment, at_most=remaining)
        return remaining if left is None else left

    def is_met(self, experiment: Experiment, curr_node: GenerationNode) -> bool:
        trials = curr_node.trials_from_node
        if not self.count_arms:
            _refuse_before_demo(experiment, curr_node)
            return not self._done(experiment, trials) and super().is_met(experiment, curr_node)
        state = round_state(experiment, trials)
        if round_done(state, self.release_after, experiment):
            return False
        if state.served >= self.threshold:
            return True
        # Every admissible design is out: wait for results rather than ask for more.
        return state.live > 0 and open_design_count(experiment, at_most=1) == 0


def _refuse_before_demo(experiment: Experiment, node: GenerationNode) -> None:
    """Raises if the node's strategy has a DEMO node that could not optimise
    ``experiment``, so that no trial is made for a campaign that would stop
    at DEMO (e.g. Sobol trials before a DEMO node that refuses outcome
    constraints)."""
    from botorch_demo.ax.registry import uses_demo  # The registry imports this module.

    try:
        strategy = node.generation_strategy
    except (AttributeError, ValueError):
        return
    if uses_demo(strategy):
        check_problem(experiment)
