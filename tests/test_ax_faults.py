"""Ax-facing arguments, second pass: strategies check every argument at
construction; ``attach_offline_data`` refuses complex scores and non-bool
flags, and warns when the same designs are attached again."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig
from ax.exceptions.core import UserInputError

from botorch_demo.ax import attach_offline_data, demo_generation_strategy, demo_node
from botorch_demo.exceptions import DuplicateDataWarning

# case: (keyword arguments, a fragment of the message)
STRATEGY_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "min_completed 2.5": ({"batch_size": 4, "min_completed": 2.5}, "min_completed must be an int"),
    "min_completed True": ({"batch_size": 4, "min_completed": True}, "min_completed must be"),
    "min_completed '3'": ({"batch_size": 4, "min_completed": "3"}, "min_completed must be"),
    "min_completed 0": ({"batch_size": 4, "min_completed": 0}, "min_completed must be an int in"),
    "batch_size 2.0": ({"batch_size": 2.0}, "batch_size must be an int"),
    "batch_size '8'": ({"batch_size": "8"}, "batch_size must be an int"),
    "initial_sobol_trials 2.5": ({"initial_sobol_trials": 2.5}, "initial_sobol_trials must be"),
    "initial_sobol_trials True": ({"initial_sobol_trials": True}, "initial_sobol_trials must be"),
    "initial_sobol_trials -1": ({"initial_sobol_trials": -1}, "initial_sobol_trials must be"),
    "max_points 2.5": ({"max_points": 2.5}, "max_points must be an int"),
    "max_points True": ({"max_points": True}, "max_points must be an int"),
    "max_points '500'": ({"max_points": "500"}, "max_points must be an int"),
    "max_points 0": ({"max_points": 0}, "max_points must be an int >= 1"),
    "online_batch_size 0": ({"online_batch_size": 0}, "online_batch_size"),
    "seed 2.5": ({"seed": 2.5}, "seed must be an int"),
    "seed '0'": ({"seed": "0"}, "seed must be an int"),
    "seed True": ({"seed": True}, "seed must be an int"),
    "seed negative": ({"seed": -1}, "seed must be an int in"),
    "seed 2**64": ({"seed": 2**64}, "seed must be an int in"),
    "unknown override": ({"config_overrides": {"nope": 1}}, "nope"),
    "bad override value": ({"config_overrides": {"m": -5}}, "config / config_overrides"),
    "overrides a list": ({"config_overrides": [("m", 5)]}, "config_overrides must be a dict"),
    "unknown online kwarg": (
        {"online_generator_kwargs": {"n_tops": 3}},
        "online_generator_kwargs has unknown argument(s) ['n_tops']",
    ),
    "online kwargs a list": ({"online_generator_kwargs": [1]}, "online_generator_kwargs must"),
    "online n_top 2.5": ({"online_generator_kwargs": {"n_top": 2.5}}, "n_top"),
    "online repeats max_points": (
        {"online_generator_kwargs": {"max_points": 10}},
        "repeats ['max_points']",
    ),
    "unknown preset": ({"config": "turbo"}, "turbo"),
}


@pytest.mark.parametrize("case", sorted(STRATEGY_CASES))
def test_demo_generation_strategy_checks_arguments_at_construction(case: str) -> None:
    kwargs, fragment = STRATEGY_CASES[case]
    with pytest.raises(UserInputError) as info:
        demo_generation_strategy(**kwargs)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"min_completed": 2.5}, {"seed": "1"}, {"config_overrides": {"m": -1}}, {"batch_size": True}],
)
def test_demo_node_checks_arguments_at_construction(kwargs: dict) -> None:
    with pytest.raises(UserInputError, match=next(iter(kwargs)).split("_")[0]):
        demo_node(**{"batch_size": 4, **kwargs})


def test_numpy_ints_are_ints() -> None:
    strategy = demo_generation_strategy(
        batch_size=np.int64(4), min_completed=np.int32(2), max_points=np.int64(50), seed=3
    )
    assert len(strategy._nodes) == 2


# ------------------------------------------------------------- attach
@pytest.fixture
def client() -> Client:
    client = Client()
    client.configure_experiment(
        name="faults",
        parameters=[RangeParameterConfig(name="x", parameter_type="float", bounds=(0, 1))],
    )
    client.configure_optimization(objective="y")
    return client


FRAME = pd.DataFrame({"x": [0.1, 0.5, 0.9], "y": [1.0, 2.0, 3.0]})

ATTACH_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "complex column": (
        {"data": pd.DataFrame({"x": [0.1, 0.5], "y": [1 + 2j, 2 + 0j]})},
        "holds complex numbers",
    ),
    "complex scores array": (
        {"data": np.array([[0.1], [0.5]]), "scores": np.array([1 + 1j, 2 + 0j])},
        "`scores` must be real numbers",
    ),
    "string scores": ({"data": np.array([[0.1]]), "scores": ["a"]}, "`scores` must be real"),
    "as_batch_trial 'yes'": ({"data": FRAME, "as_batch_trial": "yes"}, "`as_batch_trial` must"),
    "as_batch_trial 1": ({"data": FRAME, "as_batch_trial": 1}, "`as_batch_trial` must"),
}


@pytest.mark.parametrize("case", sorted(ATTACH_CASES))
def test_attach_refuses_bad_input_and_leaves_the_experiment_unchanged(
    case: str, client: Client
) -> None:
    kwargs, fragment = ATTACH_CASES[case]
    with pytest.raises(UserInputError) as info:
        attach_offline_data(client, **kwargs)
    assert fragment in str(info.value)
    assert len(client._experiment.trials) == 0


def test_attaching_the_same_frame_twice_warns(client: Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateDataWarning)
        first = attach_offline_data(client, FRAME)
    with pytest.warns(DuplicateDataWarning, match="3 of the 3 designs"):
        second = attach_offline_data(client, FRAME)
    assert len(first) == len(second) == 3
