"""The offline-to-online closed loop on the full TF Bind 8 task with its oracle."""

from __future__ import annotations

import pytest
from ax.core.trial_status import TrialStatus

from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import (
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)

K = 16


@pytest.mark.slow
def test_offline_import_demo_batch_then_two_online_rounds(
    make_tf8_client, tf8_frame, tf8, tf8_oracle, tf8_design, complete_all, ax_smoke
) -> None:
    client = make_tf8_client()
    frame = tf8_frame()
    attach_offline_data(client, frame)
    n_offline = len(frame)
    client.set_generation_strategy(
        demo_generation_strategy(batch_size=K, max_points=100, online_batch_size=4, **ax_smoke)
    )
    strategy = client_generation_strategy(client)
    rounds = [client.get_next_trials(max_trials=K)]
    assert strategy.current_node_name == "DEMO"
    complete_all(client, rounds[0])
    for _ in range(2):
        rounds.append(client.get_next_trials(max_trials=4))
        assert strategy.current_node_name == "GP_qLogNEI"
        complete_all(client, rounds[-1])
    assert [len(r) for r in rounds] == [K, 4, 4]

    experiment = client_experiment(client)
    new = [t for t in experiment.trials.values() if t.index >= n_offline]
    nodes = [generation_node_name(t.generator_runs[0]) for t in new]
    assert nodes == ["DEMO"] * K + ["GP_qLogNEI"] * 8
    designs = [tf8_design(t.arm.parameters) for t in experiment.trials.values()]
    offline = set(designs[:n_offline])
    proposed = designs[n_offline:]
    assert len(set(proposed)) == len(proposed)
    assert not set(proposed) & offline
    for trial in new:
        experiment.search_space.check_membership(trial.arm.parameters, raise_error=True)
        assert trial.status == TrialStatus.COMPLETED
    # Scores come from the exact oracle; the loop found designs above D(best).
    best = max(tf8_oracle(t.arm.parameters) for t in new)
    assert best > float(tf8.train_Y.max())
