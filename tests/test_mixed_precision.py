"""Mixed precision: resolved against the device at run time, bfloat16 matmuls
with float32 master weights in the surrogate, the ascent and the score network."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from botorch_demo import DEMO, DEMOConfig, EmulatedPrecisionWarning
from botorch_demo.ascent import gradient_ascent
from botorch_demo.runtime import autocast, autocast_dtype, native_bf16


def _cpu_bf16(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    """Pretend the CPU has (or lacks) bfloat16 matmul instructions."""
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)


@pytest.mark.parametrize("native", [True, False])
def test_auto_takes_bf16_only_where_native(monkeypatch, native):
    _cpu_bf16(monkeypatch, native)
    assert native_bf16("cpu") is native
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = autocast_dtype("auto", "cpu")
    assert got == (torch.bfloat16 if native else None)
    assert autocast_dtype("off", "cpu") is None


def test_forced_bf16_warns_only_when_emulated(monkeypatch):
    _cpu_bf16(monkeypatch, False)
    with pytest.warns(EmulatedPrecisionWarning, match="emulated"):
        assert autocast_dtype("bf16", "cpu") == torch.bfloat16
    _cpu_bf16(monkeypatch, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert autocast_dtype("bf16", "cpu") == torch.bfloat16


def test_other_devices_are_not_assumed_native():
    assert native_bf16("meta") is False


def test_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        autocast_dtype("fp8", "cpu")
    with pytest.raises(ValueError, match="mixed_precision"):
        DEMOConfig(mixed_precision="fp16")


def test_autocast_runs_matmuls_in_bf16_and_none_is_a_no_op():
    a = torch.randn(4, 4)
    with autocast(torch.bfloat16, "cpu"):
        assert (a @ a).dtype == torch.bfloat16
    with autocast(None, "cpu"):
        assert (a @ a).dtype == torch.float32


def _net(d: int) -> nn.Sequential:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(d, 32), nn.ReLU(), nn.Linear(32, 1))
    return net.requires_grad_(False)


def test_bf16_ascent_follows_the_float32_ascent():
    net = _net(5)
    X = torch.randn(64, 5)
    x32, _ = gradient_ascent(net, X, steps=10, step_size=0.05, optimizer="adam")
    x16, y16 = gradient_ascent(
        net, X, steps=10, step_size=0.05, optimizer="adam", autocast_dtype=torch.bfloat16
    )
    assert x16.dtype == y16.dtype == torch.float32
    # Adam moves each coordinate ~0.05 per step whatever the gradient's rounding:
    # the two paths agree to a fraction of the total move of 0.5.
    assert (x16 - x32).abs().max() < 0.1
    assert (y16 >= net(X).squeeze(-1)).float().mean() > 0.9
    torch.testing.assert_close(y16, net(x16).squeeze(-1))  # labels in float32


@pytest.fixture(scope="module")
def quadratic() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(400, 4, generator=gen, dtype=torch.float64)
    Y = -(X - 0.7).square().sum(-1, keepdim=True)
    return X, Y, torch.tensor([[0.0] * 4, [1.0] * 4], dtype=torch.float64)


def test_a_bf16_fit_keeps_float32_weights_and_improves(monkeypatch, quadratic):
    _cpu_bf16(monkeypatch, True)
    X, Y, bounds = quadratic
    model = DEMO(DEMOConfig.smoke(mixed_precision="auto")).fit(X, Y, bounds, seed=0)
    for phase in ("surrogate", "diffusion"):
        stats = model.fit_stats[phase]
        assert stats.autocast_dtype == "bfloat16"
        assert stats.epoch_losses[-1] < stats.epoch_losses[0]
    params = [*model.surrogate.parameters(), *model.score_net.parameters()]
    assert all(p.dtype == torch.float32 for p in params)
    assert model.synthetic_y.dtype == torch.float64
    # D' is labelled higher than the data it started from.
    assert model.synthetic_y.mean() > ((Y - Y.mean()) / Y.std()).mean()
    candidates, _ = model.generate(8, seed=0)
    assert candidates.dtype == torch.float64 and torch.isfinite(candidates).all()


def test_off_and_auto_without_native_bf16_give_the_same_fit(monkeypatch, quadratic):
    _cpu_bf16(monkeypatch, False)
    X, Y, bounds = quadratic
    off = DEMO(DEMOConfig.smoke()).fit(X, Y, bounds, seed=0)
    auto = DEMO(DEMOConfig.smoke(mixed_precision="auto")).fit(X, Y, bounds, seed=0)
    assert off.fit_stats["surrogate"].autocast_dtype is None
    assert auto.fit_stats["diffusion"].autocast_dtype is None
    assert torch.equal(off.synthetic_X, auto.synthetic_X)


def test_float64_networks_keep_float64(monkeypatch, quadratic):
    _cpu_bf16(monkeypatch, True)
    X, Y, bounds = quadratic
    cfg = DEMOConfig.smoke(mixed_precision="bf16", network_dtype="float64")
    model = DEMO(cfg).fit(X, Y, bounds, seed=0)
    assert model.fit_stats["surrogate"].autocast_dtype is None


def test_a_surrogate_of_other_precision_is_not_reused(monkeypatch, quadratic):
    _cpu_bf16(monkeypatch, False)
    X, Y, bounds = quadratic
    base = DEMO(DEMOConfig.smoke()).fit(X, Y, bounds, seed=0)
    other = DEMO(DEMOConfig.smoke(mixed_precision="auto"))
    with pytest.raises(ValueError, match="mixed_precision"):
        other.fit(X, Y, bounds, seed=0, reuse_surrogate=base)
