"""The DEMO generator behind Ax: one batch, direction, predictions, best point,
seed and arguments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ax.exceptions.core import DataRequiredError, UserInputError
from ax.generation_strategy.generation_node import GenerationNode
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.generation_strategy.generator_spec import GeneratorSpec

import botorch_demo.ax.generator as generator_module
from botorch_demo.ax import (
    DEMOGenerator,
    DEMOGenerators,
    attach_offline_data,
    demo_generation_strategy,
)
from botorch_demo.ax._ax_private import (
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)

K = 16


@pytest.fixture
def demo_client(make_tf8_client, tf8_frame, ax_smoke):
    """A TF8 client with ``n_offline`` offline designs and a DEMO strategy of K."""

    def build(n_offline: int, minimize: bool = False, **strategy_kwargs):
        client = make_tf8_client(minimize=minimize)
        attach_offline_data(client, tf8_frame(n_offline))
        kwargs = {"batch_size": K, "max_points": 40, **ax_smoke, **strategy_kwargs}
        client.set_generation_strategy(demo_generation_strategy(**kwargs))
        return client

    return build


@pytest.mark.slow
def test_batch_is_new_distinct_valid_and_generated_once(demo_client, tf8_design, caplog) -> None:
    client = demo_client(1500)
    experiment = client_experiment(client)
    offline = {tf8_design(a.parameters) for a in experiment.arms_by_name.values()}
    with caplog.at_level("INFO", logger=generator_module.logger.name):
        trials = client.get_next_trials(max_trials=100)  # Capped at one batch.
    logs = [r.getMessage() for r in caplog.records if r.name == generator_module.logger.name]
    assert len(trials) == K
    designs = [tf8_design(p) for p in trials.values()]
    assert len(set(designs)) == K
    assert not set(designs) & offline
    for parameters in trials.values():
        experiment.search_space.check_membership(parameters, raise_error=True)
    assert len(experiment.trials) == 1500 + K
    nodes = {generation_node_name(experiment.trials[i].generator_runs[0]) for i in trials}
    assert nodes == {"DEMO"}
    predicted = experiment.trials[min(trials)].generator_runs[0].candidate_metadata_by_arm_signature
    assert all("demo_predicted" in m for m in predicted.values())
    # The whole batch came from one training; no second batch while it is out.
    generator = client_generation_strategy(client).adapter.generator
    # The node logged what model.diagnostics reported for that generation.
    assert any("distinct raw edits" in line for line in logs), logs
    assert generator.num_trainings == 1
    with pytest.raises(DataRequiredError):
        client.get_next_trials(max_trials=1)
    assert len(experiment.trials) == 1500 + K


@pytest.mark.slow
def test_minimisation_and_predictions(demo_client, tf8_frame, complete_all) -> None:
    frame = tf8_frame(150)
    # A surrogate trained long enough to rank the offline designs.
    client = demo_client(
        150, minimize=True, config_overrides={"surrogate_epochs": 100, "diffusion_epochs": 1}
    )
    trials = client.get_next_trials(max_trials=4)
    generator = client_generation_strategy(client).adapter.generator
    assert generator.model_cache.sign == -1.0
    # Predictions come back in the metric's own units and direction.
    points = frame.drop(columns="score").to_dict("records")[:50]
    predicted = [p["score"][0] for p in client.predict(points)]
    assert np.corrcoef(predicted, frame["score"][:50])[0, 1] > 0.3
    # The SEM is the surrogate's in-sample error, the same at every point.
    sems = {p["score"][1] for p in client.predict(points[:3])}
    assert len(sems) == 1 and 0.0 < sems.pop() < float("inf")
    complete_all(client, trials)
    parameters, prediction, _, _ = client.get_best_parameterization()
    client_experiment(client).search_space.check_membership(parameters, raise_error=True)
    assert "score" in prediction


def test_generation_node_fills_a_batch_trial(
    make_tf8_client, tf8_frame, tf8_design, ax_smoke
) -> None:
    experiment = client_experiment(make_tf8_client())
    attach_offline_data(experiment, tf8_frame(300))
    offline = {tf8_design(a.parameters) for a in experiment.arms_by_name.values()}
    spec = GeneratorSpec(
        generator_enum=DEMOGenerators.DEMO, generator_kwargs={**ax_smoke, "batch_size": 8}
    )
    strategy = GenerationStrategy(
        name="DEMO only", nodes=[GenerationNode(name="DEMO", generator_specs=[spec])]
    )
    ((generator_run,),) = strategy.gen(experiment=experiment, n=8)
    trial = experiment.new_batch_trial(generator_run=generator_run)
    designs = {tf8_design(a.parameters) for a in trial.arms}
    assert len(designs) == 8
    assert not designs & offline


@pytest.mark.slow
def test_best_observed_design_is_reported(
    make_tf8_client, tf8_frame, tf8_oracle, tf8_design, ax_smoke
) -> None:
    """The best parameterization is never worse than the best observed."""
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(300))
    client.set_generation_strategy(
        demo_generation_strategy(batch_size=4, min_completed=4, **ax_smoke)
    )
    trials = client.get_next_trials(max_trials=4)
    best_index = min(trials)
    for index, parameters in trials.items():
        score = 10.0 if index == best_index else tf8_oracle(parameters)
        client.complete_trial(index, {"score": score})
    parameters, _, trial_index, _ = client.get_best_parameterization()
    assert trial_index == best_index
    assert tf8_design(parameters) == tf8_design(trials[best_index])


def test_seed_none_follows_torch_manual_seed(ax_smoke) -> None:
    """DEMO's randomness follows torch's global seed when no seed is given."""
    seeds = []
    for s in (1, 1, 2):
        torch.manual_seed(s)
        seeds.append(DEMOGenerator(seed=None, **ax_smoke).seed)
    assert seeds[0] == seeds[1]
    assert seeds[0] != seeds[2]
    assert DEMOGenerator(seed=7, **ax_smoke).seed == 7


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"batch_size": 0}, "batch_size"), ({"seed": "0"}, "seed")]
)
def test_arguments_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        DEMOGenerator(**kwargs)
