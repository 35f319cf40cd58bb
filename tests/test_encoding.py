"""Design encoding: raw space <-> standardised network space."""

import math

import torch
from botorch.utils.testing import BotorchTestCase

from botorch_demo.encoding import DesignEncoder


def _mixed_data(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, dict[int, int]]:
    gen = torch.Generator().manual_seed(seed)
    bounds = torch.tensor([[-5.0, 0.0, 0.0, 10.0], [5.0, 3.0, 2.0, 20.0]], dtype=torch.float64)
    cats = {1: 4, 2: 3}
    X = torch.empty(n, 4, dtype=torch.float64)
    X[:, 0] = -5 + 10 * torch.rand(n, generator=gen, dtype=torch.float64)
    X[:, 1] = torch.randint(0, 4, (n,), generator=gen).double()
    X[:, 2] = torch.randint(0, 3, (n,), generator=gen).double()
    X[:, 3] = 10 + 10 * torch.rand(n, generator=gen, dtype=torch.float64)
    return X, bounds, cats


class TestDesignEncoder(BotorchTestCase):
    def test_round_trip_both_encodings(self) -> None:
        X, bounds, cats = _mixed_data()
        for encoding, width in (("logits", 2 + 3 + 2), ("onehot", 2 + 4 + 3)):
            enc = DesignEncoder(bounds, cats, encoding=encoding).fit(X)
            self.assertEqual(enc.encoded_dim, width)
            Z = enc.encode(X)
            self.assertEqual(Z.shape, (X.shape[0], width))
            self.assertAllClose(Z.mean(0), torch.zeros(width, dtype=Z.dtype), atol=1e-10)
            self.assertAllClose(Z.std(0), torch.ones(width, dtype=Z.dtype), atol=1e-10)
            self.assertAllClose(enc.decode(Z), X)

    def test_design_bench_logits(self) -> None:
        # One-hot smoothed with weight 0.6 towards uniform, log, minus first logit.
        bounds = torch.tensor([[0.0], [3.0]])
        enc = DesignEncoder(bounds, {0: 4}, encoding="logits", smoothing=0.6)
        feats = enc._embed(torch.tensor([[2.0]]))
        hi, lo = 0.6 + 0.4 / 4, 0.4 / 4
        expected = torch.tensor([[0.0, math.log(hi / lo), 0.0]])
        self.assertAllClose(feats, expected, atol=1e-6)

    def test_decode_clamps_into_bounds_and_returns_valid_categories(self) -> None:
        X, bounds, cats = _mixed_data()
        enc = DesignEncoder(bounds, cats).fit(X)
        Z = 50 * torch.randn(100, enc.encoded_dim, generator=torch.Generator().manual_seed(1))
        out = enc.decode(Z.double())
        self.assertTrue(((out >= bounds[0]) & (out <= bounds[1])).all())
        for j, n_cat in cats.items():
            col = out[:, j]
            self.assertTrue(torch.equal(col, col.round()))
            self.assertTrue(((col >= 0) & (col <= n_cat - 1)).all())

    def test_constant_column_does_not_divide_by_zero(self) -> None:
        X, bounds, cats = _mixed_data()
        X[:, 0] = 1.0
        enc = DesignEncoder(bounds, cats).fit(X)
        self.assertTrue(torch.isfinite(enc.encode(X)).all())
        self.assertAllClose(enc.decode(enc.encode(X)), X)

    def test_state_dict_round_trip(self) -> None:
        X, bounds, cats = _mixed_data()
        enc = DesignEncoder(bounds, cats).fit(X)
        other = DesignEncoder(bounds, cats)
        other.load_state_dict(enc.state_dict())
        self.assertAllClose(other.encode(X), enc.encode(X))
