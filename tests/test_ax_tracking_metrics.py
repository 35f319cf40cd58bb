"""Tracking metrics next to the objective, as with Ax's own nodes: DEMO models
only the objective (and says so), the GP nodes model every metric, and the best
point is reported under either node."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig
from ax.api.protocols.metric import IMetric

import botorch_demo.ax.generator as generator_module
from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import client_generation_strategy


def client_with_cost(n: int = 30) -> Client:
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name=f"x{i}", bounds=(0.0, 1.0), parameter_type="float")
            for i in range(2)
        ]
    )
    client.configure_optimization(objective="f")
    client.configure_metrics([IMetric(name="cost")])  # A tracking metric.
    X = np.random.default_rng(0).uniform(size=(n, 2))
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    frame["f"] = -((X - 0.3) ** 2).sum(-1)
    frame["cost"] = X.sum(-1)
    attach_offline_data(client, frame)
    return client


def complete(client: Client, trials: dict) -> None:
    for index, p in trials.items():
        client.complete_trial(
            index, {"f": -((p["x0"] - 0.3) ** 2) - (p["x1"] - 0.3) ** 2, "cost": p["x0"] + p["x1"]}
        )


@pytest.mark.slow
def test_best_point_with_a_tracking_metric_under_demo_and_gp_nodes(ax_smoke, caplog) -> None:
    client = client_with_cost()
    client.set_generation_strategy(
        demo_generation_strategy(
            batch_size=2, seed=0, max_points=40, online_batch_size=1, **ax_smoke
        )
    )
    with caplog.at_level(logging.INFO, logger=generator_module.logger.name):
        batch = client.get_next_trials(max_trials=2)
    said = [r.getMessage() for r in caplog.records if "models only the objective" in r.getMessage()]
    assert len(said) == 1 and "cost" in said[0]
    complete(client, batch)
    _, prediction, _, _ = client.get_best_parameterization()
    assert set(prediction) == {"f", "cost"}
    online = client.get_next_trials(max_trials=1)
    assert client_generation_strategy(client).current_node_name == "GP_qLogNEI"
    complete(client, online)
    _, prediction, _, _ = client.get_best_parameterization()
    assert "f" in prediction
