"""A GP with DEMO's surrogate as its prior mean, alone and as the pool node's GP."""

from __future__ import annotations

import warnings

import pytest
import torch
from ax.exceptions.core import UserInputError
from botorch.exceptions.warnings import InputDataWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.input import Normalize
from gpytorch.mlls import ExactMarginalLogLikelihood

from botorch_demo.ax import DEMOPoolGenerator, demo_pool_qei_strategy
from botorch_demo.ax._ax_private import (
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)
from botorch_demo.ax.campaign_strategies import POOL_NODE, demo_pool_node
from botorch_demo.ax.offline_data import attach_offline_data
from botorch_demo.ax.pool_qei import (
    GP_CANDIDATES_KEY,
    GP_TAKEN_KEY,
    POOL_SIZE_KEY,
    PRIOR_MEAN_KEY,
)
from botorch_demo.ax.prior_mean import SurrogatePriorMean, surrogate_prior_gp

D = 6
BOUNDS = torch.tensor([[-1.0] * D, [1.0] * D], dtype=torch.double)


def _truth(X: torch.Tensor) -> torch.Tensor:
    return torch.sin(3 * X).sum(-1) + (X**2).sum(-1)


def _data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, D, generator=g, dtype=torch.double) * 2 - 1
    return X, _truth(X)


@pytest.fixture
def standardised() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, object]:
    """30 training and 500 test designs of a 6-d function, targets standardised
    with the training statistics, and that standardisation."""
    X, y = _data(30, 0)
    Xt, yt = _data(500, 1)
    mu, sd = y.mean(), y.std()

    def scale(v: torch.Tensor) -> torch.Tensor:
        return (v - mu) / sd

    return X, scale(y).unsqueeze(-1), Xt, scale(yt), scale


def _rmse(model, Xt: torch.Tensor, yt: torch.Tensor) -> float:
    with torch.no_grad():
        return float(((model.posterior(Xt).mean.squeeze(-1) - yt) ** 2).mean().sqrt())


def test_the_mean_maps_normalised_designs_back_and_keeps_batch_shapes() -> None:
    seen: list[torch.Tensor] = []

    def surrogate(Z: torch.Tensor) -> torch.Tensor:
        seen.append(Z)
        return Z.sum(-1)

    lower = torch.tensor([-1.0, 0.0, 10.0], dtype=torch.double)
    width = torch.tensor([2.0, 1.0, 5.0], dtype=torch.double)
    mean = SurrogatePriorMean(surrogate, lower, width)
    with torch.no_grad():
        mean.scale.fill_(2.0)
        mean.offset.fill_(-1.0)
    x = torch.rand(4, 3, 3, dtype=torch.double)
    out = mean(x)
    assert out.shape == (4, 3)
    raw = lower + x * width
    torch.testing.assert_close(seen[-1], raw.reshape(-1, 3))
    torch.testing.assert_close(out, -1.0 + 2.0 * raw.sum(-1))
    with pytest.raises(ValueError, match="vectors of one shape"):
        SurrogatePriorMean(surrogate, lower, width[:2])


def test_the_mean_reuses_predictions_for_the_designs_of_the_previous_call() -> None:
    calls: list[int] = []

    def surrogate(Z: torch.Tensor) -> torch.Tensor:
        calls.append(Z.shape[0])
        return Z.sum(-1)

    lower, width = torch.zeros(3, dtype=torch.double), torch.ones(3, dtype=torch.double)
    mean = SurrogatePriorMean(surrogate, lower, width)
    x = torch.rand(5, 3, dtype=torch.double)
    first = mean(x)
    again = mean(x.clone())
    assert calls == [5]
    torch.testing.assert_close(again, first)
    with torch.no_grad():
        mean.scale.fill_(3.0)
    torch.testing.assert_close(mean(x), 3.0 * x.sum(-1))
    assert calls == [5]
    y = x.clone()
    y[2, 1] += 0.5
    torch.testing.assert_close(mean(y), 3.0 * y.sum(-1))
    assert calls == [5, 5]
    torch.testing.assert_close(mean(y.float()), 3.0 * y.sum(-1).float())
    assert calls == [5, 5, 5]
    torch.testing.assert_close(mean(y[:4]), 3.0 * y[:4].sum(-1))
    assert calls == [5, 5, 5, 4]
    big = torch.rand(2**20 // 3 + 1, 3, dtype=torch.double)
    mean(big)
    mean(big)
    assert calls[-2:] == [big.shape[0], big.shape[0]]


def test_a_good_surrogate_leaves_the_gp_only_the_residual(standardised) -> None:
    X, Y, Xt, yt, scale = standardised
    good = surrogate_prior_gp(X, Y, lambda Z: scale(_truth(Z) + 0.1 * Z[:, 0]), BOUNDS)
    plain = SingleTaskGP(X, Y, input_transform=Normalize(D, bounds=BOUNDS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputDataWarning)
        fit_gpytorch_mll(ExactMarginalLogLikelihood(plain.likelihood, plain))
    assert abs(float(good.mean_module.scale.detach()) - 1.0) < 0.1
    assert _rmse(good, Xt, yt) < 0.1 * _rmse(plain, Xt, yt)


def test_a_useless_surrogate_is_scaled_away(standardised) -> None:
    X, Y, Xt, yt, _ = standardised
    W = torch.randn(D, generator=torch.Generator().manual_seed(2), dtype=torch.double)
    model = surrogate_prior_gp(X, Y, lambda Z: 2 * torch.sin(7 * Z @ W), BOUNDS)
    assert abs(float(model.mean_module.scale.detach())) < 0.2
    # No worse than having no surrogate: the test error of a constant-mean GP
    # on these 30 designs is about 0.56.
    assert _rmse(model, Xt, yt) < 0.65


def test_categorical_columns_reach_the_surrogate_as_exact_codes() -> None:
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 4, (40, 5), generator=g).double()
    X[:, 4] = torch.rand(40, generator=g, dtype=torch.double) * 10  # one numeric column

    def surrogate(Z: torch.Tensor) -> torch.Tensor:
        codes = Z[:, :4]
        assert bool((codes == codes.round()).all()), "a categorical code was not exact"
        return (codes == 2).double().sum(-1) + 0.1 * Z[:, 4]

    Y = surrogate(X).unsqueeze(-1)
    bounds = torch.tensor([[0.0] * 4 + [0.0], [3.0] * 4 + [10.0]], dtype=torch.double)
    model = surrogate_prior_gp(X, Y, surrogate, bounds, cat_dims=[0, 1, 2, 3])
    Xt = torch.randint(0, 4, (50, 5), generator=g).double()
    Xt[:, 4] = 5.0
    with torch.no_grad():
        error = (model.posterior(Xt).mean.squeeze(-1) - surrogate(Xt)).abs().max()
    assert float(error) < 1e-2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"train_Y": torch.zeros(9, 1, dtype=torch.double)}, "train_Y of shape"),
        ({"bounds": BOUNDS[:, :3]}, "bounds of shape"),
        ({"cat_dims": [D]}, "cat_dims"),
    ],
)
def test_shapes_and_columns_are_checked(kwargs: dict, message: str) -> None:
    X, y = _data(10, 0)
    args = {"train_X": X, "train_Y": y.unsqueeze(-1), "bounds": BOUNDS, **kwargs}
    with pytest.raises(ValueError, match=message):
        surrogate_prior_gp(surrogate=lambda Z: Z.sum(-1), **args)


def test_prior_mean_must_be_a_bool() -> None:
    with pytest.raises(UserInputError, match="prior_mean must be a bool"):
        DEMOPoolGenerator(config="smoke", prior_mean=1)
    with pytest.raises(UserInputError, match="prior_mean must be a bool"):
        demo_pool_node(config="smoke", prior_mean="yes")


def test_the_pool_node_scores_demo_edits_with_the_prior_mean_gp(
    make_tf8_client, tf8_frame, complete_all, tf8_design, ax_smoke, tmp_path
) -> None:
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(300))
    strategy = demo_pool_qei_strategy(
        initial_batch_size=4, batch_size=4, pool_size=32, seed=0, prior_mean=True, **ax_smoke
    )
    spec = strategy.nodes_by_name[POOL_NODE].generator_specs[0]
    assert spec.generator_kwargs["prior_mean"] is True
    client.set_generation_strategy(strategy)
    complete_all(client, client.get_next_trials(max_trials=4))
    online = client.get_next_trials(max_trials=4)
    assert len(online) == 4
    experiment = client_experiment(client)
    runs = [experiment.trials[i].generator_runs[0] for i in online]
    assert {generation_node_name(run) for run in runs} == {POOL_NODE}
    scale, offset = runs[0].gen_metadata[PRIOR_MEAN_KEY]
    assert torch.isfinite(torch.tensor([scale, offset])).all()
    assert "topped_up_by_gp" not in runs[0].gen_metadata
    designs = [tf8_design(t.arm.parameters) for t in experiment.trials.values()]
    assert len(set(designs)) == len(designs)


def _online_round(client, tf8_frame, complete_all, tf8_design, option: dict, smoke: dict):
    """The DEMO batch, then one online round of the pool node with ``option``;
    the first online generator run and the generator."""
    attach_offline_data(client, tf8_frame(300))
    strategy = demo_pool_qei_strategy(
        initial_batch_size=4, batch_size=4, pool_size=8, seed=0, prior_mean=True, **option, **smoke
    )
    kwargs = strategy.nodes_by_name[POOL_NODE].generator_specs[0].generator_kwargs
    assert {name: kwargs[name] for name in option} == option
    client.set_generation_strategy(strategy)
    complete_all(client, client.get_next_trials(max_trials=4))
    online = client.get_next_trials(max_trials=4)
    assert len(online) == 4
    experiment = client_experiment(client)
    designs = [tf8_design(t.arm.parameters) for t in experiment.trials.values()]
    assert len(set(designs)) == len(designs)
    run = experiment.trials[min(online)].generator_runs[0]
    return run, client_generation_strategy(client).adapter.generator


@pytest.mark.slow
def test_the_gp_batch_joins_the_pool_as_candidates(
    make_tf8_client, tf8_frame, complete_all, tf8_design, ax_smoke
) -> None:
    option = {"gp_candidates": True}
    run, generator = _online_round(
        make_tf8_client(), tf8_frame, complete_all, tf8_design, option, ax_smoke
    )
    # The GP's own batch (4 designs over all 4^8) adds new designs to 8 edits.
    assert 1 <= run.gen_metadata[GP_CANDIDATES_KEY] <= 4
    assert run.gen_metadata[POOL_SIZE_KEY] <= 8
    assert generator.last_gp_candidates == run.gen_metadata[GP_CANDIDATES_KEY]
    assert GP_TAKEN_KEY not in run.gen_metadata
    with pytest.raises(UserInputError, match="gp_candidates must be a bool"):
        demo_pool_node(config="smoke", gp_candidates=1)


@pytest.mark.slow
def test_a_share_of_the_batch_comes_from_the_gp_outright(
    make_tf8_client, tf8_frame, complete_all, tf8_design, ax_smoke
) -> None:
    option = {"gp_share": 0.5}
    run, generator = _online_round(
        make_tf8_client(), tf8_frame, complete_all, tf8_design, option, ax_smoke
    )
    assert run.gen_metadata[GP_TAKEN_KEY] == generator.last_gp_taken == 2
    assert GP_CANDIDATES_KEY not in run.gen_metadata


@pytest.mark.parametrize("share", [-0.1, 1.5, True, "half"])
def test_gp_share_is_a_fraction(share) -> None:
    with pytest.raises(UserInputError, match="gp_share must be a number in"):
        demo_pool_node(config="smoke", gp_share=share)
    with pytest.raises(UserInputError, match="gp_share must be a number in"):
        DEMOPoolGenerator(config="smoke", gp_share=share)
