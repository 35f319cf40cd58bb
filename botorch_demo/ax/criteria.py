"""The pausing criterion that caps the DEMO node at one batch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ax.core.experiment import Experiment
from ax.core.trial_status import TrialStatus
from ax.generation_strategy.transition_criterion import (
    MaxTrialsAwaitingData,
    count_trials_toward_threshold,
)

if TYPE_CHECKING:
    from ax.generation_strategy.generation_node import GenerationNode

#: Statuses of a trial whose result is in.
RESOLVED: list[TrialStatus] = [TrialStatus.COMPLETED, TrialStatus.EARLY_STOPPED]

_UNLIMITED = 2**31 - 1


class DEMOBatchLimit(MaxTrialsAwaitingData):
    """At most ``threshold`` trials from the node until ``release_after`` of them
    have results; then no limit (the node hands off at that point).

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
    """

    def __init__(
        self,
        threshold: int,
        release_after: int,
        only_in_statuses: list[TrialStatus] | None = None,
        not_in_statuses: list[TrialStatus] | None = None,
        use_all_trials_in_exp: bool = False,
        count_only_trials_with_data: bool = False,
    ) -> None:
        super().__init__(
            threshold=threshold,
            only_in_statuses=only_in_statuses,
            not_in_statuses=not_in_statuses,
            use_all_trials_in_exp=use_all_trials_in_exp,
            count_only_trials_with_data=count_only_trials_with_data,
        )
        self.release_after = release_after

    def _released(self, experiment: Experiment, trials_from_node: set[int]) -> bool:
        resolved = count_trials_toward_threshold(
            experiment=experiment,
            trials_from_node=trials_from_node,
            only_in_statuses=RESOLVED,
        )
        return resolved >= self.release_after

    def num_till_threshold(self, experiment: Experiment, trials_from_node: set[int]) -> int:
        if self._released(experiment, trials_from_node):
            return _UNLIMITED
        return super().num_till_threshold(experiment, trials_from_node)

    def is_met(self, experiment: Experiment, curr_node: GenerationNode) -> bool:
        if self._released(experiment, curr_node.trials_from_node):
            return False
        return super().is_met(experiment, curr_node)
