"""The DEMO node's adapter: clear errors for problems DEMO cannot handle."""

from __future__ import annotations

import pytest
from ax.exceptions.core import DataRequiredError, UnsupportedError

from botorch_demo.ax import attach_offline_data, demo_generation_strategy


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
