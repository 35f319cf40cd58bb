"""Strategy presets: the subset policy, the qEI baseline and the DEMO hand-off."""

from __future__ import annotations

import unittest

import pytest
import torch
from ax_helpers import SMOKE, complete_all, design, offline_frame, tf8_client

from botorch_demo.ax import (
    attach_offline_data,
    demo_generation_strategy,
    qei_generation_strategy,
    training_subset,
)


class TestTrainingSubset(unittest.TestCase):
    def test_policy_keeps_top_recent_and_random_fill(self) -> None:
        Y = torch.arange(100, dtype=torch.double).unsqueeze(-1)
        trials = torch.arange(100)
        rows = training_subset(Y, 1.0, 30, n_top=10, n_recent=5, group_indices=trials, seed=0)
        self.assertEqual(rows.numel(), 30)
        self.assertTrue(set(range(90, 100)) <= set(rows.tolist()))
        # Minimising keeps the smallest values; the newest trials are kept too.
        rows = training_subset(Y, -1.0, 30, n_top=10, n_recent=5, group_indices=-trials, seed=0)
        self.assertTrue(set(range(10)) <= set(rows.tolist()))
        self.assertTrue(torch.equal(rows, training_subset(Y, -1.0, 30, 10, 5, -trials, 0)))
        self.assertFalse(torch.equal(rows, training_subset(Y, -1.0, 30, 10, 5, -trials, 1)))
        self.assertEqual(training_subset(Y, 1.0, 200, 10).numel(), 100)


class TestStrategies(unittest.TestCase):
    def test_qei_baseline_batch_is_new_and_distinct(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(1000))
        offline = {design(a.parameters) for a in client._experiment.arms_by_name.values()}
        client.set_generation_strategy(qei_generation_strategy(batch_size=16, max_points=60))
        trials = client.get_next_trials(max_trials=16)
        designs = [design(p) for p in trials.values()]
        self.assertEqual(len(set(designs)), 16)
        self.assertFalse(set(designs) & offline)
        generator = client._generation_strategy.adapter.generator
        self.assertEqual(len(generator.surrogate.training_data[0].X), 60)
        runs = [client._experiment.trials[i].generator_runs[0] for i in trials]
        self.assertTrue(
            all(r.gen_metadata["batch_selection"] == "kriging_believer_log_ei" for r in runs)
        )

    @pytest.mark.slow
    def test_handoff_counts_only_demo_trials(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(500))
        client.set_generation_strategy(
            demo_generation_strategy(
                batch_size=4, min_completed=3, max_points=40, online_batch_size=2, **SMOKE
            )
        )
        strategy = client._generation_strategy
        # 500 completed offline trials do not count towards the hand-off.
        demo = client.get_next_trials(max_trials=10)
        self.assertEqual(len(demo), 4)
        indices = sorted(demo)
        complete_all(client, {i: demo[i] for i in indices[:2]})
        client.mark_trial_failed(indices[2])
        # 2 of 3 results in, one failed: DEMO replaces the failed trial.
        again = client.get_next_trials(max_trials=10)
        self.assertEqual(len(again), 1)
        self.assertEqual(strategy.current_node_name, "DEMO")
        complete_all(client, again)
        # 3 results in: the first call after the hand-off gets all it asks for.
        online = client.get_next_trials(max_trials=2)
        self.assertEqual(len(online), 2)
        self.assertEqual(strategy.current_node_name, "GP_qLogNEI")


if __name__ == "__main__":
    unittest.main()
