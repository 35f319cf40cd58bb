"""The DEMO node's criteria count designs (arms), not trials."""

from __future__ import annotations

import logging

import pytest
from ax.exceptions.core import DataRequiredError
from ax.generation_strategy.generation_strategy import GenerationStrategy

from botorch_demo.ax import attach_offline_data, demo_node
from botorch_demo.ax._ax_private import client_experiment


def test_batch_trials_count_designs_not_trials(make_tf8_client, tf8_frame, ax_smoke) -> None:
    experiment = client_experiment(make_tf8_client())
    attach_offline_data(experiment, tf8_frame(300))
    strategy = GenerationStrategy(name="DEMO", nodes=[demo_node(batch_size=8, seed=0, **ax_smoke)])
    ((first,),) = strategy.gen(experiment=experiment, n=6)
    experiment.new_batch_trial(generator_run=first).mark_running(no_runner_required=True)
    ((second,),) = strategy.gen(experiment=experiment, n=6)
    assert [len(first.arms), len(second.arms)] == [6, 2]  # 8 designs, not 12.
    experiment.new_batch_trial(generator_run=second).mark_running(no_runner_required=True)
    with pytest.raises(DataRequiredError):
        strategy.gen(experiment=experiment, n=6)
    generator = strategy.nodes_by_name["DEMO"].generator_specs[0].fitted_adapter.generator
    assert generator.num_trainings == 1
    # Training is done in fit, so Ax books it as fit time, not generation time.
    adapter = strategy.nodes_by_name["DEMO"].generator_specs[0].fitted_adapter
    assert adapter.fit_time >= generator.last_training_seconds


def test_a_capped_batch_trial_is_not_reported_as_repeats(
    make_tf8_client, tf8_frame, ax_smoke, caplog
) -> None:
    experiment = client_experiment(make_tf8_client())
    attach_offline_data(experiment, tf8_frame(100))
    strategy = GenerationStrategy(name="DEMO", nodes=[demo_node(batch_size=4, seed=0, **ax_smoke)])
    ((first,),) = strategy.gen(experiment=experiment, n=3)
    experiment.new_batch_trial(generator_run=first).mark_running(no_runner_required=True)
    with caplog.at_level(logging.WARNING):
        ((second,),) = strategy.gen(experiment=experiment, n=3)
    assert len(second.arms) == 1  # The batch of 4 had one design left.
    assert not [r for r in caplog.records if "repeats" in r.getMessage()]
