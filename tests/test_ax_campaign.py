"""The offline-to-online closed loop on the full TF Bind 8 task with its oracle."""

from __future__ import annotations

import unittest

import pytest
from ax.core.trial_status import TrialStatus
from ax_helpers import SMOKE, complete_all, design, offline_frame, oracle, tf8, tf8_client

from botorch_demo.ax import attach_offline_data, demo_generation_strategy

K = 16


@pytest.mark.slow
class TestTF8Campaign(unittest.TestCase):
    def test_offline_import_demo_batch_then_two_online_rounds(self) -> None:
        client = tf8_client()
        frame = offline_frame()
        attach_offline_data(client, frame)
        n_offline = len(frame)
        client.set_generation_strategy(
            demo_generation_strategy(batch_size=K, max_points=100, online_batch_size=4, **SMOKE)
        )
        strategy = client._generation_strategy
        rounds = [client.get_next_trials(max_trials=K)]
        self.assertEqual(strategy.current_node_name, "DEMO")
        complete_all(client, rounds[0])
        for _ in range(2):
            rounds.append(client.get_next_trials(max_trials=4))
            self.assertEqual(strategy.current_node_name, "GP_qLogNEI")
            complete_all(client, rounds[-1])
        self.assertEqual([len(r) for r in rounds], [K, 4, 4])

        experiment = client._experiment
        new = [t for t in experiment.trials.values() if t.index >= n_offline]
        nodes = [t.generator_runs[0]._generation_node_name for t in new]
        self.assertEqual(nodes, ["DEMO"] * K + ["GP_qLogNEI"] * 8)
        designs = [design(t.arm.parameters) for t in experiment.trials.values()]
        offline = set(designs[:n_offline])
        proposed = designs[n_offline:]
        self.assertEqual(len(set(proposed)), len(proposed))
        self.assertFalse(set(proposed) & offline)
        for trial in new:
            experiment.search_space.check_membership(trial.arm.parameters, raise_error=True)
            self.assertEqual(trial.status, TrialStatus.COMPLETED)
        # Scores come from the exact oracle; the loop found designs above D(best).
        best = max(oracle(t.arm.parameters) for t in new)
        self.assertGreater(best, float(tf8().train_Y.max()))


if __name__ == "__main__":
    unittest.main()
