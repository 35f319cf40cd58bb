"""JSON and SQLite round trips of DEMO campaigns, including a killed campaign."""

from __future__ import annotations

import json
import tempfile
import unittest
from pathlib import Path

import pytest
from ax.api.client import Client
from ax.core.trial_status import TrialStatus
from ax.exceptions.core import DataRequiredError
from ax.storage.json_store.decoder import object_from_json
from ax.storage.json_store.encoder import object_to_json
from ax_helpers import SMOKE, complete_all, design, offline_frame, tf8_client

from botorch_demo.ax import (
    DEMOBatchLimit,
    attach_offline_data,
    demo_generation_strategy,
    qei_generation_strategy,
    register,
    sqlite_storage_config,
)

K = 8
N_OFFLINE = 600


def _strategy(checkpoint_dir: str | None = None):
    return demo_generation_strategy(
        batch_size=K, max_points=40, online_batch_size=4, checkpoint_dir=checkpoint_dir, **SMOKE
    )


def _designs(client: Client) -> list[tuple[str, ...]]:
    return [design(t.arm.parameters) for t in client._experiment.trials.values()]


class TestStorage(unittest.TestCase):
    def test_register_is_idempotent_and_strategies_encode(self) -> None:
        register()
        register()
        for strategy in (_strategy(), qei_generation_strategy()):
            decoded = object_from_json(json.loads(json.dumps(object_to_json(strategy))))
            self.assertEqual([n.name for n in decoded._nodes], [n.name for n in strategy._nodes])
            self.assertEqual(
                decoded._nodes[0].generator_specs[0].generator_kwargs,
                strategy._nodes[0].generator_specs[0].generator_kwargs,
            )
        limit = object_from_json(object_to_json(DEMOBatchLimit(threshold=5, release_after=3)))
        self.assertEqual((limit.threshold, limit.release_after), (5, 3))

    def test_json_round_trip_continues_generation(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(N_OFFLINE))
        client.set_generation_strategy(_strategy())
        trials = client.get_next_trials(max_trials=K)
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "snapshot.json")
            client.save_to_json_file(path)
            loaded = Client.load_from_json_file(path)
        self.assertEqual(loaded._generation_strategy.current_node_name, "DEMO")
        self.assertEqual(len(loaded._experiment.trials), N_OFFLINE + K)
        complete_all(loaded, trials)
        more = loaded.get_next_trials(max_trials=4)
        self.assertEqual(len(more), 4)
        self.assertEqual(loaded._generation_strategy.current_node_name, "GP_qLogNEI")
        self.assertEqual(len(set(_designs(loaded))), len(_designs(loaded)))

    @pytest.mark.slow
    def test_campaign_killed_mid_batch_resumes_from_sqlite(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            storage = sqlite_storage_config(Path(tmp) / "ax.db", rebind=True)
            client = tf8_client(storage_config=storage)
            attach_offline_data(client, offline_frame(N_OFFLINE))
            client.set_generation_strategy(_strategy(checkpoint_dir=tmp))
            first = client.get_next_trials(max_trials=K // 2)
            self.assertEqual(client._generation_strategy.adapter.generator.num_trainings, 1)
            del client  # The process dies here, results not yet in.

            client = Client.load_from_database("tf8", storage_config=storage)
            experiment = client._experiment
            self.assertEqual(len(experiment.trials), N_OFFLINE + K // 2)
            running = experiment.trial_indices_by_status[TrialStatus.RUNNING]
            self.assertEqual(running, set(first))
            # The rest of the same DEMO batch; the model comes from the checkpoint.
            second = client.get_next_trials(max_trials=K)
            self.assertEqual(len(second), K - K // 2)
            generator = client._generation_strategy.adapter.generator
            self.assertEqual((generator.num_trainings, generator.num_checkpoint_loads), (0, 1))
            with self.assertRaises(DataRequiredError):  # No second DEMO batch.
                client.get_next_trials(max_trials=K)
            del client

            client = Client.load_from_database("tf8", storage_config=storage)
            self.assertEqual(len(client._experiment.trials), N_OFFLINE + K)
            complete_all(client, {**first, **second})
            online = client.get_next_trials(max_trials=4)
            self.assertEqual(len(online), 4)
            del client

            client = Client.load_from_database("tf8", storage_config=storage)
            experiment = client._experiment
            self.assertEqual(len(experiment.trials), N_OFFLINE + K + 4)
            nodes = [
                t.generator_runs[0]._generation_node_name
                for t in experiment.trials.values()
                if t.index >= N_OFFLINE
            ]
            self.assertEqual(nodes, ["DEMO"] * K + ["GP_qLogNEI"] * 4)
            completed = experiment.trial_indices_by_status[TrialStatus.COMPLETED]
            self.assertEqual(len(completed), N_OFFLINE + K)
            self.assertEqual(len(experiment.lookup_data().df), N_OFFLINE + K)
            self.assertEqual(len(set(_designs(client))), len(_designs(client)))


if __name__ == "__main__":
    unittest.main()
