"""Integer and ordinal search spaces: K new admissible designs whenever K exist,
and a short batch plus a hand-off when fewer exist."""

from __future__ import annotations

import itertools
import logging

import pandas as pd
import pytest
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig

import botorch_demo.ax.generator as generator_module
from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import client_experiment, client_generation_strategy


def integer_client(high: int, budget: int | None, observed: int, ax_smoke, k: int) -> Client:
    """Three integers in ``[0, high]`` (with ``x0 + x1 + x2 <= budget``), the first
    ``observed`` feasible designs attached, and a DEMO strategy of ``k``."""
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name=f"x{i}", bounds=(0, high), parameter_type="int")
            for i in range(3)
        ],
        parameter_constraints=[] if budget is None else [f"x0 + x1 + x2 <= {budget}"],
    )
    client.configure_optimization(objective="f")
    feasible = [
        p
        for p in itertools.product(range(high + 1), repeat=3)
        if budget is None or sum(p) <= budget
    ]
    frame = pd.DataFrame(feasible[:observed], columns=["x0", "x1", "x2"])
    frame["f"] = (frame["x0"] - frame["x1"] + 0.5 * frame["x2"]).astype(float)
    attach_offline_data(client, frame)
    client.set_generation_strategy(
        demo_generation_strategy(batch_size=k, seed=0, max_points=50, **ax_smoke)
    )
    return client


def designs(client: Client) -> list[tuple[int, ...]]:
    return [
        tuple(t.arm.parameters[f"x{i}"] for i in range(3))
        for t in client_experiment(client).trials.values()
    ]


@pytest.mark.parametrize(
    ("high", "budget", "observed", "k"),
    [(1, None, 5, 3), (4, 2, 5, 4), (10, 7, 76, 16)],
    ids=["binary-5-of-8", "sum-at-most-2", "sum-at-most-7"],
)
def test_k_new_designs_whenever_k_exist(high, budget, observed, k, ax_smoke) -> None:
    client = integer_client(high, budget, observed, ax_smoke, k)
    trials = client.get_next_trials(max_trials=k)
    assert len(trials) == k
    new = [tuple(p[f"x{i}"] for i in range(3)) for p in trials.values()]
    assert len(set(new)) == k
    assert not set(new) & set(designs(client)[:observed])
    space = client_experiment(client).search_space
    for parameters in trials.values():
        space.check_membership(parameters, raise_error=True)
        assert all(isinstance(parameters[f"x{i}"], int) for i in range(3))


def test_fewer_than_k_designs_are_served_then_the_node_hands_off(
    ax_smoke, caplog, complete_trials
) -> None:
    """3 of 8 binary designs are unobserved and K = 4: DEMO serves the 3, says
    so once, and hands off when they are resolved (one failed)."""
    client = integer_client(1, None, 5, ax_smoke, k=4)
    with caplog.at_level(logging.INFO, logger=generator_module.logger.name):
        trials = client.get_next_trials(max_trials=4)
    assert len(trials) == 3
    short = [r for r in caplog.records if "admissible designs" in r.getMessage()]
    assert len(short) == 1, [r.getMessage() for r in caplog.records]
    indices = sorted(trials)
    client.mark_trial_failed(indices[0])
    complete_trials(client, {i: trials[i] for i in indices[1:]})
    # Two completed plus one given up: every design of the space is resolved.
    online = client.get_next_trials(max_trials=1)
    assert client_generation_strategy(client).current_node_name == "GP_qLogNEI"
    # The online node may retry the failed design; nothing else is left.
    assert [tuple(p[f"x{i}"] for i in range(3)) for p in online.values()] == [
        tuple(trials[indices[0]][f"x{i}"] for i in range(3))
    ]
