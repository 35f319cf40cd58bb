"""Design encoding: raw space <-> standardised network space."""

from __future__ import annotations

import math

import pytest
import torch

from botorch_demo.encoding import DesignEncoder


@pytest.fixture
def mixed() -> tuple[torch.Tensor, torch.Tensor, dict[int, int]]:
    """200 designs: continuous, 4-way categorical, 3-way categorical, continuous."""
    gen = torch.Generator().manual_seed(0)
    n = 200
    bounds = torch.tensor([[-5.0, 0.0, 0.0, 10.0], [5.0, 3.0, 2.0, 20.0]], dtype=torch.float64)
    cats = {1: 4, 2: 3}
    X = torch.empty(n, 4, dtype=torch.float64)
    X[:, 0] = -5 + 10 * torch.rand(n, generator=gen, dtype=torch.float64)
    X[:, 1] = torch.randint(0, 4, (n,), generator=gen).double()
    X[:, 2] = torch.randint(0, 3, (n,), generator=gen).double()
    X[:, 3] = 10 + 10 * torch.rand(n, generator=gen, dtype=torch.float64)
    return X, bounds, cats


@pytest.mark.parametrize(("encoding", "width"), [("logits", 2 + 3 + 2), ("onehot", 2 + 4 + 3)])
def test_round_trip(encoding: str, width: int, mixed) -> None:
    X, bounds, cats = mixed
    enc = DesignEncoder(bounds, cats, encoding=encoding).fit(X)
    assert enc.encoded_dim == width
    Z = enc.encode(X)
    assert Z.shape == (X.shape[0], width)
    torch.testing.assert_close(Z.mean(0), torch.zeros(width, dtype=Z.dtype), rtol=1e-5, atol=1e-10)
    torch.testing.assert_close(Z.std(0), torch.ones(width, dtype=Z.dtype), rtol=1e-5, atol=1e-10)
    torch.testing.assert_close(enc.decode(Z), X, rtol=1e-5, atol=1e-8)


def test_design_bench_logits() -> None:
    # One-hot smoothed with weight 0.6 towards uniform, log, minus first logit.
    bounds = torch.tensor([[0.0], [3.0]])
    enc = DesignEncoder(bounds, {0: 4}, encoding="logits", smoothing=0.6)
    feats = enc._embed(torch.tensor([[2.0]]))
    hi, lo = 0.6 + 0.4 / 4, 0.4 / 4
    expected = torch.tensor([[0.0, math.log(hi / lo), 0.0]])
    torch.testing.assert_close(feats, expected, rtol=1e-5, atol=1e-6)


def test_decode_clamps_into_bounds_and_returns_valid_categories(mixed) -> None:
    X, bounds, cats = mixed
    enc = DesignEncoder(bounds, cats).fit(X)
    Z = 50 * torch.randn(100, enc.encoded_dim, generator=torch.Generator().manual_seed(1))
    out = enc.decode(Z.double())
    assert ((out >= bounds[0]) & (out <= bounds[1])).all()
    for j, n_cat in cats.items():
        col = out[:, j]
        assert torch.equal(col, col.round())
        assert ((col >= 0) & (col <= n_cat - 1)).all()


def test_constant_column_does_not_divide_by_zero(mixed) -> None:
    X, bounds, cats = mixed
    X[:, 0] = 1.0
    enc = DesignEncoder(bounds, cats).fit(X)
    assert torch.isfinite(enc.encode(X)).all()
    torch.testing.assert_close(enc.decode(enc.encode(X)), X, rtol=1e-5, atol=1e-8)


def test_state_dict_round_trip(mixed) -> None:
    X, bounds, cats = mixed
    enc = DesignEncoder(bounds, cats).fit(X)
    other = DesignEncoder(bounds, cats)
    other.load_state_dict(enc.state_dict())
    torch.testing.assert_close(other.encode(X), enc.encode(X), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("encoding", ["logits", "onehot"])
def test_design_units_are_one_sd_or_one_letter_change(encoding):
    X = torch.tensor([[0.1, 0.0], [0.9, 1.0], [0.5, 3.0], [0.3, 2.0], [0.7, 1.0]])
    bounds = torch.tensor([[0.0, 0.0], [1.0, 3.0]])
    enc = DesignEncoder(bounds, {1: 4}, encoding, smoothing=0.6).fit(X)
    units = enc.design_units()
    assert units.shape == (enc.encoded_dim,)
    assert units[0] == 1.0  # continuous: one offline SD is one standardised unit
    gap = math.log1p(0.6 * 4 / 0.4) if encoding == "logits" else 1.0
    torch.testing.assert_close(units[1:], gap / enc.std[1:])
    # moving every coordinate of the position by a little more than one unit away
    # from its letter (its own coordinate down, the others up) changes the letter;
    # exactly one unit ties the letter with the others
    for row in (0, 2):
        letter = int(X[row, 1])
        sign = torch.ones(enc.encoded_dim)
        sign[0] = 0.0
        own = 1 + letter - (1 if encoding == "logits" else 0)
        if own >= 1:
            sign[own] = -1.0
        moved = enc.encode(X[row : row + 1]) + 1.05 * sign * units
        assert int(enc.decode(moved)[0, 1]) != letter
