"""The DEMO node's criteria, counting DESIGNS (arms), not trials.

A DEMO batch is K designs, however Ax packs them into trials: K one-arm
``Trial``s (``Client.get_next_trials``, the Orchestrator) or a few
``BatchTrial``s of several arms each. Ax's ``MinTrials`` and
``MaxTrialsAwaitingData`` count trials, so with ``BatchTrial``s of 6 arms a cap
of K = 6 trials let the node propose 36 designs. Both criteria here count the
arms of the node's trials instead.
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

if TYPE_CHECKING:
    from ax.generation_strategy.generation_node import GenerationNode

#: Statuses of a trial whose result is in.
RESOLVED: list[TrialStatus] = [TrialStatus.COMPLETED, TrialStatus.EARLY_STOPPED]

_UNLIMITED = 2**31 - 1


def count_arms(
    experiment: Experiment,
    trials_from_node: set[int],
    only_in_statuses: list[TrialStatus] | None = None,
    not_in_statuses: list[TrialStatus] | None = None,
    use_all_trials_in_exp: bool = False,
) -> int:
    """Number of arms in the node's (or all) trials with the given statuses."""
    trials = filter_trials_by_status(
        experiment=experiment,
        only_in_statuses=only_in_statuses,
        not_in_statuses=not_in_statuses,
    )
    if not use_all_trials_in_exp:
        trials = trials & trials_from_node
    return sum(len(experiment.trials[i].arms) for i in trials)


class DEMODesignsResolved(MinTrials):
    """``MinTrials`` that counts the arms (designs) of the node's trials.

    The DEMO node hands off once ``threshold`` of its designs have results,
    whether they came as one-arm trials or in ``BatchTrial``s. Takes
    ``MinTrials``'s arguments.
    """

    def num_contributing_to_threshold(
        self, experiment: Experiment, trials_from_node: set[int]
    ) -> int:
        return count_arms(
            experiment,
            trials_from_node,
            only_in_statuses=self.only_in_statuses,
            not_in_statuses=self.not_in_statuses,
            use_all_trials_in_exp=bool(self.use_all_trials_in_exp),
        )


class DEMOBatchLimit(MaxTrialsAwaitingData):
    """At most ``threshold`` designs (arms) from the node until
    ``release_after`` of them have results; then no limit (the node hands off at
    that point).

    Ax's ``MaxTrialsAwaitingData`` keeps limiting the node after its batch is
    done, and ``GenerationStrategy.gen`` applies the CURRENT node's limit before
    it transitions, so the first ``get_next_trials(n)`` after the hand-off would
    return a single trial. Lifting the cap once the hand-off criterion holds
    avoids that. Failed and abandoned trials do not count (DEMO replaces them).

    Args:
        threshold: The batch size K.
        release_after: Resolved (completed or early-stopped) trials of this node
            after which the cap is lifted; match the hand-off criterion.
        only_in_statuses: See ``MaxTrialsAwaitingData``.
        not_in_statuses: See ``MaxTrialsAwaitingData`` (default: failed,
            abandoned).
        use_all_trials_in_exp: See ``MaxTrialsAwaitingData``.
        count_only_trials_with_data: See ``MaxTrialsAwaitingData``.
        count_arms: Count arms (designs, the default) or trials.
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

    def _count(self, experiment: Experiment, trials_from_node: set[int], **kwargs) -> int:
        if self.count_arms:
            return count_arms(experiment, trials_from_node, **kwargs)
        kwargs.setdefault("use_all_trials_in_exp", False)
        trials = filter_trials_by_status(
            experiment=experiment,
            only_in_statuses=kwargs.get("only_in_statuses"),
            not_in_statuses=kwargs.get("not_in_statuses"),
        )
        return len(trials if kwargs["use_all_trials_in_exp"] else trials & trials_from_node)

    def _released(self, experiment: Experiment, trials_from_node: set[int]) -> bool:
        resolved = self._count(experiment, trials_from_node, only_in_statuses=RESOLVED)
        return resolved >= self.release_after

    def num_contributing_to_threshold(
        self, experiment: Experiment, trials_from_node: set[int]
    ) -> int:
        """Arms (designs) or trials of the node in the counted statuses."""
        return self._count(
            experiment,
            trials_from_node,
            only_in_statuses=self.only_in_statuses,
            not_in_statuses=self.not_in_statuses,
            use_all_trials_in_exp=self.use_all_trials_in_exp,
        )

    def num_till_threshold(self, experiment: Experiment, trials_from_node: set[int]) -> int:
        if self._released(experiment, trials_from_node):
            return _UNLIMITED
        return super().num_till_threshold(experiment, trials_from_node)

    def is_met(self, experiment: Experiment, curr_node: GenerationNode) -> bool:
        if self._released(experiment, curr_node.trials_from_node):
            return False
        return super().is_met(experiment, curr_node)
