"""The DEMO node's adapter: clear errors for problems DEMO cannot handle."""

from __future__ import annotations

import pytest
from ax.exceptions.core import DataRequiredError, UnsupportedError

from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import client_experiment


def test_no_offline_data_raises_data_required(make_tf8_client, ax_smoke) -> None:
    client = make_tf8_client()
    client.set_generation_strategy(demo_generation_strategy(batch_size=4, **ax_smoke))
    with pytest.raises(DataRequiredError, match="attach_offline_data"):
        client.get_next_trials(max_trials=2)


def test_multi_objective_message_names_the_problem(make_tf8_client, tf8_frame, ax_smoke) -> None:
    client = make_tf8_client()
    client.configure_optimization(objective="score, -cost")
    frame = tf8_frame(20)
    frame["cost"] = 1.0
    attach_offline_data(client, frame)
    client.set_generation_strategy(demo_generation_strategy(batch_size=4, **ax_smoke))
    with pytest.raises(UnsupportedError) as caught:
        client.get_next_trials(max_trials=1)
    assert "multi-objective" in str(caught.value)
    assert "outcome constraint" not in str(caught.value)


@pytest.mark.parametrize(
    ("objective", "constraints", "message"),
    [("score", ["cost <= 1.5"], "outcome constraints"), ("score, -cost", None, "multi-objective")],
    ids=["outcome-constraint", "multi-objective"],
)
def test_unsupported_problems_are_refused_before_any_sobol_trial(
    objective, constraints, message, make_tf8_client, tf8_frame, ax_smoke
) -> None:
    client = make_tf8_client()
    client.configure_optimization(objective=objective, outcome_constraints=constraints)
    frame = tf8_frame(20).assign(cost=1.0)
    client.set_generation_strategy(
        demo_generation_strategy(batch_size=4, initial_sobol_trials=2, **ax_smoke)
    )
    # Attaching data to a campaign whose strategy has a DEMO node is refused ...
    with pytest.raises(UnsupportedError, match=message):
        attach_offline_data(client, frame)
    # ... and so is the first request, before the Sobol node makes a trial.
    with pytest.raises(UnsupportedError, match=message):
        client.get_next_trials(max_trials=2)
    assert len(client_experiment(client).trials) == 0
