"""Phase 1a: the surrogate f_theta, an MLP regressor trained with MSE (Eq. 5)."""

from __future__ import annotations

import torch

from botorch_demo.surrogate import predict_batched


def test_fits_a_smooth_function(make_gaussian_quadratic, make_surrogate) -> None:
    X, y = make_gaussian_quadratic()
    net, stats = make_surrogate(X, y)
    assert len(stats.epoch_losses) == 60
    assert stats.epoch_losses[-1] < 0.2 * stats.epoch_losses[0]
    X_test, y_test = make_gaussian_quadratic(seed=1)
    pred = predict_batched(net, X_test, batch_size=100)
    corr = torch.corrcoef(torch.stack([pred, y_test]))[0, 1]
    assert corr.item() > 0.9
    assert not any(p.requires_grad for p in net.parameters())


def test_seeded_fit_is_deterministic(make_gaussian_quadratic, make_surrogate) -> None:
    X, y = make_gaussian_quadratic(n=128)
    a, _ = make_surrogate(X, y)
    b, _ = make_surrogate(X, y)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
