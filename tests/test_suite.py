"""The robustness suite: every task's oracle, optimum, weights and offline set."""

import math

import torch
from botorch.test_functions import synthetic
from botorch.utils.testing import BotorchTestCase

from botorch_demo.tasks import SUITES, list_tasks, load_task, suite_tasks
from botorch_demo.tasks.generated import SAMPLE_SIZE, generate, sequence_model
from botorch_demo.tasks.oracles import MixedOracle
from botorch_demo.tasks.pairwise import PairwiseSequenceModel, pairwise_optimum
from botorch_demo.tasks.suite import SUITE_TASKS, space_size

ROBUSTNESS = suite_tasks("robustness")


def enumerate_space(length: int, V: int) -> torch.Tensor:
    """All V**length sequences, ``N x length`` long (the brute-force reference)."""
    return torch.cartesian_prod(*[torch.arange(V)] * length).reshape(-1, length)


class TestSuiteRegistry(BotorchTestCase):
    def test_suites_name_registered_tasks(self) -> None:
        self.assertGreaterEqual(len(ROBUSTNESS), 8)
        self.assertEqual(suite_tasks("paper"), ["tfbind8", "tfbind10", "levy"])
        self.assertEqual(sorted(SUITES), ["paper", "robustness"])
        for name in ROBUSTNESS:
            self.assertIn(name, list_tasks())
        with self.assertRaisesRegex(ValueError, "paper, robustness"):
            suite_tasks("nope")

    def test_the_suite_covers_the_required_kinds(self) -> None:
        kinds = {SUITE_TASKS[n].kind for n in ROBUSTNESS}
        self.assertEqual(kinds, {"synthetic", "sequence", "mixed"})
        dims = [SUITE_TASKS[n].dim for n in ROBUSTNESS if SUITE_TASKS[n].kind == "synthetic"]
        self.assertEqual((min(dims), max(dims)), (6, 60))
        sizes = [space_size(n) for n in ROBUSTNESS if SUITE_TASKS[n].kind == "sequence"]
        self.assertTrue(any(s >= 10_000 for s in sizes))
        self.assertTrue(any(s <= 100_000 for s in sizes))  # enumerable
        self.assertGreaterEqual(len({SUITE_TASKS[n].num_categories for n in ROBUSTNESS}), 3)

    def test_generated_tasks_take_no_data_dir(self) -> None:
        with self.assertRaisesRegex(ValueError, "generated"):
            load_task("ackley-10", data_dir="/nowhere")


class TestEverySuiteTask(BotorchTestCase):
    def test_shapes_offline_set_and_determinism(self) -> None:
        for name in ROBUSTNESS:
            with self.subTest(task=name):
                task = load_task(name)
                data = generate(name)
                n, d = task.train_X.shape
                self.assertEqual(d, SUITE_TASKS[name].dim)
                self.assertEqual(task.train_X.dtype, torch.float64)
                self.assertEqual(task.train_Y.shape, (n, 1))
                self.assertEqual(task.train_Y.dtype, torch.float64)
                self.assertEqual(task.bounds.shape, (2, d))
                # the oracle reproduces the offline labels exactly
                self.assertTrue(torch.equal(task.oracle(task.train_X), task.train_Y))
                # the offline set is the worse half of the seeded sample
                self.assertEqual(task.info.n_full, data.X.shape[0])
                self.assertGreaterEqual(data.X.shape[0], SAMPLE_SIZE - 10)
                median = data.Y.quantile(0.5)
                self.assertTrue((task.train_Y <= median).all())
                self.assertEqual(n, int((data.Y <= median).sum()))
                self.assertLess(task.train_Y.max(), data.Y.max())
                # everything comes from the seed
                again = load_task(name)
                self.assertTrue(torch.equal(again.train_X, task.train_X))
                self.assertEqual((again.y_min, again.y_max), (task.y_min, task.y_max))
                # designs lie in the box, categorical columns hold integers
                self.assertTrue(
                    ((task.train_X >= task.bounds[0]) & (task.train_X <= task.bounds[1])).all()
                )
                for col, V in task.categorical_features.items():
                    column = task.train_X[:, col]
                    self.assertTrue(torch.equal(column, column.round()))
                    self.assertEqual(float(task.bounds[1, col]), V - 1)
                # normalisation: the optimum scores exactly 1 (up to the rounding
                # of the literature optima), the sample lies in [0, 1]
                self.assertAlmostEqual(
                    float(task.normalize(data.oracle(data.optimum))), 1.0, places=5
                )
                normalised = task.normalize(data.Y)
                self.assertGreaterEqual(float(normalised.min()), 0.0)
                self.assertLess(float(normalised.max()), 1.0 + 1e-9)
                self.assertIn("Normalisation", task.info.provenance)

    def test_synthetic_optima_match_botorch(self) -> None:
        for name in ROBUSTNESS:
            spec = SUITE_TASKS[name]
            if spec.kind != "synthetic":
                continue
            with self.subTest(task=name):
                fn = getattr(synthetic, spec.function)(dim=spec.dim)
                task = load_task(name)
                self.assertEqual(task.y_max, -fn.optimal_value)
                x = fn.optimizers[:1].to(torch.float64)
                self.assertAlmostEqual(float(task.oracle(x)), -fn.optimal_value, places=4)
                # maximised: a random design scores below the optimum
                self.assertTrue((task.train_Y < task.y_max).all())
                self.assertEqual(task.y_min, float(generate(name).Y.min()))

    def test_known_values(self) -> None:
        # Closed forms checked independently of BoTorch.
        task = load_task("ackley-10")
        x = torch.full((1, 10), 1.0, dtype=torch.float64)
        ackley = (
            -20 * math.exp(-0.2 * 1.0) - math.exp(math.cos(2 * math.pi)) + 20 + math.e
        )  # at x = 1: sqrt(mean(x^2)) = 1, mean(cos(2 pi x)) = 1
        self.assertAlmostEqual(float(task.oracle(x)), -ackley, places=10)
        task = load_task("rastrigin-20")
        x = torch.zeros(1, 20, dtype=torch.float64)
        x[0, 0] = 1.0  # one coordinate at 1: 10 + 1 - 10 cos(2 pi) = 1
        self.assertAlmostEqual(float(task.oracle(x)), -1.0, places=10)

    def test_oracles_reject_bad_designs(self) -> None:
        seq = load_task("seq-l8-v4")
        with self.assertRaisesRegex(ValueError, "0..3"):
            seq.oracle(torch.full((1, 8), 4.0))
        with self.assertRaisesRegex(ValueError, "integer"):
            seq.oracle(torch.full((1, 8), 0.5))
        mixed = load_task("mixed-10")
        good = mixed.train_X[:1].clone()
        bad = good.clone()
        bad[0, 0] = 1.5
        with self.assertRaisesRegex(ValueError, r"\[0, 1\]"):
            mixed.oracle(bad)
        bad = good.clone()
        bad[0, -1] = 0.5
        with self.assertRaisesRegex(ValueError, "categorical"):
            mixed.oracle(bad)
        with self.assertRaisesRegex(ValueError, "n x 10"):
            mixed.oracle(good[:, :9])
        ackley = load_task("ackley-10")
        with self.assertRaisesRegex(ValueError, "must lie in"):
            ackley.oracle(torch.full((1, 10), 40.0))

    def test_oracles_follow_the_device_and_return_float64(self) -> None:
        for name in ("hartmann-6", "seq-l12-v4", "mixed-10"):
            task = load_task(name)
            y = task.oracle(task.train_X[:5].to(self.device, torch.float32))
            self.assertEqual(
                (y.shape, y.dtype, y.device.type), ((5, 1), torch.float64, self.device.type)
            )


class TestSequenceModels(BotorchTestCase):
    def test_weights_come_from_the_seed(self) -> None:
        a = PairwiseSequenceModel.from_seed(10, 4, 3, seed=7)
        b = PairwiseSequenceModel.from_seed(10, 4, 3, seed=7)
        c = PairwiseSequenceModel.from_seed(10, 4, 3, seed=8)
        for x, y in ((a.unary, b.unary), (a.pairs, b.pairs), (a.pair_weights, b.pair_weights)):
            self.assertTrue(torch.equal(x, y))
        self.assertFalse(torch.equal(a.unary, c.unary))
        # neighbours, then long-range pairs at least 3 apart
        self.assertEqual(a.pairs[:9].tolist(), [[i, i + 1] for i in range(9)])
        self.assertEqual(a.pairs.shape, (12, 2))
        self.assertTrue(((a.pairs[9:, 1] - a.pairs[9:, 0]) >= 3).all())
        # the global RNG is not touched
        torch.manual_seed(0)
        expected = torch.rand(1)
        torch.manual_seed(0)
        PairwiseSequenceModel.from_seed(10, 4, 3, seed=7)
        self.assertTrue(torch.equal(torch.rand(1), expected))
        with self.assertRaisesRegex(ValueError, "num_long_range"):
            PairwiseSequenceModel.from_seed(4, 4, 5, seed=0)

    def test_score_is_the_sum_of_the_weights(self) -> None:
        m = PairwiseSequenceModel.from_seed(5, 3, 1, seed=3)
        x = torch.tensor([[0, 2, 1, 1, 0]])
        expected = sum(float(m.unary[i, x[0, i]]) for i in range(5))
        for p, (i, j) in enumerate(m.pairs.tolist()):
            expected += float(m.pair_weights[p, x[0, i], x[0, j]])
        self.assertAlmostEqual(float(m(x)), expected, places=12)

    def test_variable_elimination_is_exact(self) -> None:
        for length, V, n_long, seed in ((6, 4, 3, 0), (7, 3, 4, 1), (5, 5, 2, 2), (8, 2, 6, 3)):
            m = PairwiseSequenceModel.from_seed(length, V, n_long, seed)
            y = m(enumerate_space(length, V))
            for maximize, reference in ((True, y.max()), (False, y.min())):
                value, tokens = pairwise_optimum(m, maximize)
                self.assertAlmostEqual(value, float(reference), places=10)
                self.assertAlmostEqual(float(m(tokens[None])), float(reference), places=10)

    def test_enumerable_tasks_have_exact_normalisers(self) -> None:
        for name in ("seq-l6-v5", "seq-l8-v4"):
            task = load_task(name)
            spec = SUITE_TASKS[name]
            y = task.oracle(enumerate_space(spec.dim, spec.num_categories).to(torch.float64))
            self.assertEqual(task.y_max, float(y.max()))
            self.assertAlmostEqual(task.y_min, float(y.min()), places=10)
            self.assertEqual(space_size(name), y.shape[0])

    def test_large_tasks_optimum_beats_the_sample(self) -> None:
        for name in ("seq-l12-v4", "seq-l16-v8", "seq-l24-v20"):
            data = generate(name)
            self.assertEqual(float(data.oracle(data.optimum)), data.y_max)
            self.assertGreater(data.y_max, float(data.Y.max()))
            self.assertLess(data.y_min, float(data.Y.min()))

    def test_mixed_optimum_and_structure(self) -> None:
        task = load_task("mixed-10")
        data = generate("mixed-10")
        self.assertIsInstance(data.oracle, MixedOracle)
        self.assertEqual(task.categorical_features, {6: 5, 7: 5, 8: 5, 9: 5})
        model = sequence_model(SUITE_TASKS["mixed-10"])
        value, tokens = pairwise_optimum(model)
        self.assertAlmostEqual(task.y_max, value, places=12)
        # moving the continuous part off the centre lowers the score
        off = data.optimum.clone()
        off[0, 0] = off[0, 0] + 0.1
        self.assertLess(float(data.oracle(off)), task.y_max)
        # the best categorical part with its own centre scores y_max
        self.assertTrue(torch.equal(data.optimum[0, 6:].long(), tokens))
