"""Tests for botorch_demo.tasks: loaders, oracles, folder reader, adapter.

TF Bind 10 and the real design-bench folder are found through the environment
variable BOTORCH_DEMO_DATA (CI sets it to ../shared/data); those tests skip with
a reason when it is unset or lacks the files.
"""

from __future__ import annotations

import os
import tempfile
import time
import unittest
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from botorch_demo.tasks import (
    ENV_VAR,
    find_shards,
    list_tasks,
    load_task,
    read_design_bench_folder,
    task_from_design_bench,
)
from botorch_demo.tasks.build_data import build_tfbind8_npz
from botorch_demo.tasks.sequences import decode_codes, encode_tokens

TF8_FOLDER = "tf_bind_8-SIX6_REF_R1"
EMBEDDED_TF8 = Path(__file__).parents[1] / "botorch_demo" / "data" / "tfbind8.npz"


def shared_data_dir() -> Path | None:
    """The folder named by BOTORCH_DEMO_DATA, or None."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env and Path(env).is_dir() else None


def real_tf8_folder() -> Path | None:
    """The real design-bench TF Bind 8 folder, or None."""
    root = shared_data_dir()
    folder = root / "design_bench_data" / TF8_FOLDER if root else None
    return folder if folder is not None and folder.is_dir() else None


def embedded_tf8_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The full TF Bind 8 data as shipped (x uint8 tokens, y float32 n x 1)."""
    with np.load(EMBEDDED_TF8) as z:
        return z["x"], z["y"]


def last_row_reference(codes: np.ndarray, y: np.ndarray) -> dict[int, float]:
    """Independent last-wins map built by an explicit loop (like design-bench)."""
    table: dict[int, float] = {}
    for code, value in zip(codes.tolist(), y.reshape(-1).tolist(), strict=True):
        table[code] = value
    return table


def write_shards(folder: Path, prefix: str, x: np.ndarray, y: np.ndarray, n: int):
    """Split x, y into n design-bench shards in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (xs, ys) in enumerate(zip(np.array_split(x, n), np.array_split(y, n), strict=True)):
        np.save(folder / f"{prefix}-x-{i}.npy", xs)
        np.save(folder / f"{prefix}-y-{i}.npy", ys)


class TestRegistry(unittest.TestCase):
    def test_list_tasks(self) -> None:
        names = list_tasks()
        for name in ("tfbind8", "tfbind10", "levy", "superconductor", "ant", "dkitty"):
            self.assertIn(name, names)

    def test_unknown_task_lists_known_ones(self) -> None:
        with self.assertRaises(ValueError) as ctx:
            load_task("tfbind9")
        message = str(ctx.exception)
        self.assertIn("tfbind9", message)
        for name in ("tfbind8", "tfbind10", "levy"):
            self.assertIn(name, message)

    def test_design_bench_id_is_accepted(self) -> None:
        self.assertEqual(load_task("TFBind8-Exact-v0").info.name, "tfbind8")


class TestSequences(unittest.TestCase):
    def test_round_trip_and_big_endian(self) -> None:
        tokens = np.array([[0, 0, 0], [0, 0, 3], [1, 0, 0], [3, 3, 3]])
        codes = encode_tokens(tokens, 4)
        np.testing.assert_array_equal(codes, [0, 3, 16, 63])
        np.testing.assert_array_equal(decode_codes(codes, 4, 3), tokens)

    def test_out_of_range(self) -> None:
        with self.assertRaises(ValueError):
            encode_tokens(np.array([[0, 4]]), 4)
        with self.assertRaises(ValueError):
            decode_codes(np.array([64]), 4, 3)


class TestTFBind8(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.task = load_task("tfbind8")
        cls.x_full, cls.y_full = embedded_tf8_arrays()

    def test_sizes_and_types(self) -> None:
        t = self.task
        self.assertEqual(tuple(t.train_X.shape), (32898, 8))
        self.assertEqual(tuple(t.train_Y.shape), (32898, 1))
        self.assertEqual(t.train_X.dtype, torch.float64)
        self.assertEqual(t.train_Y.dtype, torch.float64)
        self.assertEqual(t.categorical_features, dict.fromkeys(range(8), 4))
        expected_bounds = torch.tensor([[0.0] * 8, [3.0] * 8], dtype=torch.float64)
        self.assertTrue(torch.equal(t.bounds, expected_bounds))
        self.assertTrue(torch.equal(t.train_X, t.train_X.round()))
        self.assertEqual(t.info.n_full, 65792)
        self.assertEqual((t.info.dim, t.info.n_train), (8, 32898))

    def test_d_best(self) -> None:
        self.assertAlmostEqual(self.task.d_best, 0.4393, places=4)

    def test_embedded_data_is_compact(self) -> None:
        self.assertLess(EMBEDDED_TF8.stat().st_size, 1_000_000)
        self.assertEqual(self.x_full.dtype, np.uint8)
        self.assertEqual(self.y_full.dtype, np.float32)
        self.assertEqual(self.x_full.shape, (65792, 8))

    def test_offline_rule(self) -> None:
        y = self.y_full[:, 0]
        keep = y <= np.percentile(y, 50)
        np.testing.assert_array_equal(self.task.train_X.numpy(), self.x_full[keep])
        np.testing.assert_array_equal(self.task.train_Y.numpy(), y[keep, None])

    def test_oracle_reproduces_offline_y(self) -> None:
        Y = self.task.oracle(self.task.train_X)
        self.assertEqual(Y.dtype, torch.float64)
        self.assertTrue(torch.equal(Y, self.task.train_Y))

    def test_oracle_on_all_sequences(self) -> None:
        codes = encode_tokens(self.x_full, 4)
        reference = last_row_reference(codes, self.y_full)
        all_codes = np.arange(4**8)
        X = torch.from_numpy(decode_codes(all_codes, 4, 8)).double()
        Y = self.task.oracle(X)
        expected = np.array([reference[c] for c in all_codes.tolist()])
        np.testing.assert_array_equal(Y.numpy()[:, 0], expected)
        offline = set(encode_tokens(self.task.train_X.long().numpy(), 4).tolist())
        self.assertGreater(len(set(all_codes.tolist()) - offline), 30_000)

    def test_oracle_accepts_integer_tensor_and_keeps_device(self) -> None:
        X = self.task.train_X[:5].long()
        Y = self.task.oracle(X)
        self.assertEqual(Y.device, X.device)
        self.assertTrue(torch.equal(Y, self.task.train_Y[:5]))

    def test_oracle_bad_inputs(self) -> None:
        oracle = self.task.oracle
        good = torch.zeros(2, 8, dtype=torch.float64)
        cases = [
            ("out of range", good.clone().index_fill_(1, torch.tensor([3]), 4.0)),
            ("out of range", good.clone().index_fill_(1, torch.tensor([0]), -1.0)),
            ("integer", good + 0.5),
            ("NaN", good.clone().index_fill_(1, torch.tensor([2]), float("nan"))),
            ("n x 8", torch.zeros(8)),
            ("n x 8 tensor, got shape (2, 7)", torch.zeros(2, 7)),
            ("n x 8 tensor, got shape (1, 2, 8)", torch.zeros(1, 2, 8)),
        ]
        for fragment, X in cases:
            with self.subTest(fragment), self.assertRaises(ValueError) as ctx:
                oracle(X)
            self.assertIn(fragment, str(ctx.exception))
        with self.assertRaises(TypeError):
            oracle(np.zeros((2, 8)))

    def test_normalize(self) -> None:
        t = self.task
        self.assertEqual(t.normalize(0.5), 0.5)
        y = torch.tensor([[0.0], [1.0]], dtype=torch.float32)
        self.assertTrue(torch.equal(t.normalize(y), y.double()))

    @unittest.skipIf(real_tf8_folder() is None, f"{ENV_VAR} unset or lacks TF8")
    def test_build_script_reproduces_embedded_file(self) -> None:
        root = real_tf8_folder().parent
        with tempfile.TemporaryDirectory() as tmp:
            out = build_tfbind8_npz(root, Path(tmp) / "tf8.npz")
            with np.load(out) as z:
                np.testing.assert_array_equal(z["x"], self.x_full)
                np.testing.assert_array_equal(z["y"], self.y_full)


class TestTFBind10(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        start = time.perf_counter()
        try:
            cls.task = load_task("tfbind10")
            cls.load_seconds = time.perf_counter() - start
        except FileNotFoundError as e:
            raise unittest.SkipTest(
                f"TF Bind 10 data not found (set {ENV_VAR} to the folder holding "
                f"tf_bind_10-pho4.npz): {e}"
            ) from e
        path = Path(cls.task.info.source)
        if path.suffix == ".npz":
            with np.load(path) as z:
                cls.codes, cls.y = z["codes"].astype(np.int64), z["y"][:, 0]
        else:
            x, y = read_design_bench_folder(path, "tf_bind_10")
            cls.codes, cls.y = encode_tokens(x, 4), y[:, 0]
        # Independent last-wins reference: first occurrence in the reversed array.
        uniq, first_rev = np.unique(cls.codes[::-1], return_index=True)
        cls.last_row = np.full(4**10, -1)
        cls.last_row[uniq] = cls.codes.shape[0] - 1 - first_rev
        keep = np.flatnonzero(cls.y <= np.percentile(cls.y, 50))
        cls.rows = keep[np.argsort(cls.y[keep], kind="stable")][::83][:50000]

    def test_sizes(self) -> None:
        t = self.task
        self.assertEqual(tuple(t.train_X.shape), (50000, 10))
        self.assertEqual(tuple(t.train_Y.shape), (50000, 1))
        self.assertEqual(t.categorical_features, dict.fromkeys(range(10), 4))
        self.assertEqual(t.info.n_full, 8_321_066)
        self.assertEqual(int((self.y <= np.percentile(self.y, 50)).sum()), 4_161_482)

    def test_load_time(self) -> None:
        # Spec: building the 50,000-design set from 8.3M rows takes under 20 s
        # (about 1 s and 450 MB peak RSS measured on a 2-core machine).
        self.assertLess(self.load_seconds, 20.0)

    def test_d_best_and_median(self) -> None:
        t = self.task
        self.assertAlmostEqual(t.d_best, 0.4671, places=4)
        median = float(torch.quantile(t.normalize(t.train_Y), 0.5))
        self.assertAlmostEqual(median, 0.4162, places=4)

    def test_offline_rows_follow_the_rule(self) -> None:
        rows = self.rows
        np.testing.assert_array_equal(self.task.train_Y.numpy()[:, 0], self.y[rows])
        codes = encode_tokens(self.task.train_X.long().numpy(), 4)
        np.testing.assert_array_equal(codes, self.codes[rows])

    def test_oracle_on_offline_designs(self) -> None:
        # Each sequence has 5-8 rows with different y; the exact oracle returns
        # the LAST row's y (design-bench). So it equals the offline y exactly
        # where the offline row is that last row, and the last row's y elsewhere.
        Y = self.task.oracle(self.task.train_X)[:, 0].numpy()
        codes = encode_tokens(self.task.train_X.long().numpy(), 4)
        np.testing.assert_array_equal(Y, self.y[self.last_row[codes]])
        is_last = self.last_row[codes] == self.rows
        self.assertGreater(is_last.sum(), 1000)
        np.testing.assert_array_equal(Y[is_last], self.task.train_Y.numpy()[is_last, 0])

    def test_oracle_on_all_sequences_keeps_last_duplicate(self) -> None:
        self.assertTrue((self.last_row >= 0).all())
        all_codes = np.arange(4**10)
        X = torch.from_numpy(decode_codes(all_codes, 4, 10)).double()
        Y = self.task.oracle(X)[:, 0].numpy()
        np.testing.assert_array_equal(Y, self.y[self.last_row])
        first_row = np.unique(self.codes, return_index=True)[1]
        differs = self.y[first_row] != self.y[self.last_row]
        self.assertGreater(differs.sum(), 0)
        self.assertTrue((Y[differs] != self.y[first_row][differs]).all())

    def test_missing_data_says_what_to_set(self) -> None:
        with mock.patch.dict(os.environ, {ENV_VAR: ""}):
            with self.assertRaises(FileNotFoundError) as ctx:
                load_task("tfbind10")
        self.assertIn(ENV_VAR, str(ctx.exception))
        self.assertIn("data_dir", str(ctx.exception))


class TestLevy(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        from bayeso_benchmarks import Levy

        cls.task = load_task("levy")
        cls.bayeso = Levy(dim_problem=60)

    def test_sizes(self) -> None:
        t = self.task
        self.assertEqual(tuple(t.train_X.shape), (15000, 60))
        self.assertEqual(tuple(t.train_Y.shape), (15000, 1))
        self.assertEqual(t.categorical_features, {})
        self.assertTrue(torch.equal(t.bounds[0], torch.full((60,), -10.0).double()))
        self.assertTrue(torch.equal(t.bounds[1], torch.full((60,), 10.0).double()))

    def test_d_best(self) -> None:
        self.assertAlmostEqual(self.task.d_best, 0.6125, places=4)

    def test_data_matches_bayeso_recipe(self) -> None:
        x = self.bayeso.sample_uniform(30000, seed=123).astype(np.float32)
        x = np.clip(x, -10 + 1e-6, 10 - 1e-6).astype(np.float64)
        y = -self.bayeso(x)[:, 0]
        keep = y <= np.percentile(y, 50)
        self.assertEqual(int(keep.sum()), 15000)
        np.testing.assert_array_equal(self.task.train_X.numpy(), x[keep])
        np.testing.assert_allclose(self.task.train_Y.numpy()[:, 0], y[keep], rtol=1e-13, atol=0)
        ymin, ymax = -1390.8297333608755, -363.8953536677948
        self.assertAlmostEqual(y.min(), ymin, delta=1e-9)
        self.assertAlmostEqual(y.max(), ymax, delta=1e-9)

    def test_oracle_reproduces_offline_y(self) -> None:
        Y = self.task.oracle(self.task.train_X)
        self.assertTrue(torch.equal(Y, self.task.train_Y))

    def test_oracle_matches_bayeso_on_fresh_points(self) -> None:
        x = np.random.default_rng(0).uniform(-10, 10, size=(500, 60))
        x[0] = 1.0  # global minimiser: Levy = 0
        x[1] = -10.0
        x[2] = 10.0
        Y = self.task.oracle(torch.from_numpy(x))
        np.testing.assert_allclose(Y.numpy(), -self.bayeso(x), rtol=1e-13, atol=1e-12)
        self.assertAlmostEqual(float(Y[0, 0]), 0.0, places=12)

    def test_oracle_bad_inputs(self) -> None:
        oracle = self.task.oracle
        X = torch.zeros(3, 60, dtype=torch.float64)
        for fragment, bad in {
            "[-10.0, 10.0]": X + 10.5,
            "NaN": X.clone().index_fill_(1, torch.tensor([5]), float("nan")),
            "inf": X.clone().index_fill_(1, torch.tensor([5]), float("inf")),
            "n x 60": torch.zeros(3, 59),
        }.items():
            with self.subTest(fragment), self.assertRaises(ValueError) as ctx:
                oracle(bad)
            self.assertIn(fragment, str(ctx.exception))

    def test_float32_input(self) -> None:
        X = self.task.train_X[:4].float()
        self.assertTrue(torch.equal(self.task.oracle(X), self.task.train_Y[:4]))

    def test_no_data_dir(self) -> None:
        with self.assertRaises(ValueError):
            load_task("levy", data_dir="/nonexistent")


class TestDesignBenchFolder(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.root = Path(self._tmp.name)

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def test_reads_shards_in_numeric_order(self) -> None:
        x = np.arange(24 * 3).reshape(24, 3).astype(np.float32)
        y = np.arange(24, dtype=np.float32)[:, None]
        write_shards(self.root / "toy", "toy", x, y, n=12)  # shards 0..11
        pairs = find_shards(self.root / "toy")
        self.assertEqual([p[0].name for p in pairs][9:], [f"toy-x-{i}.npy" for i in (9, 10, 11)])
        x2, y2 = read_design_bench_folder(self.root / "toy", "toy")
        np.testing.assert_array_equal(x2, x)
        np.testing.assert_array_equal(y2, y)

    def test_bad_folders(self) -> None:
        x, y = np.zeros((4, 2)), np.zeros((4, 1))
        with self.assertRaises(FileNotFoundError):
            read_design_bench_folder(self.root / "missing", "toy")
        write_shards(self.root / "gap", "toy", x, y, n=3)
        (self.root / "gap" / "toy-x-1.npy").unlink()
        (self.root / "gap" / "toy-y-1.npy").unlink()
        with self.assertRaisesRegex(ValueError, "without gaps"):
            read_design_bench_folder(self.root / "gap", "toy")
        write_shards(self.root / "noy", "toy", x, y, n=2)
        (self.root / "noy" / "toy-y-1.npy").unlink()
        with self.assertRaisesRegex(ValueError, "Missing y shard"):
            read_design_bench_folder(self.root / "noy", "toy")
        write_shards(self.root / "rows", "toy", x, y, n=1)
        np.save(self.root / "rows" / "toy-y-0.npy", np.zeros((3, 1)))
        with self.assertRaisesRegex(ValueError, "rows"):
            read_design_bench_folder(self.root / "rows", "toy")
        write_shards(self.root / "two", "a", x, y, n=1)
        write_shards(self.root / "two", "b", x, y, n=1)
        with self.assertRaisesRegex(ValueError, "prefix"):
            read_design_bench_folder(self.root / "two")

    def test_tfbind8_from_sharded_folder(self) -> None:
        x, y = embedded_tf8_arrays()
        write_shards(self.root / TF8_FOLDER, "tf_bind_8", x.astype(np.int32), y, n=3)
        task = load_task("tfbind8", data_dir=self.root)
        embedded = load_task("tfbind8")
        self.assertTrue(torch.equal(task.train_X, embedded.train_X))
        self.assertTrue(torch.equal(task.train_Y, embedded.train_Y))
        X = torch.from_numpy(decode_codes(np.arange(4**8), 4, 8)).double()
        self.assertTrue(torch.equal(task.oracle(X), embedded.oracle(X)))
        self.assertIn(TF8_FOLDER, task.info.source)

    @unittest.skipIf(real_tf8_folder() is None, f"{ENV_VAR} unset or lacks TF8")
    def test_tfbind8_from_real_folder(self) -> None:
        task = load_task("tfbind8", data_dir=real_tf8_folder().parent)
        embedded = load_task("tfbind8")
        self.assertTrue(torch.equal(task.train_X, embedded.train_X))
        self.assertTrue(torch.equal(task.train_Y, embedded.train_Y))
        self.assertAlmostEqual(task.d_best, 0.4393, places=4)

    def test_tfbind10_folder_layout(self) -> None:
        rng = np.random.default_rng(1)
        x = rng.integers(0, 4, size=(3000, 10)).astype(np.int32)
        x[2000:2100] = x[:100]  # duplicates with new scores: the later rows win
        y = rng.normal(size=(3000, 1)).astype(np.float32)
        write_shards(self.root / "tf_bind_10-pho4", "tf_bind_10", x, y, n=12)
        task = load_task("tfbind10", data_dir=self.root)
        keep = np.flatnonzero(y[:, 0] <= np.percentile(y[:, 0], 50))
        rows = keep[np.argsort(y[keep, 0], kind="stable")][::83]
        np.testing.assert_array_equal(task.train_X.numpy(), x[rows])
        np.testing.assert_array_equal(task.train_Y.numpy(), y[rows])
        codes = encode_tokens(x, 4)
        reference = last_row_reference(codes, y)
        Y = task.oracle(torch.from_numpy(x).double())[:, 0].numpy()
        np.testing.assert_array_equal(Y, [reference[c] for c in codes.tolist()])
        np.testing.assert_array_equal(Y[:100], y[2000:2100, 0])
        unseen = sorted(set(range(4**10)) - set(codes.tolist()))[:1]
        with self.assertRaisesRegex(ValueError, "no data"):
            task.oracle(torch.from_numpy(decode_codes(np.array(unseen), 4, 10)))

    def test_bad_tokens_in_folder(self) -> None:
        x = np.full((10, 8), 4, dtype=np.int32)
        write_shards(self.root / TF8_FOLDER, "tf_bind_8", x, np.zeros((10, 1)), n=1)
        with self.assertRaisesRegex(ValueError, "0..3"):
            load_task("tfbind8", data_dir=self.root)

    def test_missing_data_dir_says_what_to_set(self) -> None:
        with self.assertRaises(FileNotFoundError) as ctx:
            load_task("tfbind8", data_dir=self.root / "nowhere")
        self.assertIn("data_dir", str(ctx.exception))
        self.assertIn(TF8_FOLDER, str(ctx.exception))
        with mock.patch.dict(os.environ, {ENV_VAR: str(self.root)}):
            with self.assertRaises(FileNotFoundError) as ctx:
                load_task("superconductor")
        self.assertIn(ENV_VAR, str(ctx.exception))
        self.assertIn("data_dir", str(ctx.exception))

    def test_continuous_task_without_oracle(self) -> None:
        rng = np.random.default_rng(2)
        x = rng.normal(size=(500, 56)).astype(np.float32)
        y = rng.normal(size=(500, 1)).astype(np.float32)
        write_shards(self.root / "dkitty_morphology", "dkitty_morphology", x, y, n=2)
        with mock.patch.dict(os.environ, {ENV_VAR: str(self.root)}):
            task = load_task("dkitty")
        keep = y[:, 0] <= np.percentile(y[:, 0], 40)
        np.testing.assert_array_equal(task.train_X.numpy(), x[keep])
        self.assertEqual(task.categorical_features, {})
        self.assertFalse(task.info.has_oracle)
        self.assertEqual(tuple(task.bounds.shape), (2, 56))
        self.assertAlmostEqual(task.y_min, -880.4585)
        with self.assertRaisesRegex(NotImplementedError, "not available"):
            task.oracle(task.train_X[:2])


@unittest.skipUnless(torch.cuda.is_available(), "no CUDA device")
class TestOraclesOnCuda(unittest.TestCase):
    def test_outputs_stay_on_device(self) -> None:
        for name in ("tfbind8", "levy"):
            task = load_task(name)
            X = task.train_X[:64]
            Y = task.oracle(X.cuda())
            self.assertEqual(Y.device.type, "cuda")
            torch.testing.assert_close(Y.cpu(), task.oracle(X), rtol=1e-12, atol=1e-9)


class FakeDesignBenchTask:
    """Test double with design-bench's task interface (x, y, is_discrete, ...)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, table: np.ndarray | None):
        self.x, self.y = x, y
        self.is_discrete = table is not None
        self.num_classes = 4
        self._table = table
        self.calls = 0

    def predict(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self._table is not None:
            assert x.dtype == np.int32
            return self._table[encode_tokens(x, 4)][:, None].astype(np.float32)
        return -(x**2).sum(axis=1, keepdims=True).astype(np.float32)


class TestDesignBenchAdapter(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tf8 = load_task("tfbind8")

    def test_discrete_task(self) -> None:
        x, y = embedded_tf8_arrays()
        table = np.zeros(4**8, dtype=np.float32)
        table[encode_tokens(x, 4)] = y[:, 0]  # TF8 duplicates share their y
        x_off = self.tf8.train_X.numpy().astype(np.int32)
        y_off = self.tf8.train_Y.numpy().astype(np.float32)
        fake = FakeDesignBenchTask(x_off, y_off, table)
        task = task_from_design_bench(fake, name="TFBind8-Exact-v0")
        self.assertTrue(torch.equal(task.train_X, self.tf8.train_X))
        self.assertTrue(torch.equal(task.train_Y, self.tf8.train_Y))
        self.assertEqual(task.categorical_features, dict.fromkeys(range(8), 4))
        self.assertTrue(torch.equal(task.bounds, self.tf8.bounds))
        self.assertAlmostEqual(task.d_best, self.tf8.d_best)
        X = torch.randint(0, 4, (300, 8)).double()
        self.assertTrue(torch.equal(task.oracle(X), self.tf8.oracle(X)))
        self.assertEqual(fake.calls, 1)  # one batched call, no loop
        with self.assertRaisesRegex(ValueError, "out of range"):
            task.oracle(X + 4)

    def test_continuous_task(self) -> None:
        x = np.random.default_rng(0).uniform(-1, 1, size=(50, 5)).astype(np.float32)
        fake = FakeDesignBenchTask(x, -(x**2).sum(1, keepdims=True), None)
        task = task_from_design_bench(fake, name="custom", y_min=-5.0, y_max=0.0)
        self.assertEqual(task.categorical_features, {})
        self.assertTrue(torch.equal(task.bounds[0], task.train_X.min(0).values))
        Y = task.oracle(torch.zeros(3, 5, dtype=torch.float64))
        self.assertEqual(Y.dtype, torch.float64)
        self.assertEqual(tuple(Y.shape), (3, 1))
        self.assertEqual(task.normalize(0.0), 1.0)

    def test_bad_objects(self) -> None:
        with self.assertRaisesRegex(ValueError, "predict"):
            task_from_design_bench(object(), name="tfbind8")
        x = np.zeros((5, 3), dtype=np.float32)
        fake = FakeDesignBenchTask(x, np.zeros((5, 1)), None)
        with self.assertRaisesRegex(ValueError, "y_min and y_max"):
            task_from_design_bench(fake, name="custom")
        fake = FakeDesignBenchTask(np.zeros((5, 3, 4)), np.zeros((5, 1)), None)
        with self.assertRaisesRegex(ValueError, "map_to_integers"):
            task_from_design_bench(fake, name="tfbind8")


if __name__ == "__main__":
    unittest.main()
