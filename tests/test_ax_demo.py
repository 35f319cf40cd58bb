"""The DEMO generator behind Ax: batches, validity, direction, caching, prediction."""

from __future__ import annotations

import tempfile
import unittest

import numpy as np
import torch
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from ax.core.search_space import SearchSpaceDigest
from ax.exceptions.core import DataRequiredError, UserInputError
from ax.generation_strategy.generation_node import GenerationNode
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.generation_strategy.generator_spec import GeneratorSpec
from ax.generators.torch_base import TorchOptConfig
from ax_helpers import SMOKE, complete_all, design, offline_frame, tf8_client
from botorch.utils.datasets import SupervisedDataset

from botorch_demo.ax import (
    DEMOGenerator,
    DEMOGenerators,
    attach_offline_data,
    demo_generation_strategy,
    resolve_demo_config,
)
from botorch_demo.ax.pool import Admissibility, candidates
from botorch_demo.exceptions import CandidateShortfallError
from botorch_demo.rows import first_occurrences

K = 16


def _demo_client(n_offline: int, minimize: bool = False, **strategy_kwargs) -> Client:
    client = tf8_client(minimize=minimize)
    attach_offline_data(client, offline_frame(n_offline))
    kwargs = {"batch_size": K, "max_points": 40, **SMOKE, **strategy_kwargs}
    client.set_generation_strategy(demo_generation_strategy(**kwargs))
    return client


class TestDEMONode(unittest.TestCase):
    def test_batch_is_new_distinct_valid_and_generated_once(self) -> None:
        client = _demo_client(1500)
        offline = {design(a.parameters) for a in client._experiment.arms_by_name.values()}
        with self.assertLogs("ax.botorch_demo.ax.generator", level="INFO") as logs:
            trials = client.get_next_trials(max_trials=100)  # Capped at one batch.
        self._logs = logs.output
        self.assertEqual(len(trials), K)
        designs = [design(p) for p in trials.values()]
        self.assertEqual(len(set(designs)), K)
        self.assertFalse(set(designs) & offline)
        for parameters in trials.values():
            client._experiment.search_space.check_membership(parameters, raise_error=True)
        experiment = client._experiment
        self.assertEqual(len(experiment.trials), 1500 + K)
        nodes = {experiment.trials[i].generator_runs[0]._generation_node_name for i in trials}
        self.assertEqual(nodes, {"DEMO"})
        predicted = (
            experiment.trials[min(trials)].generator_runs[0].candidate_metadata_by_arm_signature
        )
        self.assertTrue(all("demo_predicted" in m for m in predicted.values()))
        # The whole batch came from one training; no second batch while it is out.
        generator = client._generation_strategy.adapter.generator
        # The node logged what model.diagnostics reported for that generation.
        self.assertTrue(any("distinct raw edits" in line for line in self._logs), self._logs)
        self.assertEqual(generator.num_trainings, 1)
        with self.assertRaises(DataRequiredError):
            client.get_next_trials(max_trials=1)
        self.assertEqual(len(experiment.trials), 1500 + K)

    def test_minimisation_and_predictions(self) -> None:
        frame = offline_frame(150)
        # A surrogate trained long enough to rank the offline designs.
        client = _demo_client(
            150, minimize=True, config_overrides={"surrogate_epochs": 100, "diffusion_epochs": 1}
        )
        trials = client.get_next_trials(max_trials=4)
        generator = client._generation_strategy.adapter.generator
        self.assertEqual(generator.model_cache.sign, -1.0)
        # Predictions come back in the metric's own units and direction.
        points = frame.drop(columns="score").to_dict("records")[:50]
        predicted = [p["score"][0] for p in client.predict(points)]
        self.assertGreater(np.corrcoef(predicted, frame["score"][:50])[0, 1], 0.3)
        self.assertTrue(all(p["score"][1] == 0.0 for p in client.predict(points[:3])))
        complete_all(client, trials)
        parameters, prediction, _, _ = client.get_best_parameterization()
        client._experiment.search_space.check_membership(parameters, raise_error=True)
        self.assertIn("score", prediction)

    def test_mixed_search_space_fixed_features_and_bounds(self) -> None:
        client = Client(random_seed=0)
        client.configure_experiment(
            parameters=[
                RangeParameterConfig(name="x", bounds=(-2.0, 3.0), parameter_type="float"),
                RangeParameterConfig(
                    name="lr", bounds=(1e-4, 1e-1), parameter_type="float", scaling="log"
                ),
                RangeParameterConfig(name="k", bounds=(1, 9), parameter_type="int"),
                ChoiceParameterConfig(
                    name="size", values=[8, 16, 32, 64], parameter_type="int", is_ordered=True
                ),
                ChoiceParameterConfig(
                    name="kind", values=["a", "b", "c"], parameter_type="str", is_ordered=False
                ),
            ]
        )
        client.configure_optimization(objective="f")
        rng = np.random.default_rng(0)
        n = 200
        rows = {
            "x": rng.uniform(-2, 3, n),
            "lr": 10 ** rng.uniform(-4, -1, n),
            "k": rng.integers(1, 10, n),
            "size": rng.choice([8, 16, 32, 64], n),
            "kind": rng.choice(["a", "b", "c"], n),
        }
        score = -((rows["x"] - 1) ** 2) + (rows["kind"] == "b") + np.log10(rows["lr"]) / 4
        import pandas as pd

        frame = pd.DataFrame({**rows, "f": score})
        attach_offline_data(client, frame)
        client.set_generation_strategy(demo_generation_strategy(batch_size=8, **SMOKE))
        trials = client.get_next_trials(max_trials=3, fixed_parameters={"kind": "c"})
        self.assertEqual(len(trials), 3)
        space = client._experiment.search_space
        for parameters in trials.values():
            space.check_membership(parameters, raise_error=True)
            self.assertEqual(parameters["kind"], "c")
            self.assertIsInstance(parameters["k"], int)
            self.assertIn(parameters["size"], [8, 16, 32, 64])


class TestLowLevel(unittest.TestCase):
    def test_generation_node_fills_a_batch_trial(self) -> None:
        experiment = tf8_client()._experiment
        attach_offline_data(experiment, offline_frame(300))
        offline = {design(a.parameters) for a in experiment.arms_by_name.values()}
        spec = GeneratorSpec(
            generator_enum=DEMOGenerators.DEMO, generator_kwargs={**SMOKE, "batch_size": 8}
        )
        strategy = GenerationStrategy(
            name="DEMO only", nodes=[GenerationNode(name="DEMO", generator_specs=[spec])]
        )
        ((generator_run,),) = strategy.gen(experiment=experiment, n=8)
        trial = experiment.new_batch_trial(generator_run=generator_run)
        designs = {design(a.parameters) for a in trial.arms}
        self.assertEqual(len(designs), 8)
        self.assertFalse(designs & offline)


class TestDEMOGeneratorCaching(unittest.TestCase):
    def _inputs(self):
        frame = offline_frame(300)
        codes = frame.drop(columns="score").apply(lambda c: c.map("ACGT".index)).to_numpy()
        X = torch.tensor(codes, dtype=torch.double)
        Y = torch.tensor(frame["score"].to_numpy(), dtype=torch.double).unsqueeze(-1)
        names = list(frame.columns[:-1])
        dataset = SupervisedDataset(X=X, Y=Y, feature_names=names, outcome_names=["score"])
        digest = SearchSpaceDigest(
            feature_names=names,
            bounds=[(0, 3)] * 8,
            categorical_features=list(range(8)),
            discrete_choices={i: [0, 1, 2, 3] for i in range(8)},
        )
        config = TorchOptConfig(objective_weights=torch.tensor([[1.0]], dtype=torch.double))
        return dataset, digest, config

    def test_unchanged_data_is_not_retrained_and_checkpoint_is_reused(self) -> None:
        dataset, digest, config = self._inputs()
        with tempfile.TemporaryDirectory() as tmp:
            first = DEMOGenerator(**SMOKE, batch_size=8, checkpoint_dir=tmp)
            first.fit([dataset], digest)
            a = first.gen(4, digest, config).points
            first.fit([dataset], digest)  # Ax refits before every gen.
            b = first.gen(4, digest, config).points
            self.assertEqual(first.num_trainings, 1)
            torch.testing.assert_close(a, b)
            # A new generator (a resumed campaign) loads the checkpoint.
            second = DEMOGenerator(**SMOKE, batch_size=8, checkpoint_dir=tmp)
            second.fit([dataset], digest)
            torch.testing.assert_close(second.gen(4, digest, config).points, a)
            self.assertEqual((second.num_trainings, second.num_checkpoint_loads), (0, 1))
            # Other data or another direction is another model.
            flipped = TorchOptConfig(objective_weights=-config.objective_weights)
            second.gen(4, digest, flipped)
            self.assertEqual(second.num_trainings, 1)

    def test_shortfall_of_new_designs_asks_for_smaller_batches(self) -> None:
        class StingyDEMO:
            """Like DEMO near saturation: at most 3 new designs per call."""

            diagnostics = None  # DEMO's attribute after generate; nothing to report here.

            def generate(self, q, seed, exclude, unique, **overrides):
                if q > 3:
                    raise CandidateShortfallError("no more", requested=q, missing=1)
                g = torch.Generator().manual_seed(seed)
                return torch.randint(0, 4, (q, 8), generator=g).to(exclude), None

            def predict(self, Z):
                return Z.sum(-1, keepdim=True)

        dataset, digest, _ = self._inputs()
        generator = DEMOGenerator(**SMOKE, batch_size=8)
        generator.fit([dataset], digest)
        observed = generator._data.Z
        Z, pred = candidates(StingyDEMO(), generator._data, 8, 0, observed, Admissibility({}, None))
        self.assertEqual(Z.shape[0], 8)
        self.assertEqual(int(first_occurrences(torch.cat([observed, Z])).sum()), len(observed) + 8)
        self.assertTrue(torch.equal(pred, pred.sort(descending=True).values))

    def test_config_resolution_and_validation(self) -> None:
        base = resolve_demo_config("smoke", {"m": 300})
        self.assertEqual(base.m, 300)
        self.assertEqual(resolve_demo_config({"m": 200}).m, 200)
        with self.assertRaisesRegex(UserInputError, "preset"):
            resolve_demo_config("huge")
        with self.assertRaisesRegex(UserInputError, "Unknown DEMOConfig field"):
            resolve_demo_config("fast", {"not_a_field": 1})
        with self.assertRaisesRegex(UserInputError, "batch_size"):
            DEMOGenerator(batch_size=0)
        with self.assertRaisesRegex(UserInputError, "min_completed"):
            demo_generation_strategy(batch_size=4, min_completed=5)


if __name__ == "__main__":
    unittest.main()
