"""The one-GEMM posterior of categorical-kernel GPs agrees with BoTorch's."""

from __future__ import annotations

import importlib

import pytest
import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import MixedSingleTaskGP, SingleTaskGP
from botorch.models.kernels.categorical import CategoricalKernel
from botorch.models.transforms.outcome import Log, Standardize
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood
from gpytorch.mlls import ExactMarginalLogLikelihood

from botorch_demo.ax.batch_ei import kriging_believer_batch, prescreen_log_ei, prescreen_top
from botorch_demo.ax.categorical_posterior import (
    CategoricalPosterior,
    categorical_posterior,
    match_codes,
)
from botorch_demo.benchmarks import prescreen_speed

categorical_posterior_module = importlib.import_module("botorch_demo.ax.categorical_posterior")
KW = {"dtype": torch.float64}


def _letters(n: int, d: int, vocabulary: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(vocabulary, (n, d), generator=gen).to(**KW)


def _objective(X: torch.Tensor) -> torch.Tensor:
    weights = torch.linspace(-1.0, 1.0, X.shape[-1], **KW)
    return ((X == 1).to(X) * weights).sum(-1, keepdim=True) + 0.3 * (X[:, :1] == X[:, 1:2])


def _mixed_gp(n: int = 80, d: int = 5, seed: int = 0) -> MixedSingleTaskGP:
    """Ax's model of unordered choices: every column categorical, inputs
    normalised to the unit cube, outcomes standardised."""
    X = _letters(n, d, 4, seed)
    gp = MixedSingleTaskGP(
        X / 3.0, _objective(X), cat_dims=list(range(d)), outcome_transform=Standardize(m=1)
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
    gp.eval()
    return gp


def test_match_codes_count_weighted_matches_and_code_unseen_values_as_zero() -> None:
    X = torch.tensor([[0.0, 1.0], [2.0, 1.0]], **KW)
    Z = torch.tensor([[0.0, 1.0], [0.0, 3.0], [5.0, 5.0]], **KW)
    values = [torch.unique(Z[:, j]) for j in range(2)]
    weights = torch.tensor([0.5, 2.0], **KW)
    counts = match_codes(X, values, weights) @ match_codes(Z, values, torch.ones(2, **KW)).T
    expected = torch.tensor([[2.5, 0.5, 0.0], [2.0, 0.0, 0.0]], **KW)
    assert torch.equal(counts, expected)


@pytest.mark.parametrize("table", [True, False], ids=["pattern-table", "exp"])
def test_mixed_gp_posterior_matches_botorch_on_seen_and_unseen_letters(
    table: bool, monkeypatch
) -> None:
    if not table:
        monkeypatch.setattr(categorical_posterior_module, "_MAX_TABLE_COLUMNS", 4)
    gp = _mixed_gp()
    # A vocabulary of 5 where the training data has 4: letter 4 matches nothing.
    X = _letters(300, 5, 5, seed=1) / 3.0
    assert (X == 4.0 / 3.0).any()
    predictor = categorical_posterior(gp)
    assert predictor is not None
    assert (predictor._table is not None) == table
    mean, variance = predictor(X)
    with torch.no_grad():
        posterior = gp.posterior(X)
    torch.testing.assert_close(mean, posterior.mean.reshape(-1), rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(variance, posterior.variance.reshape(-1), rtol=1e-7, atol=1e-10)
    assert float(variance.min()) > 0.0


def test_unscaled_kernel_one_lengthscale_and_fixed_noise() -> None:
    X = _letters(40, 3, 3, seed=2)
    Y = _objective(X)
    gp = SingleTaskGP(
        X,
        Y,
        train_Yvar=torch.full_like(Y, 0.01),
        covar_module=CategoricalKernel(),
        outcome_transform=None,
    )
    gp.covar_module.lengthscale = 0.7
    assert isinstance(gp.likelihood, FixedNoiseGaussianLikelihood)
    gp.eval()
    predictor = categorical_posterior(gp)
    assert predictor is not None
    test = _letters(50, 3, 3, seed=3)
    mean, variance = predictor(test)
    with torch.no_grad():
        posterior = gp.posterior(test)
    torch.testing.assert_close(mean, posterior.mean.reshape(-1), rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(variance, posterior.variance.reshape(-1), rtol=1e-7, atol=1e-10)


def test_repeated_designs_without_noise_are_factored_with_jitter() -> None:
    X = _letters(20, 3, 3, seed=6)
    X = torch.cat([X, X[:5]])
    Y = _objective(X)
    gp = SingleTaskGP(X / 2.0, Y, train_Yvar=torch.zeros_like(Y), covar_module=CategoricalKernel())
    predictor = categorical_posterior(gp)
    assert predictor is not None
    mean, variance = predictor(_letters(30, 3, 3, seed=7) / 2.0)
    assert torch.isfinite(mean).all() and torch.isfinite(variance).all()
    torch.testing.assert_close(predictor(X[:5] / 2.0)[0], Y[:5, 0], atol=1e-3, rtol=0.0)


def test_other_models_fall_back_to_botorch() -> None:
    X = _letters(30, 3, 3, seed=4) / 2.0
    Y = _objective(X) + 2.0
    assert categorical_posterior(SingleTaskGP(X, Y)) is None  # an RBF kernel
    assert categorical_posterior(SingleTaskGP(X, torch.cat([Y, Y], dim=-1))) is None
    logged = SingleTaskGP(X, Y, covar_module=CategoricalKernel(), outcome_transform=Log())
    assert categorical_posterior(logged) is None
    mixed = MixedSingleTaskGP(X, Y, cat_dims=[0])  # a kernel over two kinds of columns
    assert categorical_posterior(mixed) is None
    batched = SingleTaskGP(
        X.expand(2, -1, -1), Y.expand(2, -1, -1), covar_module=CategoricalKernel()
    )
    assert categorical_posterior(batched) is None
    assert categorical_posterior(object()) is None


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_prescreen_and_believer_batch_are_the_same_with_either_posterior(sign: float) -> None:
    gp = _mixed_gp(n=60, d=4, seed=5)
    grid = torch.cartesian_prod(*[torch.arange(4, **KW)] * 4) / 3.0
    best_f = float((sign * gp.train_targets).max())
    fast = prescreen_log_ei(gp, grid, best_f, sign)
    slow = prescreen_log_ei(gp, grid, best_f, sign, categorical=False)
    torch.testing.assert_close(fast, slow, rtol=1e-6, atol=1e-8)
    kwargs = {"q": 6, "best_f": best_f, "sign": sign, "n_prescreen": 40}
    batch = kriging_believer_batch(gp, grid, **kwargs)
    assert torch.equal(batch, kriging_believer_batch(gp, grid, **kwargs, categorical=False))
    assert batch.unique().numel() == 6


def test_prior_variance_bounds_every_posterior_variance() -> None:
    gp = _mixed_gp()
    predictor = categorical_posterior(gp)
    X = _letters(500, 5, 4, seed=8) / 3.0
    mean, variance = predictor(X)
    assert float(variance.max()) <= float(predictor.prior_variance)
    torch.testing.assert_close(predictor.mean(X), mean, rtol=0.0, atol=0.0)
    torch.testing.assert_close(predictor.variance(X), variance, rtol=0.0, atol=0.0)
    with torch.no_grad():
        prior = gp.covar_module(X[:1]).to_dense().reshape(()) * gp.outcome_transform.stdvs.square()
    torch.testing.assert_close(predictor.prior_variance, prior.reshape(()), rtol=1e-10, atol=0.0)
    assert predictor(X[:0])[0].shape == (0,)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_prescreen_top_keeps_the_best_designs_computing_few_variances(
    sign: float, monkeypatch
) -> None:
    gp = _mixed_gp(n=80, d=6, seed=9)
    grid = torch.cartesian_prod(*[torch.arange(4, **KW)] * 6) / 3.0  # 4,096 designs
    best_f = float((sign * gp.train_targets).max())
    rows = []
    variance = CategoricalPosterior.variance

    def counted(self, X):
        rows.append(X.shape[0])
        return variance(self, X)

    monkeypatch.setattr(CategoricalPosterior, "variance", counted)
    values = prescreen_log_ei(gp, grid, best_f, sign)
    for k in (1, 8, 32, 300):
        rows.clear()
        top = prescreen_top(gp, grid, k, best_f, sign)
        assert torch.equal(top, values.argsort(descending=True)[:k])
        assert 2 * k <= sum(rows) <= grid.shape[0]
    slow = prescreen_top(gp, grid, 32, best_f, sign, categorical=False)
    exact = prescreen_log_ei(gp, grid, best_f, sign, categorical=False)
    assert torch.equal(slow, exact.argsort(descending=True)[:32])
    assert prescreen_top(gp, grid[:10], 32, best_f, sign).shape == (10,)
    assert prescreen_top(gp, grid, 0, best_f, sign).shape == (0,)
    with pytest.raises(ValueError, match="non-negative"):
        prescreen_top(gp, grid, -1, best_f, sign)


def test_prescreen_speed_command_compares_both_posteriors(capsys) -> None:
    prescreen_speed.main(["--task", "seq-l8-v4", "--max-points", "60", "--q", "4"])
    out = capsys.readouterr().out
    assert "unobserved designs, GP on 60 points" in out
    assert "same top 1024: True" in out and "same batch: True" in out
    assert out.count(" s\n") >= 4


def test_prescreen_speed_command_refuses_non_sequence_tasks(capsys) -> None:
    with pytest.raises(SystemExit):
        prescreen_speed.main(["--task", "hartmann-6"])
    assert "not a sequence task" in capsys.readouterr().err
