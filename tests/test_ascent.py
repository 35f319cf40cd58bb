"""Phase 1b: gradient ascent on the surrogate (Eq. 6), its update rules and trust region."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from botorch_demo.ascent import gradient_ascent
from botorch_demo.encoding import DesignEncoder
from botorch_demo.surrogate import predict_batched


# ------------------------------------------------------- on a trained surrogate
@pytest.fixture(scope="module")
def start(make_gaussian_quadratic) -> torch.Tensor:
    """512 standard normal starting designs in 4 dimensions."""
    return make_gaussian_quadratic()[0]


@pytest.fixture(scope="module")
def surrogate(make_gaussian_quadratic, make_surrogate) -> nn.Module:
    """A small surrogate trained on a quadratic (read-only)."""
    X, y = make_gaussian_quadratic()
    return make_surrogate(X, y)[0]


@pytest.mark.parametrize(("optimizer", "step"), [("sgd", 0.05), ("adam", 0.05)])
def test_raises_every_prediction(
    optimizer: str, step: float, surrogate: nn.Module, start: torch.Tensor
) -> None:
    X_T, y_T = gradient_ascent(surrogate, start, steps=50, step_size=step, optimizer=optimizer)
    before = predict_batched(surrogate, start)
    assert X_T.shape == start.shape
    torch.testing.assert_close(y_T, predict_batched(surrogate, X_T), rtol=1e-5, atol=1e-8)
    assert (y_T > before).double().mean().item() > 0.95
    assert (y_T - before).mean().item() > 0.1


def test_sgd_step_is_eq_6(surrogate: nn.Module, start: torch.Tensor) -> None:
    x = start[:3].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(surrogate(x).sum(), x)
    X_1, _ = gradient_ascent(surrogate, start[:3], steps=1, step_size=0.1)
    torch.testing.assert_close(X_1, start[:3] + 0.1 * grad, rtol=1e-5, atol=1e-8)


def test_batches_are_independent(surrogate: nn.Module, start: torch.Tensor) -> None:
    a, ya = gradient_ascent(surrogate, start, steps=20, step_size=0.05, batch_size=7)
    b, yb = gradient_ascent(surrogate, start, steps=20, step_size=0.05, batch_size=512)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ya, yb, atol=1e-5, rtol=1e-4)


def test_zero_steps_is_identity_and_dtype_is_kept(
    surrogate: nn.Module, start: torch.Tensor
) -> None:
    X64 = start.double()
    X_0, _ = gradient_ascent(surrogate, X64, steps=0, step_size=0.1)
    assert X_0.dtype == torch.float64
    torch.testing.assert_close(X_0, X64, rtol=1e-5, atol=1e-7)


def test_unknown_optimizer(surrogate: nn.Module, start: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="optimizer must be"):
        gradient_ascent(surrogate, start, steps=1, step_size=0.1, optimizer="lbfgs")


# ------------------------------------------------- the update rules, exactly
W = [0.3, -2.0, 1e-3, 5.0]


def _linear(weights: list[float]) -> nn.Module:
    """``x -> w . x``: a surrogate with the constant gradient ``weights``."""
    net = nn.Linear(len(weights), 1, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([weights]))
    net.requires_grad_(False)
    return net


@pytest.fixture
def x0() -> torch.Tensor:
    """7 starting designs in 4 dimensions."""
    return torch.randn(7, 4, generator=torch.Generator().manual_seed(0))


def _run(x0: torch.Tensor, weights: list[float], **kw) -> torch.Tensor:
    return gradient_ascent(_linear(weights), x0, **kw)[0]


def test_sgd_reach_scales_with_the_gradient(x0: torch.Tensor) -> None:
    small = _run(x0, W, steps=10, step_size=0.1, optimizer="sgd") - x0
    big = _run(x0, [1000 * v for v in W], steps=10, step_size=0.1, optimizer="sgd")
    torch.testing.assert_close(big - x0, 1000 * small, rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(small[0], 10 * 0.1 * torch.tensor(W), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scale", [0.1, 1.0, 1e3])
def test_adam_moves_every_coordinate_by_eta_per_step_whatever_the_scale(
    scale: float, x0: torch.Tensor
) -> None:
    # Adam with a constant gradient takes steps of exactly lr * sign(g).
    out = _run(x0, [scale * v for v in W], steps=20, step_size=0.01, optimizer="adam")
    expected = x0 + 20 * 0.01 * torch.tensor(W).sign()
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("scale", [1e-3, 1e3])
def test_normalized_steps_have_rms_length_eta(scale: float, x0: torch.Tensor) -> None:
    out = _run(x0, [scale * v for v in W], steps=30, step_size=0.02, optimizer="normalized")
    delta = out - x0
    rms = delta.square().mean(-1).sqrt()
    torch.testing.assert_close(rms, torch.full((7,), 30 * 0.02), rtol=1e-4, atol=1e-8)
    direction = torch.tensor(W) / torch.tensor(W).norm()
    torch.testing.assert_close(
        delta / delta.norm(dim=-1, keepdim=True), direction.expand(7, 4), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "normalized"])
def test_trust_region_caps_the_reach(optimizer: str, x0: torch.Tensor) -> None:
    out = _run(x0, W, steps=50, step_size=0.5, optimizer=optimizer, trust_radius=0.3)
    rms = (out - x0).square().mean(-1).sqrt()
    torch.testing.assert_close(rms, torch.full((7,), 0.3), rtol=1e-4, atol=1e-8)
    # The projection keeps the design on the uphill side.
    assert ((out - x0) @ torch.tensor(W) > 0).all()


def test_a_trust_region_out_of_reach_changes_nothing(x0: torch.Tensor) -> None:
    free = _run(x0, W, steps=3, step_size=0.01, optimizer="adam", trust_radius=10.0)
    torch.testing.assert_close(
        free, _run(x0, W, steps=3, step_size=0.01, optimizer="adam"), rtol=1e-5, atol=1e-8
    )


def test_trust_radius_must_be_positive(x0: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="trust_radius"):
        _run(x0, W, steps=1, step_size=0.1, trust_radius=0.0)


def test_units_scale_each_coordinates_reach():
    # A linear surrogate: Adam moves every coordinate by about the step size per
    # step, so with units the moves are the units times the unit-free moves.
    surrogate = torch.nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        surrogate.weight.copy_(torch.tensor([[1.0, -2.0, 0.5]]))
    surrogate.requires_grad_(False)
    X = torch.zeros(4, 3)
    units = torch.tensor([1.0, 2.0, 4.0])
    plain, _ = gradient_ascent(surrogate, X, steps=10, step_size=0.1, optimizer="adam")
    scaled, _ = gradient_ascent(
        surrogate, X, steps=10, step_size=0.1, optimizer="adam", units=units
    )
    torch.testing.assert_close(scaled, plain * units)
    torch.testing.assert_close(plain[0], torch.tensor([1.0, -1.0, 1.0]), atol=1e-5, rtol=0)


def test_without_units_the_ascent_moves_the_designs_themselves():
    # units=None keeps the designs as the optimised tensor (the standardised space)
    gen = torch.Generator().manual_seed(0)
    surrogate = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    surrogate.requires_grad_(False)
    X = torch.randn(6, 2, generator=gen)
    x = X.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.05)
    for _ in range(5):
        (grad,) = torch.autograd.grad(surrogate(x).sum(), x)
        x.grad = -grad
        opt.step()
    out, _ = gradient_ascent(surrogate, X, steps=5, step_size=0.05, optimizer="adam")
    assert torch.equal(out, x.detach())


def test_a_trust_radius_counts_in_units():
    surrogate = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        surrogate.weight.copy_(torch.tensor([[1.0, 1.0]]))
    surrogate.requires_grad_(False)
    units = torch.tensor([1.0, 3.0])
    out, _ = gradient_ascent(
        surrogate,
        torch.zeros(1, 2),
        steps=50,
        step_size=0.5,
        optimizer="sgd",
        trust_radius=0.2,
        units=units,
    )
    # the RMS move in units is at most the radius: u = out / units
    assert float((out / units).square().mean().sqrt()) <= 0.2 + 1e-6


def test_repeated_designs_are_ascended_once_each(surrogate: nn.Module, start: torch.Tensor) -> None:
    rows = torch.tensor([0, 1, 0, 2, 1, 1, 3])
    X = start[rows]
    out, y = gradient_ascent(surrogate, X, steps=5, step_size=0.05, optimizer="adam")
    alone, y_alone = gradient_ascent(
        surrogate, start[:4], steps=5, step_size=0.05, optimizer="adam"
    )
    torch.testing.assert_close(out, alone[rows])
    torch.testing.assert_close(y, y_alone[rows])
    assert torch.equal(out[0], out[2]) and torch.equal(out[1], out[5])


def _letters_task() -> tuple[torch.Tensor, DesignEncoder]:
    """60 designs of 6 positions over 5 letters, and their fitted encoder."""
    gen = torch.Generator().manual_seed(3)
    X = torch.randint(0, 5, (60, 6), generator=gen).double()
    bounds = torch.stack([torch.zeros(6), torch.full((6,), 4.0)]).double()
    enc = DesignEncoder(bounds, dict.fromkeys(range(6), 5)).fit(X)
    return X, enc


def test_a_decoded_ascent_returns_existing_designs_labelled_by_their_prediction() -> None:
    X, enc = _letters_task()
    Z = enc.encode(X).float()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(Z.shape[1], 16), nn.Tanh(), nn.Linear(16, 1))
    round_trip = lambda z: enc.encode(enc.decode(z))  # noqa: E731
    out, labels = gradient_ascent(
        net, Z, steps=30, step_size=0.2, optimizer="adam", project=round_trip
    )
    # every row of D' is the encoding of a design, labelled by its own prediction
    torch.testing.assert_close(round_trip(out).float(), out)
    torch.testing.assert_close(labels, net(out).squeeze(-1))
    # never below the start (the start is a candidate), and letters did change
    assert bool((labels >= net(Z).squeeze(-1) - 1e-6).all())
    assert bool((enc.decode(out) != X).any())
    # the plain ascent ends between letters
    plain, _ = gradient_ascent(net, Z, steps=30, step_size=0.2, optimizer="adam")
    assert not torch.allclose(round_trip(plain).float(), plain)


def test_a_decoded_ascent_reaches_the_best_design_of_a_separable_score() -> None:
    """A score linear in the logits, with one letter per position clearly best:
    the decoded ascent's D' is that design from every start."""
    X, enc = _letters_task()
    Z = enc.encode(X)
    gen = torch.Generator().manual_seed(1)
    best = torch.randint(1, 5, (6,), generator=gen)
    # per position: +3 on the best letter's logit, -0.5 on the other three, so
    # the best letter scores 3 gaps, letter 0 -1.5 gaps and the others -0.5
    a = torch.full((6, 4), -0.5, dtype=torch.float64)
    a[torch.arange(6), best - 1] = 3.0
    net = nn.Linear(Z.shape[1], 1, bias=False).double()
    with torch.no_grad():
        net.weight.copy_((a.reshape(-1) * enc.std).unsqueeze(0))  # a . F up to a constant
    out, labels = gradient_ascent(
        net,
        Z,
        steps=50,
        step_size=0.1,
        optimizer="sgd",
        units=enc.design_units(),
        project=lambda z: enc.encode(enc.decode(z)),
    )
    assert bool((enc.decode(out) == best.double()).all())
    torch.testing.assert_close(
        labels, net(enc.encode(best.double().unsqueeze(0))).expand(60, 1)[:, 0]
    )
