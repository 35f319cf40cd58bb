"""``Client.get_best_parameterization()`` whichever trial type holds the best
design: offline data imported as one-arm trials or as one ``BatchTrial``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig
from ax.core.batch_trial import BatchTrial
from ax.core.trial import Trial

from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import client_experiment, client_generation_strategy


def offline_frame(n: int = 40, minimize: bool = False) -> pd.DataFrame:
    X = np.random.default_rng(1).uniform(size=(n, 2))
    frame = pd.DataFrame(X, columns=["x0", "x1"])
    frame["f"] = -((X - 0.3) ** 2).sum(-1)
    if minimize:
        frame["f"] = -frame["f"]
    return frame


def client_for(minimize: bool = False) -> Client:
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name=f"x{i}", bounds=(0.0, 1.0), parameter_type="float")
            for i in range(2)
        ]
    )
    client.configure_optimization(objective="-f" if minimize else "f")
    return client


@pytest.mark.parametrize("minimize", [False, True], ids=["maximise", "minimise"])
def test_best_offline_design_of_a_batch_import_is_reported(ax_smoke, minimize) -> None:
    client = client_for(minimize)
    frame = offline_frame(minimize=minimize)
    indices = attach_offline_data(client, frame, as_batch_trial=True)
    best_row = frame["f"].idxmin() if minimize else frame["f"].idxmax()
    client.set_generation_strategy(demo_generation_strategy(batch_size=2, seed=0, **ax_smoke))
    batch = client.get_next_trials(max_trials=2)
    worst = float(frame["f"].max() if minimize else frame["f"].min())
    for index in batch:  # DEMO's designs do worse than the best offline one.
        client.complete_trial(index, {"f": worst})
    for use_model_predictions in (True, False):
        parameters, values, trial_index, _ = client.get_best_parameterization(
            use_model_predictions=use_model_predictions
        )
        assert parameters == {"x0": frame.loc[best_row, "x0"], "x1": frame.loc[best_row, "x1"]}
        assert "f" in values
        assert trial_index == indices[0]
    # The best offline design is a one-arm trial, the others one BatchTrial.
    experiment = client_experiment(client)
    assert [type(experiment.trials[i]) for i in indices] == [Trial, BatchTrial]
    assert sum(len(experiment.trials[i].arms) for i in indices) == len(frame)


@pytest.mark.slow
def test_best_point_under_the_gp_node_after_a_batch_import(ax_smoke, complete_trials) -> None:
    client = client_for()
    attach_offline_data(client, offline_frame(), as_batch_trial=True)
    client.set_generation_strategy(
        demo_generation_strategy(
            batch_size=2, seed=0, max_points=40, online_batch_size=1, **ax_smoke
        )
    )
    complete_trials(client, client.get_next_trials(max_trials=2))
    complete_trials(client, client.get_next_trials(max_trials=1))
    assert client_generation_strategy(client).current_node_name == "GP_qLogNEI"
    _, _, trial_index, _ = client.get_best_parameterization()
    assert isinstance(client_experiment(client).trials[trial_index], Trial)


def test_cross_validating_demo_divides_by_no_zero_sem(ax_smoke, complete_trials) -> None:
    """DEMO's predictions carry a variance (its in-sample error), so Ax's
    cross-validation before a best-point query has nothing to divide by zero."""
    client = client_for()
    attach_offline_data(client, offline_frame())
    client.set_generation_strategy(demo_generation_strategy(batch_size=2, seed=0, **ax_smoke))
    complete_trials(client, client.get_next_trials(max_trials=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _, values, _, _ = client.get_best_parameterization()
    assert "f" in values
    _, sem = client.predict([{"x0": 0.3, "x1": 0.3}])[0]["f"]
    assert sem > 0
