"""The DEMO model and gen_candidates_demo: API, validation, reproducibility, persistence."""

import os
import tempfile
import warnings

import torch
from botorch.exceptions import InputDataError
from botorch.exceptions.warnings import InputDataWarning
from botorch.utils.testing import BotorchTestCase

from botorch_demo import DEMO, DEMOConfig, gen_candidates_demo

CFG = DEMOConfig.smoke()


def _continuous(n: int = 300, d: int = 3, dtype=torch.float64, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    bounds = torch.tensor([[-2.0] * d, [3.0] * d], dtype=dtype)
    X = bounds[0] + (bounds[1] - bounds[0]) * torch.rand(n, d, generator=gen, dtype=dtype)
    Y = -(X - 1.0).square().sum(-1, keepdim=True)
    return X, Y, bounds


def _categorical(n: int = 300, seed: int = 0):
    """Two 4-way categorical columns and one continuous column."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.empty(n, 3, dtype=torch.float64)
    X[:, 0] = torch.randint(0, 4, (n,), generator=gen).double()
    X[:, 1] = torch.rand(n, generator=gen, dtype=torch.float64)
    X[:, 2] = torch.randint(0, 4, (n,), generator=gen).double()
    Y = (X[:, :1] == 2).double() + X[:, 1:2] - (X[:, 2:] - 1).abs()
    bounds = torch.tensor([[0.0, 0.0, 0.0], [3.0, 1.0, 3.0]], dtype=torch.float64)
    return X, Y, bounds, {0: 4, 2: 4}


class TestGenerate(BotorchTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.X, cls.Y, cls.bounds = _continuous()
        cls.model = DEMO(CFG).fit(cls.X, cls.Y, cls.bounds, seed=0)

    def test_shapes_bounds_and_dtype(self) -> None:
        cands, pred = self.model.generate(16, seed=0)
        self.assertEqual(cands.shape, (16, 3))
        self.assertEqual(pred.shape, (16,))
        self.assertEqual(cands.dtype, torch.float64)
        self.assertEqual(pred.dtype, torch.float64)
        self.assertTrue(((cands >= self.bounds[0]) & (cands <= self.bounds[1])).all())
        self.assertAllClose(pred, self.model.predict(cands).squeeze(-1))

    def test_float32_inputs_give_float32_outputs(self) -> None:
        X, Y, bounds = _continuous(dtype=torch.float32)
        cands, pred = gen_candidates_demo(X, Y, bounds, q=4, config=CFG, seed=0)
        self.assertEqual((cands.dtype, pred.dtype), (torch.float32, torch.float32))

    def test_seed_determinism(self) -> None:
        a, pa = self.model.generate(8, seed=3)
        b, pb = self.model.generate(8, seed=3)
        c, _ = self.model.generate(8, seed=4)
        self.assertTrue(torch.equal(a, b) and torch.equal(pa, pb))
        self.assertFalse(torch.equal(a, c))
        refit = DEMO(CFG).fit(self.X, self.Y, self.bounds, seed=0)
        self.assertTrue(torch.equal(refit.generate(8, seed=3)[0], a))

    def test_m_zero_returns_the_top_designs(self) -> None:
        cands, _ = self.model.generate(5, seed=0, m=0)
        top = self.Y.squeeze(-1).argsort(descending=True)[:5]
        self.assertTrue(torch.equal(cands, self.X[top]))

    def test_editing_off_samples_from_noise_and_allows_large_q(self) -> None:
        cands, _ = self.model.generate(400, seed=0, editing=False, num_steps=10)
        self.assertEqual(cands.shape, (400, 3))
        # Fresh samples, not edits of the 300 known designs: all distinct, none of
        # them a known design, spread over the space like the data (a few samples
        # clamped onto the same corner of the box may coincide).
        self.assertGreaterEqual(torch.unique(cands, dim=0).shape[0], 380)
        self.assertFalse((cands[:, None, :] == self.X[None]).all(-1).any())
        self.assertTrue((cands.std(0) > 0.3 * self.X.std(0)).all())
        with self.assertRaisesRegex(ValueError, "400"):
            self.model.generate(400, seed=0)

    def test_exclude_and_unique(self) -> None:
        # 4 columns of 4 categories: 256 possible designs, 150 of them known, so
        # plain editing often lands on known designs or repeats itself.
        gen = torch.Generator().manual_seed(0)
        grid = torch.cartesian_prod(*[torch.arange(4.0, dtype=torch.float64)] * 4)
        X = grid[torch.randperm(256, generator=gen)[:150]]
        Y = -(X - 2).abs().sum(-1, keepdim=True)
        bounds = torch.tensor([[0.0] * 4, [3.0] * 4], dtype=torch.float64)
        model = DEMO(CFG).fit(X, Y, bounds, dict.fromkeys(range(4), 4), seed=0)
        plain, _ = model.generate(32, seed=0)
        known = (plain[:, None, :] == X[None]).all(-1).any(-1)
        self.assertTrue(known.any() or torch.unique(plain, dim=0).shape[0] < 32)
        cands, _ = model.generate(32, seed=0, exclude=X, unique=True)
        self.assertEqual(cands.shape, (32, 4))
        self.assertFalse((cands[:, None, :] == X[None]).all(-1).any())
        self.assertEqual(torch.unique(cands, dim=0).shape[0], 32)
        # Re-edits raise the noise, so even m = 0 finds new designs...
        cands, _ = model.generate(8, seed=0, m=0, exclude=X, unique=True)
        self.assertFalse((cands[:, None, :] == X[None]).all(-1).any())
        # Nearly every design known: the edits keep hitting known ones, and the
        # categorical fallback (new neighbours, then the best unseen designs of the
        # enumerated space) still finds the few new designs.
        crowded = grid[torch.randperm(256, generator=gen)[:240]]
        cands, _ = model.generate(12, seed=0, exclude=crowded, unique=True)
        self.assertFalse((cands[:, None, :] == crowded[None]).all(-1).any())
        self.assertEqual(torch.unique(cands, dim=0).shape[0], 12)
        # ...unless the excluded designs cover the whole space.
        with self.assertRaisesRegex(RuntimeError, "cover most of the design space"):
            model.generate(4, seed=0, exclude=grid, max_rounds=3)

    def test_ascent_candidates_and_overrides(self) -> None:
        cands, pred = self.model.ascent_candidates(8)
        top = self.Y.squeeze(-1).argsort(descending=True)[:8]
        self.assertEqual(cands.shape, (8, 3))
        self.assertGreater(pred.mean(), self.model.predict(self.X[top]).mean())
        with self.assertRaisesRegex(ValueError, "unknown overrides \\['epochs'\\]"):
            self.model.generate(4, epochs=3)

    def test_predict_tracks_the_data(self) -> None:
        pred = self.model.predict(self.X)
        self.assertEqual(pred.shape, (300, 1))
        self.assertGreater(torch.corrcoef(torch.cat([pred, self.Y], -1).T)[0, 1].item(), 0.5)
        self.assertEqual(self.model.predict(self.X[:0]).shape, (0, 1))


class TestCategorical(BotorchTestCase):
    def test_candidates_hold_valid_categories(self) -> None:
        X, Y, bounds, cats = _categorical()
        for encoding in ("logits", "onehot"):
            cfg = CFG.replace(categorical_encoding=encoding)
            cands, _ = gen_candidates_demo(X, Y, bounds, 16, cats, cfg, seed=1)
            for j in cats:
                col = cands[:, j]
                self.assertTrue(torch.equal(col, col.round()))
                self.assertTrue(((col >= 0) & (col <= 3)).all())
            self.assertTrue(((cands[:, 1] >= 0) & (cands[:, 1] <= 1)).all())
            # Edits of the top designs keep most of their quality: the batch's true
            # scores beat the offline median by a clear margin.
            true = (cands[:, :1] == 2).double() + cands[:, 1:2] - (cands[:, 2:] - 1).abs()
            self.assertGreater(true.median().item(), Y.median().item() + 0.25 * Y.std().item())


class TestPersistence(BotorchTestCase):
    def test_save_load_round_trip(self) -> None:
        X, Y, bounds, cats = _categorical()
        model = DEMO(CFG).fit(X, Y, bounds, cats, seed=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "demo.pt")
            model.save(path)
            loaded = DEMO.load(path)
        self.assertTrue(loaded.is_fitted)
        self.assertEqual(loaded.config, model.config)
        self.assertTrue(torch.equal(loaded.generate(8, seed=5)[0], model.generate(8, seed=5)[0]))
        self.assertTrue(torch.equal(loaded.predict(X), model.predict(X)))
        # The plain state_dict route works on a loaded (built) model too.
        loaded.load_state_dict(model.state_dict())

    def test_interrupted_save_keeps_the_earlier_file(self) -> None:
        X, Y, bounds, cats = _categorical()
        model = DEMO(CFG).fit(X, Y, bounds, cats, seed=0)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "demo.pt")
            model.save(path)
            before = open(path, "rb").read()
            real_save = torch.save

            def interrupted(obj, f, *args, **kwargs):
                real_save(obj, f, *args, **kwargs)
                f.truncate(100)  # a half-written file, then the interrupt
                raise KeyboardInterrupt

            torch.save = interrupted
            try:
                with self.assertRaises(KeyboardInterrupt):
                    model.save(path)
            finally:
                torch.save = real_save
            self.assertEqual(open(path, "rb").read(), before)
            self.assertEqual(os.listdir(tmp), ["demo.pt"])  # no temporary file left
            self.assertTrue(DEMO.load(path).is_fitted)

    def test_unfitted_model(self) -> None:
        with self.assertRaisesRegex(RuntimeError, "not fitted"):
            DEMO(CFG).generate(2)
        with self.assertRaisesRegex(TypeError, "DEMOConfig"):
            DEMO({"m": 3})


class TestSharing(BotorchTestCase):
    def test_reuse_surrogate_and_synthetic_data(self) -> None:
        X, Y, bounds = _continuous()
        first = DEMO(CFG).fit(X, Y, bounds, seed=0)
        second = DEMO(CFG.replace(guidance_weight=0.0)).fit(
            X, Y, bounds, seed=1, reuse_surrogate=first
        )
        self.assertIs(second.surrogate, first.surrogate)
        self.assertTrue(torch.equal(second.synthetic_X, first.synthetic_X))
        offline = DEMO(CFG.replace(pseudo_target=False)).fit(
            X, Y, bounds, seed=0, reuse_surrogate=first
        )
        self.assertIsNone(offline.synthetic_X)
        with self.assertRaisesRegex(ValueError, "surrogate_hidden"):
            DEMO(CFG.replace(surrogate_hidden=8)).fit(X, Y, bounds, reuse_surrogate=first)
        with self.assertRaisesRegex(ValueError, "training data differ"):
            DEMO(CFG).fit(X, Y + 1, bounds, reuse_surrogate=first)

    def test_edit_gradient_ascent_outputs_variant(self) -> None:
        X, Y, bounds = _continuous()
        cfg = CFG.replace(pseudo_target=False, edit_source="ascent")
        model = DEMO(cfg).fit(X, Y, bounds, seed=0)
        ascent, _ = model.ascent_candidates(4)
        self.assertTrue(torch.equal(model.generate(4, m=0)[0], ascent))


class TestBadInput(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.X, self.Y, self.bounds = _continuous(n=20)

    def _fit(self, X=None, Y=None, bounds=None, cats=None):
        X = self.X if X is None else X
        Y = self.Y if Y is None else Y
        bounds = self.bounds if bounds is None else bounds
        return DEMO(CFG).fit(X, Y, bounds, cats)

    def test_errors_name_the_problem(self) -> None:
        X_nan = self.X.clone()
        X_nan[3, 1] = float("nan")
        Y_inf = self.Y.clone()
        Y_inf[0] = float("inf")
        bad_bounds = self.bounds.clone()
        bad_bounds[0, 2] = 5.0
        cases = [
            (InputDataError, "train_X contains NaN", dict(X=X_nan)),
            (InputDataError, "train_Y contains NaN or infinite", dict(Y=Y_inf)),
            (InputDataError, "train_X has 20 rows but train_Y has 19", dict(Y=self.Y[:19])),
            (InputDataError, "n x 1", dict(Y=self.Y.squeeze(-1))),
            (InputDataError, "n x d", dict(X=self.X[0])),
            (ValueError, "bounds must have shape", dict(bounds=self.bounds[:, :2])),
            (ValueError, "lower < upper.*columns \\[2\\]", dict(bounds=bad_bounds)),
            (InputDataError, "at least 2 training points", dict(X=self.X[:1], Y=self.Y[:1])),
            (InputDataError, "outside bounds in columns", dict(X=self.X * 10)),
            (InputDataError, "floating-point", dict(X=self.X.long())),
            (InputDataError, "torch.Tensor", dict(X=self.X.numpy())),
        ]
        for exc, msg, kwargs in cases:
            with self.subTest(msg=msg), self.assertRaisesRegex(exc, msg):
                self._fit(**kwargs)

    def test_categorical_errors(self) -> None:
        X, Y, bounds, cats = _categorical(n=30)
        X_bad = X.clone()
        X_bad[4, 0] = 7.0
        cases = [
            (InputDataError, "train_X\\[:, 0\\] must hold integer categories 0..3", dict(X=X_bad)),
            (ValueError, "column 5", dict(cats={5: 4})),
            (ValueError, ">= 2 categories", dict(cats={0: 1})),
            (ValueError, "bounds of categorical column 1", dict(cats={0: 4, 1: 4})),
        ]
        for exc, msg, kwargs in cases:
            with self.subTest(msg=msg), self.assertRaisesRegex(exc, msg):
                DEMO(CFG).fit(kwargs.get("X", X), Y, bounds, kwargs.get("cats", cats))
        model = DEMO(CFG).fit(X, Y, bounds, cats)
        with self.assertRaisesRegex(InputDataError, "exclude\\[:, 0\\]"):
            model.generate(2, exclude=X_bad)

    def test_q_checks(self) -> None:
        model = self._fit()
        for q, msg in ((0, "positive int"), (2.5, "positive int"), (21, "exceeds the 20 distinct")):
            with self.subTest(q=q), self.assertRaisesRegex(ValueError, msg):
                model.generate(q)

    def test_constant_y_warns_and_still_works(self) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = self._fit(Y=torch.ones_like(self.Y))
        self.assertTrue(any(issubclass(w.category, InputDataWarning) for w in caught))
        cands, pred = model.generate(5, seed=0)
        self.assertTrue(torch.isfinite(cands).all() and torch.isfinite(pred).all())
        self.assertEqual(cands.shape, (5, 3))


class TestDevices(BotorchTestCase):
    def test_cuda_follows_the_inputs(self) -> None:
        if not torch.cuda.is_available():
            self.skipTest("CUDA is not available on this machine.")
        X, Y, bounds = _continuous()
        X, Y, bounds = X.cuda(), Y.cuda(), bounds.cuda()
        cands, pred = gen_candidates_demo(X, Y, bounds, q=8, config=CFG, seed=0)
        self.assertEqual((cands.device.type, pred.device.type), ("cuda", "cuda"))
