"""Strategy presets: arguments and the DEMO hand-off."""

from __future__ import annotations

import pytest
from ax.exceptions.core import UserInputError

from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import client_generation_strategy


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"batch_size": 0}, "batch_size"), ({"batch_size": 4, "min_completed": 5}, "min_completed")],
)
def test_arguments_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        demo_generation_strategy(**kwargs)


@pytest.mark.slow
def test_handoff_counts_only_demo_trials(
    make_tf8_client, tf8_frame, complete_all, ax_smoke
) -> None:
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(500))
    client.set_generation_strategy(
        demo_generation_strategy(
            batch_size=4, min_completed=3, max_points=40, online_batch_size=2, **ax_smoke
        )
    )
    strategy = client_generation_strategy(client)
    # 500 completed offline trials do not count towards the hand-off.
    demo = client.get_next_trials(max_trials=10)
    assert len(demo) == 4
    indices = sorted(demo)
    complete_all(client, {i: demo[i] for i in indices[:2]})
    client.mark_trial_failed(indices[2])
    # 2 of 3 results in, one failed: DEMO replaces the failed trial.
    again = client.get_next_trials(max_trials=10)
    assert len(again) == 1
    assert strategy.current_node_name == "DEMO"
    complete_all(client, again)
    # 3 results in: the first call after the hand-off gets all it asks for.
    online = client.get_next_trials(max_trials=2)
    assert len(online) == 2
    assert strategy.current_node_name == "GP_qLogNEI"
