"""A DEMO batch from serving to hand-off: given-up designs replaced, the hand-off
counting resolved designs, and DEMO as the last node serving a batch per round."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ax.adapter.registry import Generators
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig
from ax.benchmark.benchmark import benchmark_replication
from ax.benchmark.benchmark_method import BenchmarkMethod
from ax.benchmark.problems.registry import get_benchmark_problem
from ax.generation_strategy.generation_node import GenerationNode
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.generation_strategy.generator_spec import GeneratorSpec

from botorch_demo.ax import attach_offline_data, demo_node, sobol_node
from botorch_demo.ax._ax_private import (
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)


def quadratic_client(n: int = 30) -> Client:
    """Two floats in [0, 1], objective ``f`` = -||x - 0.3||^2, ``n`` offline rows."""
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name=f"x{i}", bounds=(0.0, 1.0), parameter_type="float")
            for i in range(2)
        ]
    )
    client.configure_optimization(objective="f")
    X = np.random.default_rng(0).uniform(size=(n, 2))
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    frame["f"] = -((X - 0.3) ** 2).sum(-1)
    attach_offline_data(client, frame)
    return client


def node_generator(client: Client, name: str = "DEMO"):
    spec = client_generation_strategy(client).nodes_by_name[name].generator_specs[0]
    return spec.fitted_adapter.generator


def run_metadata(client: Client, index: int) -> dict:
    return client_experiment(client).trials[index].generator_runs[0].gen_metadata


def demo_then_sobol(batch_size: int, ax_smoke: dict) -> GenerationStrategy:
    """A DEMO batch handing off to Ax's Sobol node (quick to generate from)."""
    sobol = GenerationNode(
        name="Sobol", generator_specs=[GeneratorSpec(generator_enum=Generators.SOBOL)]
    )
    demo = demo_node(batch_size=batch_size, seed=0, transition_to="Sobol", **ax_smoke)
    return GenerationStrategy(name="DEMO+Sobol", nodes=[demo, sobol])


def test_an_abandoned_design_is_replaced_from_the_same_model(ax_smoke, complete_trials) -> None:
    client = quadratic_client()
    client.set_generation_strategy(demo_then_sobol(4, ax_smoke))
    batch = client.get_next_trials(max_trials=4)
    indices = sorted(batch)
    client.mark_trial_abandoned(indices[0])
    complete_trials(client, {i: batch[i] for i in indices[1:]})
    replacement = client.get_next_trials(max_trials=4)
    # One design replaces the abandoned one: the next unserved design of the
    # same trained model, not the abandoned design again.
    assert len(replacement) == 1
    (index,) = replacement
    assert generation_node_name(client_experiment(client).trials[index].generator_runs[0]) == (
        "DEMO"
    )
    assert replacement[index] != batch[indices[0]]
    assert (
        run_metadata(client, index)["demo_model"] == run_metadata(client, indices[1])["demo_model"]
    )
    assert node_generator(client).num_trainings == 1
    complete_trials(client, replacement)
    # Four designs with results: the node hands off.
    online = client.get_next_trials(max_trials=2)
    assert len(online) == 2
    assert client_generation_strategy(client).current_node_name == "Sobol"


def test_a_last_demo_node_retrains_on_its_results_and_serves_a_new_batch(
    ax_smoke, complete_trials
) -> None:
    client = quadratic_client()
    client.set_generation_strategy(
        GenerationStrategy(name="DEMO", nodes=[demo_node(batch_size=2, seed=0, **ax_smoke)])
    )
    first = client.get_next_trials(max_trials=5)
    assert len(first) == 2
    complete_trials(client, first)
    second = client.get_next_trials(max_trials=5)
    assert len(second) == 2
    assert not set(map(str, second.values())) & set(map(str, first.values()))
    generator = node_generator(client)
    assert generator.num_trainings == 2
    assert [run_metadata(client, i)["demo_round"] for i in sorted({**first, **second})] == [
        0,
        0,
        1,
        1,
    ]
    # The second model was trained on the offline data AND the first batch.
    assert generator.model_cache.model.train_X.shape[0] == 30 + 2


def test_the_orchestrator_runs_a_last_demo_node_to_num_trials() -> None:
    strategy = GenerationStrategy(
        name="Sobol+DEMO",
        nodes=[
            sobol_node(4, "DEMO"),
            demo_node(
                batch_size=3,
                config="smoke",
                config_overrides={"surrogate_epochs": 1, "diffusion_epochs": 1},
            ),
        ],
    )
    method = BenchmarkMethod(name="DEMO every round", generation_strategy=strategy)
    problem = get_benchmark_problem("branin", num_trials=9)
    result = benchmark_replication(problem=problem, method=method, seed=0)
    trials = sorted(result.experiment.trials.values(), key=lambda t: t.index)
    assert [generation_node_name(t.generator_runs[0]) for t in trials] == ["Sobol"] * 4 + [
        "DEMO"
    ] * 5
    assert [t.generator_runs[0].gen_metadata["demo_round"] for t in trials[4:]] == [0] * 3 + [1] * 2
    assert len(result.score_trace) == 9
