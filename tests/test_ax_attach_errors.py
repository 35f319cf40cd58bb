"""attach_offline_data on bad rows: nothing is coerced, nothing is attached."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from ax.exceptions.core import UserInputError

from botorch_demo.ax import attach_offline_data

NAN = math.nan


@pytest.fixture
def experiment():
    """An experiment with an int range, a float range, an int choice and a bool choice."""
    client = Client()
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name="k", parameter_type="int", bounds=(0, 5)),
            RangeParameterConfig(name="x", parameter_type="float", bounds=(0, 1)),
            ChoiceParameterConfig(
                name="c", parameter_type="int", values=[1, 2, 3], is_ordered=True
            ),
            ChoiceParameterConfig(
                name="b", parameter_type="bool", values=[True, False], is_ordered=True
            ),
        ]
    )
    client.configure_optimization(objective="y")
    return client._experiment


GOOD_ROW = dict(k=2, x=0.5, c=1, b=True, y=1.0)
ATTACH_CASES = [
    (dict(k=2.5), "'k' are not valid", "takes integers, not booleans", "[2.5]"),
    (dict(k=True), "'k' are not valid", "takes integers", "[True]"),
    (dict(k=np.bool_(False)), "'k' are not valid", "takes integers", "[False]"),
    (dict(x=True), "'x' are not valid", "takes numbers, not booleans", "[True]"),
    (dict(c=True), "'c' are not valid", "takes integers", "[True]"),
    (dict(c=2.5), "'c' are not valid", "takes integers", "[2.5]"),
    (dict(b=1), "'b' are not valid", "takes booleans True or False", "[1]"),
    (dict(b="True"), "'b' are not valid", "takes booleans", "['True']"),
    (dict(k=9), "'k' are not valid", "range=[0, 5]", "[9]"),
    (dict(y=NAN), "Metric column 'y'", "NaN", "rows [0]"),
    (dict(y=True), "Metric column 'y'", "boolean", "rows [0]"),
]


@pytest.mark.parametrize(("change", "first", "second", "third"), ATTACH_CASES)
def test_attach_offline_data_never_coerces(
    change: dict, first: str, second: str, third: str, experiment
) -> None:
    with pytest.raises(UserInputError) as info:
        attach_offline_data(experiment, pd.DataFrame([{**GOOD_ROW, **change}]))
    for fragment in (first, second, third):
        assert fragment in str(info.value)
    assert len(experiment.trials) == 0


@pytest.mark.parametrize("sem", [True, "0.1", -1.0, NAN])
def test_attach_offline_data_rejects_bad_sem(sem: Any, experiment) -> None:
    with pytest.raises(UserInputError, match="`sem` must be a finite, non-negative float"):
        attach_offline_data(experiment, pd.DataFrame([GOOD_ROW]), sem=sem)
    assert len(experiment.trials) == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (dict(k=np.int64(3), c=np.int64(2), b=np.bool_(False)), dict(k=3, c=2, b=False)),
        (dict(k=2.0), dict(k=2)),
        (dict(x=np.float32(0.25)), dict(x=0.25)),
    ],
)
def test_attach_offline_data_accepts_integer_like_values(
    change: dict, expected: dict, experiment
) -> None:
    (index,) = attach_offline_data(experiment, pd.DataFrame([{**GOOD_ROW, **change}]))
    parameters = experiment.trials[index].arms[0].parameters
    for name, value in expected.items():
        assert parameters[name] == value and type(parameters[name]) is type(value)
