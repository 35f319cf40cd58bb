"""Issue 10: scale-free ascent, the robust target, the guards, and fast tests that
fail when DEMO silently loses a feature (pseudo-target, target, guidance, condition
dropout, raw-unit predictions)."""

import itertools
import warnings

import torch
from botorch.utils.testing import BotorchTestCase
from torch import nn

from botorch_demo import DEMO, DEMOConfig
from botorch_demo.ascent import gradient_ascent
from botorch_demo.diagnostics import (
    CollapseWarning,
    SamplerDivergenceWarning,
    SamplerGuard,
)
from botorch_demo.diffusion import ScoreNetwork, fit_score_network, reweighting_weights
from botorch_demo.samplers import integrate_reverse_sde
from botorch_demo.sde import VPSDE

CFG = DEMOConfig.smoke()


def _linear(weights: list[float]) -> nn.Module:
    net = nn.Linear(len(weights), 1, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([weights]))
    net.requires_grad_(False)
    return net


def _continuous(n: int = 300, d: int = 3, seed: int = 0, offset: float = 0.0, scale: float = 1.0):
    gen = torch.Generator().manual_seed(seed)
    bounds = torch.tensor([[-2.0] * d, [3.0] * d], dtype=torch.float64)
    X = bounds[0] + (bounds[1] - bounds[0]) * torch.rand(n, d, generator=gen, dtype=torch.float64)
    Y = offset - scale * (X - 1.0).square().sum(-1, keepdim=True)
    return X, Y, bounds


def chain_task(L: int = 6, V: int = 5, seed: int = 0):
    """L positions x V categories; score = per-position + neighbour-pairwise weights.

    Returns every design of the space with its exact score (by enumeration).
    """
    gen = torch.Generator().manual_seed(seed)
    unary = torch.randn(L, V, generator=gen, dtype=torch.float64)
    pair = torch.randn(L - 1, V, V, generator=gen, dtype=torch.float64)

    def score(X: torch.Tensor) -> torch.Tensor:
        T = X.long()
        s = unary[torch.arange(L), T].sum(-1)
        return s + pair[torch.arange(L - 1), T[:, :-1], T[:, 1:]].sum(-1)

    grid = torch.tensor(list(itertools.product(range(V), repeat=L)), dtype=torch.float64)
    return grid, score(grid), score


class TestAscentRules(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.x0 = torch.randn(7, 4, generator=torch.Generator().manual_seed(0))
        self.w = [0.3, -2.0, 1e-3, 5.0]

    def _run(self, weights, **kw) -> torch.Tensor:
        return gradient_ascent(_linear(weights), self.x0, **kw)[0]

    def test_sgd_reach_scales_with_the_gradient(self) -> None:
        small = self._run(self.w, steps=10, step_size=0.1, optimizer="sgd") - self.x0
        big = self._run([1000 * v for v in self.w], steps=10, step_size=0.1, optimizer="sgd")
        self.assertAllClose(big - self.x0, 1000 * small, rtol=1e-3, atol=1e-3)
        self.assertAllClose(small[0], 10 * 0.1 * torch.tensor(self.w), atol=1e-5)

    def test_adam_moves_every_coordinate_by_eta_per_step_whatever_the_scale(self) -> None:
        # Adam with a constant gradient takes steps of exactly lr * sign(g).
        for scale in (0.1, 1.0, 1e3):
            out = self._run([scale * v for v in self.w], steps=20, step_size=0.01, optimizer="adam")
            expected = self.x0 + 20 * 0.01 * torch.tensor(self.w).sign()
            self.assertAllClose(out, expected, atol=1e-4)

    def test_normalized_steps_have_rms_length_eta(self) -> None:
        for scale in (1e-3, 1e3):
            out = self._run(
                [scale * v for v in self.w], steps=30, step_size=0.02, optimizer="normalized"
            )
            delta = out - self.x0
            rms = delta.square().mean(-1).sqrt()
            self.assertAllClose(rms, torch.full((7,), 30 * 0.02), rtol=1e-4)
            direction = torch.tensor(self.w) / torch.tensor(self.w).norm()
            self.assertAllClose(
                delta / delta.norm(dim=-1, keepdim=True), direction.expand(7, 4), atol=1e-5
            )

    def test_trust_region_caps_the_reach(self) -> None:
        for optimizer in ("sgd", "adam", "normalized"):
            out = self._run(self.w, steps=50, step_size=0.5, optimizer=optimizer, trust_radius=0.3)
            rms = (out - self.x0).square().mean(-1).sqrt()
            self.assertAllClose(rms, torch.full((7,), 0.3), rtol=1e-4)
            # The projection keeps the design on the uphill side.
            self.assertTrue(((out - self.x0) @ torch.tensor(self.w) > 0).all())
        free = self._run(self.w, steps=3, step_size=0.01, optimizer="adam", trust_radius=10.0)
        self.assertAllClose(free, self._run(self.w, steps=3, step_size=0.01, optimizer="adam"))

    def test_errors(self) -> None:
        with self.assertRaisesRegex(ValueError, "trust_radius"):
            self._run(self.w, steps=1, step_size=0.1, trust_radius=0.0)
        with self.assertRaisesRegex(ValueError, "ascent_trust_radius"):
            DEMOConfig(ascent_trust_radius=-1.0)

    def test_model_uses_the_configured_rule(self) -> None:
        X, Y, bounds = _continuous()
        cfg = CFG.replace(ascent_optimizer="normalized", ascent_step_size_continuous=0.01)
        model = DEMO(cfg).fit(X, Y, bounds, seed=0)
        Z = model.encoder.encode(X)
        rms = (model.synthetic_X - Z).square().mean(-1).sqrt()
        # T steps of RMS length eta: at most T * eta away (less where the path bends).
        reach = cfg.ascent_steps * 0.01
        self.assertLessEqual(rms.max().item(), reach + 1e-5)
        self.assertGreater(rms.median().item(), 0.9 * reach)
        capped = DEMO(cfg.replace(ascent_trust_radius=0.05)).fit(X, Y, bounds, seed=0)
        rms = (capped.synthetic_X - Z).square().mean(-1).sqrt()
        self.assertLessEqual(rms.max().item(), 0.05 + 1e-6)

    def test_paper_preset_is_adam_with_the_papers_rates(self) -> None:
        cfg = DEMOConfig.paper()
        self.assertEqual(cfg.ascent_optimizer, "adam")
        self.assertEqual(
            (cfg.ascent_step_size_continuous, cfg.ascent_step_size_discrete), (1e-3, 1e-1)
        )
        self.assertEqual((cfg.target_quantile, cfg.target_cap), (1.0, None))
        self.assertFalse(cfg.diffusion_standardize or cfg.sampler_clamp)


def _fit_net(X: torch.Tensor, y: torch.Tensor, cfg: DEMOConfig, **kw) -> ScoreNetwork:
    net = ScoreNetwork(X.shape[-1], cfg, generator=torch.Generator().manual_seed(0))
    sde = VPSDE(cfg.beta_min, cfg.beta_max)
    fit_score_network(net, X, y, sde, cfg, generator=torch.Generator().manual_seed(1), **kw)
    return net


class TestTargetAndTrainingData(BotorchTestCase):
    def setUp(self) -> None:
        super().setUp()
        gen = torch.Generator().manual_seed(0)
        self.X = 3.0 + 2.0 * torch.randn(400, 2, generator=gen)
        self.y = torch.arange(400, dtype=torch.float32)
        self.cfg = CFG.replace(diffusion_epochs=1, target_quantile=1.0)

    def _label(self, net: ScoreNetwork, target: float) -> float:
        return net.label_from_target(target) * net.y_std.item() + net.y_mean.item()

    def test_target_maps_to_the_configured_quantile(self) -> None:
        net = _fit_net(self.X, self.y, self.cfg)
        self.assertAlmostEqual(self._label(net, 1.0), 399.0, places=2)
        self.assertAlmostEqual(self._label(net, 0.0), 0.0, places=2)
        net = _fit_net(self.X, self.y, self.cfg.replace(target_quantile=0.9))
        q90 = torch.quantile(self.y, 0.9).item()
        self.assertAlmostEqual(self._label(net, 1.0), q90, places=2)
        self.assertAlmostEqual(self._label(net, 0.5), 0.5 * q90, places=2)

    def test_cap_bounds_the_label(self) -> None:
        net = _fit_net(self.X, self.y, self.cfg, label_cap=250.0)
        self.assertAlmostEqual(self._label(net, 1.0), 250.0, places=2)
        self.assertAlmostEqual(self._label(net, 0.5), 199.5, places=2)

    def test_model_cap_is_in_offline_standard_deviations(self) -> None:
        X, Y, bounds = _continuous(offset=50.0, scale=10.0)
        cfg = CFG.replace(target_cap=0.5, target_quantile=1.0)
        model = DEMO(cfg).fit(X, Y, bounds, seed=0)
        z_best = ((Y.max() - Y.mean()) / Y.std()).item()
        self.assertAlmostEqual(model.score_net.y_cap.item(), z_best + 0.5, places=4)
        # The conditioning label is the best D' label or the cap, whichever is lower.
        net = model.score_net
        expected = min(model.synthetic_y.max().item(), z_best + 0.5)
        label = net.label_from_target(1.0) * net.y_std.item() + net.y_mean.item()
        self.assertAlmostEqual(label, expected, places=4)
        tight = DEMO(cfg.replace(target_cap=0.0)).fit(X, Y, bounds, seed=0, reuse_surrogate=model)
        net = tight.score_net
        label = net.label_from_target(1.0) * net.y_std.item() + net.y_mean.item()
        self.assertAlmostEqual(label, min(tight.synthetic_y.max().item(), z_best), places=4)

    def test_diffusion_data_standardised_with_its_own_statistics(self) -> None:
        net = _fit_net(self.X, self.y, self.cfg)
        self.assertAllClose(net.x_mean, self.X.mean(0), atol=1e-5)
        Zn = net.to_net(self.X)
        self.assertAllClose(Zn.mean(0), torch.zeros(2), atol=1e-5)
        self.assertAllClose(Zn.std(0), torch.ones(2), atol=1e-5)
        self.assertAllClose(net.from_net(Zn), self.X, atol=1e-5)
        off = _fit_net(self.X, self.y, self.cfg.replace(diffusion_standardize=False))
        self.assertAllClose(off.to_net(self.X), self.X)

    def test_reweighting_favours_high_labels_and_is_clipped(self) -> None:
        y = torch.cat([torch.zeros(900), torch.linspace(0.5, 1.0, 100)]).double()
        w = reweighting_weights(y, bins=20, clip=5.0, temperature=0.1)
        self.assertAlmostEqual(w.mean().item(), 1.0, places=10)
        self.assertTrue((w[900:] >= w[0]).all())
        self.assertGreater(w[-1].item(), 10 * w[0].item())
        # Same bin, same weight; the unnormalised bin weights never exceed the clip.
        self.assertEqual(torch.unique(w[:900]).numel(), 1)
        self.assertAllClose(reweighting_weights(torch.ones(5)), torch.ones(5))

    def test_reweighting_formula_on_two_bins(self) -> None:
        # Bins [0, .5) and [.5, 1] hold 3 and 1 labels; target masses softmax([.5, 1] / T).
        y = torch.tensor([0.0, 0.1, 0.2, 1.0], dtype=torch.float64)
        e_lo, e_hi = torch.exp(torch.tensor(0.5 / 0.2)), torch.exp(torch.tensor(1.0 / 0.2))
        t_lo, t_hi = (e_lo / (e_lo + e_hi)).item(), (e_hi / (e_lo + e_hi)).item()
        for clip, hi in ((100.0, t_hi / 0.25), (2.0, 2.0)):
            w = reweighting_weights(y, bins=2, clip=clip, temperature=0.2)
            raw = torch.tensor([t_lo / 0.75] * 3 + [hi], dtype=torch.float64)
            self.assertAllClose(w, raw / raw.mean())

    def test_reweighting_changes_the_training(self) -> None:
        a = _fit_net(self.X, self.y, self.cfg)
        b = _fit_net(self.X, self.y, self.cfg.replace(diffusion_reweighting=True))
        x, t = torch.randn(4, 2), torch.full((4,), 0.5)
        ones = torch.ones(4)
        self.assertFalse(torch.allclose(a(x, t, ones, ones), b(x, t, ones, ones)))


class TestGuards(BotorchTestCase):
    def test_guard_counts_and_clamps(self) -> None:
        guard = SamplerGuard(torch.tensor([1.0, 2.0]))
        x = torch.tensor([[0.5, -1.0], [3.0, -5.0], [float("nan"), 0.0]])
        out = guard(x)
        self.assertEqual(guard.n_outside, 3)
        self.assertAlmostEqual(guard.max_ratio, float("inf"))
        self.assertTrue(torch.equal(out, torch.tensor([[0.5, -1.0], [1.0, -2.0], [0.0, 0.0]])))
        passive = SamplerGuard(torch.tensor([1.0, 2.0]), clamp=False)
        self.assertTrue(torch.equal(passive(x[:2]), x[:2]))
        self.assertTrue(passive.diverged)

    def test_a_diverging_sampler_stays_bounded(self) -> None:
        sde = VPSDE(0.01, 2.0)
        explode = lambda x, t: 50.0 * x  # noqa: E731  (a score pushing states outwards)
        x = torch.randn(16, 3, generator=torch.Generator().manual_seed(0))
        free = integrate_reverse_sde(sde, explode, x, 0.4, 1e-3, 50)
        self.assertGreater(free.abs().max().item(), 1e3)
        guard = SamplerGuard(torch.full((3,), 4.0))
        kept = integrate_reverse_sde(sde, explode, x, 0.4, 1e-3, 50, guard=guard)
        self.assertLessEqual(kept.abs().max().item(), 4.0)
        self.assertTrue(guard.diverged)

    def test_generate_warns_once_and_reports(self) -> None:
        X, Y, bounds = _continuous()
        model = DEMO(CFG).fit(X, Y, bounds, seed=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.generate(16, seed=0, sampler_bound=1e-3)
        div = [w for w in caught if issubclass(w.category, SamplerDivergenceWarning)]
        self.assertEqual(len(div), 1)
        self.assertIn("diverged", str(div[0].message))
        d = model.diagnostics
        self.assertTrue(d.diverged and d.clamped)
        self.assertGreater(d.max_state_ratio, 1.0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.generate(16, seed=0, sampler_bound=1e-3, sampler_clamp=False)
        self.assertEqual(sum(issubclass(w.category, SamplerDivergenceWarning) for w in caught), 1)
        self.assertFalse(model.diagnostics.clamped)
        # The default bound is not hit on ordinary data, and nothing is reported.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.generate(16, seed=0)
        self.assertEqual(model.diagnostics.n_states_outside, 0)
        self.assertEqual(model.diagnostics.messages, ())
        self.assertFalse(any(issubclass(w.category, SamplerDivergenceWarning) for w in caught))

    def test_diagnostics_count_distinct_and_improvements(self) -> None:
        X, Y, bounds = _continuous()
        model = DEMO(CFG).fit(X, Y, bounds, seed=0)
        self.assertIsNone(model.diagnostics)
        model.generate(10, seed=0, m=0)  # m = 0 returns the sources unchanged
        d = model.diagnostics
        self.assertEqual((d.q, d.n_distinct, d.n_distinct_raw), (10, 10, 10))
        self.assertEqual(d.n_predicted_above_source, 0)
        self.assertFalse(d.collapsed)
        _, pred = model.generate(10, seed=0)
        src = model.predict(X[model.ranked_rows[:10]]).squeeze(-1)
        self.assertEqual(model.diagnostics.n_predicted_above_source, int((pred > src).sum()))
        model.generate(10, seed=0, editing=False)
        self.assertIsNone(model.diagnostics.n_predicted_above_source)

    def test_collapse_is_flagged(self) -> None:
        # Two binary columns: 4 designs in the whole space, so 16 samples collapse.
        grid = torch.cartesian_prod(torch.arange(2.0), torch.arange(2.0)).double()
        X = grid.repeat(20, 1)
        Y = X.sum(-1, keepdim=True)
        bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
        model = DEMO(CFG).fit(X, Y, bounds, {0: 2, 1: 2}, seed=0)
        with self.assertWarnsRegex(CollapseWarning, "only [1-4] distinct designs among 16"):
            model.generate(16, seed=0, editing=False)
        self.assertTrue(model.diagnostics.collapsed)
        self.assertLessEqual(model.diagnostics.n_distinct_raw, 4)


class TestFeaturesAreUsed(BotorchTestCase):
    """Each test fails when one feature is silently dropped (issue 10's mutations)."""

    # A surrogate good enough to rank the data, and an ascent that moves D' away.
    CFG = DEMOConfig.smoke(
        surrogate_epochs=60,
        surrogate_lr=3e-3,
        ascent_optimizer="adam",
        ascent_step_size_continuous=0.05,
    )

    @classmethod
    def setUpClass(cls) -> None:
        cls.X, cls.Y, cls.bounds = _continuous()
        cls.model = DEMO(cls.CFG).fit(cls.X, cls.Y, cls.bounds, seed=0)

    def test_diffusion_is_trained_on_the_pseudo_target_data(self) -> None:
        net, syn_X, syn_y = self.model.score_net, self.model.synthetic_X, self.model.synthetic_y
        z = ((self.Y - self.Y.mean()) / self.Y.std()).squeeze(-1)
        Z = self.model.encoder.encode(self.X)
        # D' labels are ascent predictions, above the offline labels, and D' moved.
        self.assertGreater(syn_y.mean().item(), z.mean().item() + 0.3)
        self.assertGreater(abs(syn_y.max().item() - z.max().item()), 1e-3)
        self.assertGreater((syn_X.mean(0) - Z.mean(0)).abs().max().item(), 0.1)
        self.assertAlmostEqual(net.y_max.item(), syn_y.max().item(), places=4)
        self.assertAllClose(net.x_mean, syn_X.mean(0).to(net.x_mean), atol=1e-4)
        offline = DEMO(self.CFG.replace(pseudo_target=False)).fit(
            self.X, self.Y, self.bounds, seed=0, reuse_surrogate=self.model
        )
        self.assertAlmostEqual(offline.score_net.y_max.item(), z.max().item(), places=4)
        self.assertAllClose(offline.score_net.x_mean, Z.mean(0).to(net.x_mean), atol=1e-4)

    def test_target_score_reaches_the_sampler(self) -> None:
        hi, _ = self.model.generate(16, seed=0, target_score=1.0)
        lo, _ = self.model.generate(16, seed=0, target_score=0.0)
        self.assertFalse(torch.allclose(hi, lo))

    def test_guidance_weight_reaches_the_sampler(self) -> None:
        guided, _ = self.model.generate(16, seed=0, guidance_weight=2.0)
        plain, _ = self.model.generate(16, seed=0, guidance_weight=0.0)
        self.assertFalse(torch.allclose(guided, plain))
        stronger, _ = self.model.generate(16, seed=0, guidance_weight=4.0)
        self.assertFalse(torch.allclose(guided, stronger))

    def test_training_drops_the_condition(self) -> None:
        seen: list[torch.Tensor] = []
        original = ScoreNetwork.forward

        def spy(net, x, t, y, keep):
            seen.append(keep.detach().clone())
            return original(net, x, t, y, keep)

        X = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
        for p_drop in (0.15, 0.0):
            seen.clear()
            ScoreNetwork.forward = spy
            try:
                _fit_net(X, X.sum(-1), CFG.replace(diffusion_epochs=3, condition_dropout=p_drop))
            finally:
                ScoreNetwork.forward = original
            keep = torch.cat(seen)
            self.assertEqual(keep.numel(), 3 * 2000)
            self.assertAlmostEqual(1 - keep.mean().item(), p_drop, delta=0.02)

    def test_predict_is_in_raw_units(self) -> None:
        X, Y, bounds = _continuous(offset=1000.0, scale=50.0)
        model = DEMO(self.CFG).fit(X, Y, bounds, seed=0)
        pred = model.predict(X)
        self.assertLess((pred.mean() - Y.mean()).abs().item(), 0.25 * Y.std().item())
        ratio = (pred.std() / Y.std()).item()
        self.assertTrue(0.5 < ratio < 1.5, ratio)
        self.assertLess((pred - Y).abs().median().item(), 0.5 * Y.std().item())


class TestEndToEndChainTask(BotorchTestCase):
    """6 positions x 5 categories, offline set = the worse half of all 15,625 designs."""

    def test_batch_beats_the_offline_best_without_collapse(self) -> None:
        grid, y, score = chain_task()
        worse = y.argsort()[: y.numel() // 2]
        X, Y = grid[worse], y[worse].unsqueeze(-1)
        bounds = torch.tensor([[0.0] * 6, [4.0] * 6], dtype=torch.float64)
        model = DEMO(DEMOConfig.fast(progress=False)).fit(X, Y, bounds, dict.fromkeys(range(6), 5))
        with warnings.catch_warnings():
            warnings.simplefilter("error", SamplerDivergenceWarning)
            warnings.simplefilter("error", CollapseWarning)
            cands, _ = model.generate(256, seed=0)
        true = score(cands)
        normalise = lambda v: (v - y.min()) / (y.max() - y.min())  # noqa: E731
        self.assertGreater(true.max().item(), Y.max().item())
        self.assertGreater(normalise(true.max()).item(), 0.85)
        self.assertGreater(true.median().item(), Y.median().item())
        d = model.diagnostics
        self.assertGreaterEqual(d.n_distinct_raw, 150)
        self.assertFalse(d.collapsed or d.diverged)
        self.assertGreater(d.n_predicted_above_source, 200)


class TestPaperPresetRuns(BotorchTestCase):
    def test_paper_semantics_end_to_end_at_smoke_size(self) -> None:
        small = dict(
            surrogate_hidden=32,
            surrogate_epochs=3,
            surrogate_lr=1e-3,
            ascent_steps=10,
            diffusion_hidden=32,
            diffusion_epochs=3,
            num_steps=10,
            progress=False,
        )
        X, Y, bounds = _continuous()
        model = DEMO(DEMOConfig.paper(**small)).fit(X, Y, bounds, seed=0)
        # Adam at the paper's continuous rate: each coordinate moves about 1e-3 per
        # step (slightly more where the gradient's sign changes), so about T * 1e-3.
        Z = model.encoder.encode(X)
        moved = (model.synthetic_X - Z).abs()
        self.assertLessEqual(moved.max().item(), 1.5 * 10 * 1e-3)
        self.assertGreater(moved.median().item(), 0.5 * 10 * 1e-3)
        # No re-standardisation of D', and the max D' label is the reference.
        self.assertTrue(
            torch.equal(model.score_net.x_mean, torch.zeros_like(model.score_net.x_mean))
        )
        self.assertAlmostEqual(model.score_net.y_ref.item(), model.synthetic_y.max().item(), 4)
        cands, _ = model.generate(8, seed=0)
        self.assertTrue(((cands >= bounds[0]) & (cands <= bounds[1])).all())
        self.assertFalse(model.diagnostics.clamped)
