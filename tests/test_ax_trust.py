"""Issue 11: campaigns a team can trust (storage, constraints, one DEMO batch).

Every test runs real Ax objects (Client, Orchestrator, SQLite files); none
mocks Ax.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tempfile
import unittest
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig
from ax.api.protocols.metric import IMetric
from ax.api.protocols.runner import IRunner
from ax.core.trial_status import TrialStatus
from ax.exceptions.core import DataRequiredError, UnsupportedError, UserInputError
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax_helpers import SMOKE, complete_all, design, offline_frame, oracle, tf8_client

import botorch_demo.ax.generator as generator_module
from botorch_demo.ax import (
    DEMOGenerator,
    StorageBindingError,
    attach_offline_data,
    demo_generation_strategy,
    demo_node,
    sqlite_storage_config,
)

N_OFFLINE = 300


def _demo_trials(client: Client) -> list[int]:
    return [
        t.index
        for t in client._experiment.trials.values()
        if t.generator_runs and t.generator_runs[0]._generation_node_name == "DEMO"
    ]


class TF8Runner(IRunner):
    """Evaluates TF Bind 8 designs with the exact oracle; done at once."""

    def run_trial(self, trial_index: int, parameterization: Mapping[str, Any]) -> dict[str, Any]:
        return {"score": oracle(dict(parameterization))}

    def poll_trial(self, trial_index: int, trial_metadata: Mapping[str, Any]) -> TrialStatus:
        return TrialStatus.COMPLETED

    def stop_trial(self, trial_index: int, trial_metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {}


class ScoreMetric(IMetric):
    """Reads the score the runner stored, with a known SEM of 0."""

    def fetch(
        self, trial_index: int, trial_metadata: Mapping[str, Any]
    ) -> tuple[int, float | tuple[float, float]]:
        return 0, (float(trial_metadata["score"]), 0.0)


class TestStorageBinding(unittest.TestCase):
    """Defect 1: two SQLite files in one process must not mix campaigns."""

    def test_second_database_is_refused_and_nothing_lands_in_the_wrong_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            demo_db, qei_db = Path(tmp) / "demo.db", Path(tmp) / "qei.db"
            storage = sqlite_storage_config(demo_db, rebind=True)  # This test's own file.
            demo = tf8_client(storage_config=storage)
            attach_offline_data(demo, offline_frame(50))
            with self.assertRaisesRegex(StorageBindingError, "one database file"):
                sqlite_storage_config(qei_db)
            # The DEMO campaign keeps writing to its own file only.
            demo.set_generation_strategy(demo_generation_strategy(batch_size=4, **SMOKE))
            trials = demo.get_next_trials(max_trials=4)
            self.assertEqual(len(trials), 4)
            reloaded = Client.load_from_database("tf8", storage_config=storage)
            self.assertEqual(len(reloaded._experiment.trials), 50 + 4)
            self.assertFalse(qei_db.exists() and qei_db.stat().st_size > 0)

    def test_two_campaigns_share_one_file_each_with_its_own_trials(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "both.db"
            storage = sqlite_storage_config(path, rebind=True)
            self.assertEqual(sqlite_storage_config(path).url, storage.url)  # Same file: fine.
            demo = tf8_client(storage_config=storage, name="tf8_demo")
            qei = tf8_client(storage_config=storage, name="tf8_qei")
            attach_offline_data(demo, offline_frame(30))
            attach_offline_data(qei, offline_frame(20, seed=1))
            self.assertEqual(
                len(Client.load_from_database("tf8_demo", storage)._experiment.trials), 30
            )
            self.assertEqual(
                len(Client.load_from_database("tf8_qei", storage)._experiment.trials), 20
            )

    def test_attach_refuses_a_client_whose_database_is_not_the_bound_one(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_storage_config(Path(tmp) / "a.db", rebind=True)
            other = sqlite_storage_config(Path(tmp) / "b.db", rebind=True)
            client = tf8_client(storage_config=other)
            sqlite_storage_config(Path(tmp) / "a.db", rebind=True)  # Someone rebinds.
            with self.assertRaises(StorageBindingError):
                attach_offline_data(client, offline_frame(10))
            self.assertEqual(len(client._experiment.trials), 0)


def _boundary_client(n: int = 200) -> Client:
    """Continuous x1, x2 in [0, 1] with x1 + x2 <= 1; the optimum is on the edge."""
    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name="x1", bounds=(0.0, 1.0), parameter_type="float"),
            RangeParameterConfig(name="x2", bounds=(0.0, 1.0), parameter_type="float"),
            RangeParameterConfig(name="k", bounds=(0, 5), parameter_type="int"),
        ],
        parameter_constraints=["x1 + x2 <= 1.0", "x2 + k <= 4.5"],
    )
    client.configure_optimization(objective="f")
    rng = np.random.default_rng(0)
    x1, x2 = rng.uniform(0, 1, (2, 4 * n))
    k = rng.integers(0, 5, 4 * n)
    ok = (x1 + x2 <= 1.0) & (x2 + k <= 4.5)
    frame = pd.DataFrame({"x1": x1[ok][:n], "x2": x2[ok][:n], "k": k[ok][:n]})
    frame["f"] = 3 * frame["x1"] + 2 * frame["x2"] + frame["k"]
    attach_offline_data(client, frame)
    return client


class TestConstraintsByConstruction(unittest.TestCase):
    """Defect 2: linear constraints hold by construction, optimum on the boundary."""

    def test_every_design_satisfies_the_constraints(self) -> None:
        client = _boundary_client()
        client.set_generation_strategy(demo_generation_strategy(batch_size=12, seed=0, **SMOKE))
        trials = client.get_next_trials(max_trials=12)
        self.assertEqual(len(trials), 12)
        space = client._experiment.search_space
        for parameters in trials.values():
            space.check_membership(parameters, raise_error=True)
            self.assertLessEqual(parameters["x1"] + parameters["x2"], 1.0 + 1e-8)
            self.assertIsInstance(parameters["k"], int)
        # Edits pushed past the boundary (towards the optimum) are projected ONTO it
        # rather than rejected: some designs lie on a constraint's boundary, which
        # rejection of continuous edits never produces.
        slack = [min(1.0 - p["x1"] - p["x2"], 4.5 - p["x2"] - p["k"]) for p in trials.values()]
        self.assertGreater(sum(abs(s) < 1e-6 for s in slack), 0)


class TestOneBatchUnderTheOrchestrator(unittest.TestCase):
    """Defect 3 (and 4): Client.run_trials with a runner and metric, parallelism
    below K; the DEMO batch is trained once and counts designs."""

    def test_run_trials_trains_once_and_hands_off_after_k_designs(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(N_OFFLINE))  # sem=None: unknown noise.
        client.configure_runner(TF8Runner())
        client.configure_metrics([ScoreMetric(name="score")])
        client.set_generation_strategy(
            demo_generation_strategy(
                batch_size=6, max_points=40, online_batch_size=2, seed=0, **SMOKE
            )
        )
        client.run_trials(max_trials=8, parallelism=2, initial_seconds_between_polls=0)
        experiment = client._experiment
        nodes = [
            t.generator_runs[0]._generation_node_name
            for t in experiment.trials.values()
            if t.index >= N_OFFLINE
        ]
        # 6 DEMO designs from ONE training, then the GP (whose data mixes unknown
        # offline SEMs with the metric's 0.0: defect 4).
        self.assertEqual(nodes, ["DEMO"] * 6 + ["GP_qLogNEI"] * 2)
        generator = client._generation_strategy.nodes_by_name["DEMO"].generator_specs[0]
        self.assertEqual(generator.fitted_adapter.generator.num_trainings, 1)
        designs = [design(t.arm.parameters) for t in experiment.trials.values()]
        self.assertEqual(len(set(designs)), len(designs))
        completed = experiment.trial_indices_by_status[TrialStatus.COMPLETED]
        self.assertEqual(len(completed), N_OFFLINE + 8)

    def test_batch_trials_count_designs_not_trials(self) -> None:
        experiment = tf8_client()._experiment
        attach_offline_data(experiment, offline_frame(N_OFFLINE))
        strategy = GenerationStrategy(name="DEMO", nodes=[demo_node(batch_size=8, seed=0, **SMOKE)])
        ((first,),) = strategy.gen(experiment=experiment, n=6)
        experiment.new_batch_trial(generator_run=first).mark_running(no_runner_required=True)
        ((second,),) = strategy.gen(experiment=experiment, n=6)
        self.assertEqual([len(first.arms), len(second.arms)], [6, 2])  # 8 designs, not 12.
        experiment.new_batch_trial(generator_run=second).mark_running(no_runner_required=True)
        with self.assertRaises(DataRequiredError):
            strategy.gen(experiment=experiment, n=6)
        generator = strategy.nodes_by_name["DEMO"].generator_specs[0].fitted_adapter.generator
        self.assertEqual(generator.num_trainings, 1)
        # Training is done in fit, so Ax books it as fit time, not generation time.
        adapter = strategy.nodes_by_name["DEMO"].generator_specs[0].fitted_adapter
        self.assertGreaterEqual(adapter.fit_time, generator.last_training_seconds)


class TestMixedSEM(unittest.TestCase):
    """Defect 4: offline rows without SEM, online results with sem=0.0."""

    def test_gp_node_after_demo_accepts_partly_known_noise(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(N_OFFLINE))
        client.set_generation_strategy(
            demo_generation_strategy(batch_size=3, max_points=40, online_batch_size=2, **SMOKE)
        )
        trials = client.get_next_trials(max_trials=3)
        for index, parameters in trials.items():
            client.complete_trial(index, {"score": (oracle(parameters), 0.0)})
        online = client.get_next_trials(max_trials=2)
        self.assertEqual(len(online), 2)
        self.assertEqual(client._generation_strategy.current_node_name, "GP_qLogNEI")


class TestBestPoint(unittest.TestCase):
    """Defect 5: the best parameterization is never worse than the best observed."""

    def test_best_observed_design_is_reported(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(N_OFFLINE))
        client.set_generation_strategy(
            demo_generation_strategy(batch_size=4, min_completed=4, **SMOKE)
        )
        trials = client.get_next_trials(max_trials=4)
        best_index = min(trials)
        for index, parameters in trials.items():
            score = 10.0 if index == best_index else oracle(parameters)
            client.complete_trial(index, {"score": score})
        parameters, _, trial_index, _ = client.get_best_parameterization()
        self.assertEqual(trial_index, best_index)
        self.assertEqual(design(parameters), design(trials[best_index]))


class TestMessages(unittest.TestCase):
    """Defects 6 and 8: errors that say what is wrong."""

    def test_no_offline_data_raises_data_required(self) -> None:
        client = tf8_client()
        client.set_generation_strategy(demo_generation_strategy(batch_size=4, **SMOKE))
        with self.assertRaisesRegex(DataRequiredError, "attach_offline_data"):
            client.get_next_trials(max_trials=2)

    def test_batch_size_and_multi_objective_messages(self) -> None:
        with self.assertRaisesRegex(UserInputError, "batch_size"):
            demo_generation_strategy(batch_size=0)
        with self.assertRaisesRegex(UserInputError, "seed"):
            DEMOGenerator(seed="0")
        client = tf8_client()
        client.configure_optimization(objective="score, -cost")
        frame = offline_frame(20)
        frame["cost"] = 1.0
        attach_offline_data(client, frame)
        client.set_generation_strategy(demo_generation_strategy(batch_size=4, **SMOKE))
        with self.assertRaises(UnsupportedError) as caught:
            client.get_next_trials(max_trials=1)
        self.assertIn("multi-objective", str(caught.exception))
        self.assertNotIn("outcome constraint", str(caught.exception))

    def test_json_without_the_plugin_import_names_the_package(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(10))
        client.set_generation_strategy(demo_generation_strategy(batch_size=4, **SMOKE))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "snapshot.json"
            client.save_to_json_file(str(path))
            code = (
                "from ax.api.client import Client\n"
                f"Client.load_from_json_file({json.dumps(str(path))})\n"
            )
            result = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
            )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("botorch_demo", result.stderr)


class TestReloadWithoutCheckpoint(unittest.TestCase):
    """Defect 7: a reload that has to retrain says so."""

    def test_retraining_after_reload_is_logged(self) -> None:
        client = tf8_client()
        attach_offline_data(client, offline_frame(N_OFFLINE))
        client.set_generation_strategy(
            demo_generation_strategy(batch_size=4, min_completed=4, seed=0, **SMOKE)
        )
        trials = client.get_next_trials(max_trials=2)
        complete_all(client, trials)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "snapshot.json"
            client.save_to_json_file(str(path))
            loaded = Client.load_from_json_file(str(path))
        with self.assertLogs(generator_module.logger.name, level=logging.WARNING) as logs:
            more = loaded.get_next_trials(max_trials=4)
        self.assertEqual(len(more), 2)  # The rest of the batch of 4 designs.
        self.assertIn("checkpoint_dir", "\n".join(logs.output))


class TestSeed(unittest.TestCase):
    """DEMO's randomness follows torch's global seed when no seed is given."""

    def test_seed_none_follows_torch_manual_seed(self) -> None:
        seeds = []
        for s in (1, 1, 2):
            torch.manual_seed(s)
            seeds.append(DEMOGenerator(seed=None, **SMOKE).seed)
        self.assertEqual(seeds[0], seeds[1])
        self.assertNotEqual(seeds[0], seeds[2])
        self.assertEqual(DEMOGenerator(seed=7, **SMOKE).seed, 7)


if __name__ == "__main__":
    unittest.main()
