"""One check per kind of argument: the same bad value gets the same error from
the strategy builders, the DEMO generator and the pool generator."""

from __future__ import annotations

import numpy as np
import pytest
from ax.exceptions.core import UserInputError

from botorch_demo.ax.arguments import bool_argument, checked_config, int_argument, seed_argument
from botorch_demo.ax.campaign_strategies import demo_pool_node
from botorch_demo.ax.generator import DEMOGenerator
from botorch_demo.ax.pool_qei import DEMOPoolGenerator
from botorch_demo.ax.strategies import demo_node
from botorch_demo.config import DEMOConfig
from botorch_demo.validation import MAX_SEED


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2.5, "n must be an int; got 2.5 (float)."),
        (3.0, "n must be an int; got 3.0 (float)."),
        (True, "n must be an int; got True (bool)."),
        ("3", "n must be an int; got '3' (str)."),
        (None, "n must be an int; got None (NoneType)."),
        (0, "n must be an int in [1, 9]; got 0."),
        (10, "n must be an int in [1, 9]; got 10."),
    ],
)
def test_int_argument_refuses_what_is_not_an_int_in_range(value, message):
    with pytest.raises(UserInputError) as err:
        int_argument(value, "n", 1, 9)
    assert str(err.value) == message


def test_int_argument_takes_numpy_ints_as_plain_ints():
    out = int_argument(np.int64(4), "n", 1)
    assert out == 4 and type(out) is int
    with pytest.raises(UserInputError, match="n must be an int >= 1; got 0"):
        int_argument(0, "n", 1)


def test_seeds_are_none_or_in_range():
    assert seed_argument(None) is None
    assert seed_argument(MAX_SEED) == MAX_SEED
    with pytest.raises(UserInputError, match=r"demo_seed must be an int in \[0, "):
        seed_argument(MAX_SEED + 1, "demo_seed")


def test_checked_config_returns_the_resolved_config_or_names_the_field():
    assert checked_config("fast", {"m": 300}) == DEMOConfig.fast(m=300)
    with pytest.raises(UserInputError, match="config_overrides must be a dict"):
        checked_config("fast", [("m", 300)])
    with pytest.raises(UserInputError, match="guidance_weight"):
        checked_config("fast", {"guidance_weight": -1.0})


SMOKE = {"config": "smoke"}


@pytest.mark.parametrize(
    ("build", "kwargs", "message"),
    [
        (DEMOGenerator, {"batch_size": 2.5}, "batch_size must be an int; got 2.5"),
        (demo_node, {"batch_size": 2.5}, "batch_size must be an int; got 2.5"),
        (DEMOGenerator, {"seed": MAX_SEED + 1}, "seed must be an int in [0, "),
        (demo_node, {"seed": MAX_SEED + 1}, "seed must be an int in [0, "),
        (DEMOGenerator, {"batch_size": 4, "min_completed": 5}, "min_completed must be an int in"),
        (DEMOPoolGenerator, {"pool_size": 0}, "pool_size must be an int >= 1; got 0"),
        (demo_pool_node, {"pool_size": 0}, "pool_size must be an int >= 1; got 0"),
        (DEMOPoolGenerator, {"demo_seed": True}, "demo_seed must be an int; got True"),
        (DEMOGenerator, {"config_overrides": {"m": -1}}, "config / config_overrides"),
        (DEMOPoolGenerator, {"config_overrides": {"m": -1}}, "config / config_overrides"),
    ],
)
def test_every_constructor_gives_the_same_message(build, kwargs, message):
    with pytest.raises(UserInputError) as err:
        build(**{**SMOKE, **kwargs})
    assert message in str(err.value)


@pytest.mark.parametrize("value", [1, 0, "yes", None, np.bool_(True)])
def test_bool_argument_takes_only_python_bools(value: object) -> None:
    with pytest.raises(UserInputError, match=r"flag must be a bool; got .*\)\."):
        bool_argument(value, "flag")
    assert bool_argument(True, "flag") is True and bool_argument(False, "flag") is False
