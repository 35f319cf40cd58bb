"""DEMO under Ax's orchestration (``Client.run_trials`` with a runner and a
metric, parallelism below K): one training, one batch of K designs, hand-off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from ax.api.protocols.metric import IMetric
from ax.api.protocols.runner import IRunner
from ax.core.trial_status import TrialStatus

from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import (
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)

N_OFFLINE = 300


@pytest.fixture
def tf8_runner(tf8_oracle) -> IRunner:
    class TF8Runner(IRunner):
        """Evaluates TF Bind 8 designs with the exact oracle; done at once."""

        def run_trial(
            self, trial_index: int, parameterization: Mapping[str, Any]
        ) -> dict[str, Any]:
            return {"score": tf8_oracle(dict(parameterization))}

        def poll_trial(self, trial_index: int, trial_metadata: Mapping[str, Any]) -> TrialStatus:
            return TrialStatus.COMPLETED

        def stop_trial(self, trial_index: int, trial_metadata: Mapping[str, Any]) -> dict[str, Any]:
            return {}

    return TF8Runner()


class ScoreMetric(IMetric):
    """Reads the score the runner stored, with a known SEM of 0."""

    def fetch(
        self, trial_index: int, trial_metadata: Mapping[str, Any]
    ) -> tuple[int, float | tuple[float, float]]:
        return 0, (float(trial_metadata["score"]), 0.0)


@pytest.mark.slow
def test_run_trials_trains_once_and_hands_off_after_k_designs(
    make_tf8_client, tf8_frame, tf8_design, tf8_runner, ax_smoke
) -> None:
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(N_OFFLINE))  # sem=None: unknown noise.
    client.configure_runner(tf8_runner)
    client.configure_metrics([ScoreMetric(name="score")])
    client.set_generation_strategy(
        demo_generation_strategy(
            batch_size=6, max_points=40, online_batch_size=2, seed=0, **ax_smoke
        )
    )
    client.run_trials(max_trials=8, parallelism=2, initial_seconds_between_polls=0)
    experiment = client_experiment(client)
    nodes = [
        generation_node_name(t.generator_runs[0])
        for t in experiment.trials.values()
        if t.index >= N_OFFLINE
    ]
    # 6 DEMO designs from ONE training, then the GP (whose data mixes unknown
    # offline SEMs with the metric's 0.0).
    assert nodes == ["DEMO"] * 6 + ["GP_qLogNEI"] * 2
    spec = client_generation_strategy(client).nodes_by_name["DEMO"].generator_specs[0]
    assert spec.fitted_adapter.generator.num_trainings == 1
    designs = [tf8_design(t.arm.parameters) for t in experiment.trials.values()]
    assert len(set(designs)) == len(designs)
    completed = experiment.trial_indices_by_status[TrialStatus.COMPLETED]
    assert len(completed) == N_OFFLINE + 8
