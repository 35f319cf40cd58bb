"""Phase 1c: the classifier-free conditional score model (Eqs. 4 and 8), its
conditioning label, its own standardisation and the label reweighting."""

from __future__ import annotations

import pytest
import torch

from botorch_demo import DEMOConfig
from botorch_demo.diffusion import ScoreNetwork, fit_score_network, reweighting_weights
from botorch_demo.editing import Guidance, sample_from_prior
from botorch_demo.sde import VPSDE

SDE = VPSDE(0.1, 20.0)


def test_classifier_free_guidance_is_eq_4() -> None:
    net = ScoreNetwork(3, DEMOConfig.smoke(), generator=torch.Generator().manual_seed(0))
    x, t = torch.randn(5, 3), torch.tensor(0.3)
    ones, zeros = torch.ones(5), torch.zeros(5)
    cond = net(x, t.expand(5), 0.7 * ones, ones)
    uncond = net(x, t.expand(5), zeros, zeros)
    torch.testing.assert_close(
        net.guided_eps(x, t, 0.7, 2.0), 3.0 * cond - 2.0 * uncond, rtol=1e-5, atol=1e-5
    )
    torch.testing.assert_close(net.guided_eps(x, t, 0.7, 0.0), cond, rtol=1e-5, atol=1e-8)
    # A dropped label is ignored: only the keep flag matters.
    torch.testing.assert_close(net(x, t.expand(5), 5.0 * ones, zeros), uncond, rtol=1e-5, atol=1e-8)


@pytest.mark.slow
def test_training_lowers_the_denoising_loss_and_learns_the_condition(make_score_network) -> None:
    # Two clusters whose label says which one: guided sampling must follow y.
    gen = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (1024,), generator=gen).float()
    X = (2 * y - 1)[:, None] * 2.0 + 0.3 * torch.randn(1024, 2, generator=gen)
    net, stats = make_score_network(X, y, SDE, epochs=60)
    assert stats.epoch_losses[-1] < 0.8 * stats.epoch_losses[0]
    assert round(net.label_from_target(1.0) - (1 - y.mean().item()) / y.std().item(), 4) == 0
    for target, sign in ((1.0, 1.0), (0.0, -1.0)):
        guidance = Guidance(target, 1.0, generator=torch.Generator().manual_seed(2))
        out = sample_from_prior(net, SDE, 256, 2, num_steps=100, guidance=guidance)
        assert (sign * out.mean(-1) > 0).float().mean().item() > 0.85


# ------------------------------------------- the label and the training data
#: One epoch, conditioned on the best label (the 1.0-quantile).
ONE_EPOCH = DEMOConfig.smoke().replace(diffusion_epochs=1, target_quantile=1.0)


def _fit_net(X: torch.Tensor, y: torch.Tensor, cfg: DEMOConfig, **kw) -> ScoreNetwork:
    net = ScoreNetwork(X.shape[-1], cfg, generator=torch.Generator().manual_seed(0))
    sde = VPSDE(cfg.beta_min, cfg.beta_max)
    fit_score_network(net, X, y, sde, cfg, generator=torch.Generator().manual_seed(1), **kw)
    return net


@pytest.fixture(scope="module")
def ranked_data() -> tuple[torch.Tensor, torch.Tensor]:
    """400 designs around (3, 3) labelled 0..399."""
    gen = torch.Generator().manual_seed(0)
    X = 3.0 + 2.0 * torch.randn(400, 2, generator=gen)
    y = torch.arange(400, dtype=torch.float32)
    return X, y


@pytest.fixture(scope="module")
def one_epoch_net(ranked_data) -> ScoreNetwork:
    """A score network trained one epoch on ``ranked_data`` with :data:`ONE_EPOCH` (read-only)."""
    return _fit_net(*ranked_data, ONE_EPOCH)


def _label(net: ScoreNetwork, target: float) -> float:
    """The conditioning label of ``target`` in the units of the training labels."""
    return net.label_from_target(target) * net.y_std.item() + net.y_mean.item()


def test_target_maps_to_the_configured_quantile(ranked_data, one_epoch_net) -> None:
    X, y = ranked_data
    assert round(_label(one_epoch_net, 1.0) - 399.0, 2) == 0
    assert round(_label(one_epoch_net, 0.0) - 0.0, 2) == 0
    net = _fit_net(X, y, ONE_EPOCH.replace(target_quantile=0.9))
    q90 = torch.quantile(y, 0.9).item()
    assert round(_label(net, 1.0) - q90, 2) == 0
    assert round(_label(net, 0.5) - 0.5 * q90, 2) == 0


def test_cap_bounds_the_label(ranked_data) -> None:
    net = _fit_net(*ranked_data, ONE_EPOCH, label_cap=250.0)
    assert round(_label(net, 1.0) - 250.0, 2) == 0
    assert round(_label(net, 0.5) - 199.5, 2) == 0


def test_diffusion_data_standardised_with_its_own_statistics(ranked_data, one_epoch_net) -> None:
    X, y = ranked_data
    net = one_epoch_net
    torch.testing.assert_close(net.x_mean, X.mean(0), rtol=1e-5, atol=1e-5)
    Zn = net.to_net(X)
    torch.testing.assert_close(Zn.mean(0), torch.zeros(2), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(Zn.std(0), torch.ones(2), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(net.from_net(Zn), X, rtol=1e-5, atol=1e-5)
    off = _fit_net(X, y, ONE_EPOCH.replace(diffusion_standardize=False))
    torch.testing.assert_close(off.to_net(X), X, rtol=1e-5, atol=1e-8)


def test_reweighting_favours_high_labels_and_is_clipped() -> None:
    y = torch.cat([torch.zeros(900), torch.linspace(0.5, 1.0, 100)]).double()
    w = reweighting_weights(y, bins=20, clip=5.0, temperature=0.1)
    assert round(w.mean().item() - 1.0, 10) == 0
    assert (w[900:] >= w[0]).all()
    assert w[-1].item() > 10 * w[0].item()
    # Same bin, same weight; the unnormalised bin weights never exceed the clip.
    assert torch.unique(w[:900]).numel() == 1
    torch.testing.assert_close(
        reweighting_weights(torch.ones(5)), torch.ones(5), rtol=1e-5, atol=1e-8
    )


@pytest.mark.parametrize("clip", [100.0, 2.0])
def test_reweighting_formula_on_two_bins(clip: float) -> None:
    # Bins [0, .5) and [.5, 1] hold 3 and 1 labels; target masses softmax([.5, 1] / T).
    y = torch.tensor([0.0, 0.1, 0.2, 1.0], dtype=torch.float64)
    e_lo, e_hi = torch.exp(torch.tensor(0.5 / 0.2)), torch.exp(torch.tensor(1.0 / 0.2))
    t_lo, t_hi = (e_lo / (e_lo + e_hi)).item(), (e_hi / (e_lo + e_hi)).item()
    # Unclipped, the high bin's weight is its mass over its share of the labels.
    hi = {100.0: t_hi / 0.25, 2.0: 2.0}[clip]
    w = reweighting_weights(y, bins=2, clip=clip, temperature=0.2)
    raw = torch.tensor([t_lo / 0.75] * 3 + [hi], dtype=torch.float64)
    torch.testing.assert_close(w, raw / raw.mean(), rtol=1e-5, atol=1e-8)


def test_reweighting_changes_the_training(ranked_data, one_epoch_net) -> None:
    b = _fit_net(*ranked_data, ONE_EPOCH.replace(diffusion_reweighting=True))
    x, t = torch.randn(4, 2), torch.full((4,), 0.5)
    ones = torch.ones(4)
    assert not torch.allclose(one_epoch_net(x, t, ones, ones), b(x, t, ones, ones))


@pytest.mark.parametrize("p_drop", [0.15, 0.0])
def test_training_drops_the_condition(p_drop: float, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[torch.Tensor] = []
    original = ScoreNetwork.forward

    def spy(net, x, t, y, keep):
        seen.append(keep.detach().clone())
        return original(net, x, t, y, keep)

    X = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    with monkeypatch.context() as patch:
        patch.setattr(ScoreNetwork, "forward", spy)
        _fit_net(
            X,
            X.sum(-1),
            DEMOConfig.smoke().replace(diffusion_epochs=3, condition_dropout=p_drop),
        )
    keep = torch.cat(seen)
    assert keep.numel() == 3 * 2000
    assert abs(1 - keep.mean().item() - p_drop) <= 0.02
