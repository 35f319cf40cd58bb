"""Kriging-believer batches on continuous and mixed spaces
(``kriging_believer_optimize``) and through the GP node's generator."""

from __future__ import annotations

import math

import pytest
import torch
from ax.core.search_space import SearchSpaceDigest
from botorch.acquisition.analytic import LogExpectedImprovement
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from botorch.fit import fit_gpytorch_mll
from botorch.models import MixedSingleTaskGP, SingleTaskGP
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood

from botorch_demo.ax import attach_offline_data, qlognei_generation_strategy
from botorch_demo.ax._ax_private import client_experiment
from botorch_demo.ax.batch_ei import (
    believe,
    kriging_believer_batch,
    kriging_believer_optimize,
    linear_inequalities,
    log_expected_improvement,
)

KW = {"dtype": torch.float64}


def _two_peaks() -> SingleTaskGP:
    X = torch.tensor([[0.0], [0.15], [0.3], [0.5], [0.7], [0.85], [1.0]], **KW)
    Y = torch.tensor([[0.0], [1.0], [0.0], [-0.5], [0.0], [0.95], [0.0]], **KW)
    gp = SingleTaskGP(X, Y)
    gp.covar_module.lengthscale = 0.1
    gp.likelihood.noise = 1e-4
    gp.eval()
    return gp


def test_fantasies_spread_an_enumerated_batch_over_both_peaks() -> None:
    """Without the fantasies the batch is the top-q of the first LogEI: one peak."""
    gp = _two_peaks()
    grid = torch.linspace(0, 1, 51, **KW).unsqueeze(-1)
    with torch.no_grad():
        first = LogExpectedImprovement(gp, best_f=1.0)(grid.unsqueeze(1))
    top2 = grid[first.argsort(descending=True)[:2]].squeeze(-1)
    assert (top2 < 0.5).all()  # greedy without fantasies: both at 0.15
    chosen = grid[kriging_believer_batch(gp, grid, q=2, best_f=1.0, sign=1.0)]
    assert float(chosen[0]) == pytest.approx(float(grid[first.argmax()]), abs=5e-13)
    assert float(chosen[0]) < 0.5
    assert float(chosen[1]) > 0.5  # the believed first pick moves the second


def _conditioned_choices(gp, pool: torch.Tensor, q: int, best_f: float, sign: float) -> list:
    """The Kriging believer written out: condition the GP on each choice."""
    transform = ScalarizedPosteriorTransform(weights=pool.new_tensor([sign]))
    chosen, model = [], gp
    for _ in range(q):
        with torch.no_grad():
            values = LogExpectedImprovement(model, best_f=best_f, posterior_transform=transform)(
                pool.unsqueeze(1)
            )
        values[chosen] = -math.inf
        j = int(values.argmax())
        chosen.append(j)
        model = believe(model, pool[j : j + 1])
    return chosen


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_closed_form_fantasies_choose_as_conditioning_the_gp_does(sign: float) -> None:
    gen = torch.Generator().manual_seed(3)
    X = torch.rand(60, 3, generator=gen, **KW)
    Y = torch.sin(6 * X).sum(-1, keepdim=True) + 0.05 * torch.randn(60, 1, generator=gen, **KW)
    gp = SingleTaskGP(X, Y, outcome_transform=Standardize(m=1))
    fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
    gp.eval()
    pool = torch.rand(300, 3, generator=gen, **KW)
    best_f = float((sign * Y).max())
    order = kriging_believer_batch(gp, pool, q=12, best_f=best_f, sign=sign, n_prescreen=300)
    reference = _conditioned_choices(gp, pool, 12, best_f, sign)
    assert order.tolist() == reference
    assert len(set(reference)) == 12


def test_log_expected_improvement_matches_botorch_far_into_the_tail() -> None:
    X = torch.tensor([[0.1], [0.5], [0.9]], **KW)
    gp = SingleTaskGP(X, torch.tensor([[0.0], [1.0], [0.5]], **KW))
    gp.eval()
    grid = torch.linspace(0, 1, 7, **KW).unsqueeze(-1)
    with torch.no_grad():
        posterior = gp.posterior(grid)
    mean, sigma = posterior.mean.reshape(-1), posterior.variance.reshape(-1).sqrt()
    for best_f in (-3.0, 0.0, 0.9, 2.0, 10.0, 200.0):
        ours = log_expected_improvement(mean, sigma, best_f)
        with torch.no_grad():
            theirs = LogExpectedImprovement(gp, best_f=best_f)(grid.unsqueeze(1))
        u = ((mean - best_f) / sigma).abs().max()
        assert torch.isfinite(ours).all(), best_f
        assert torch.allclose(ours, theirs, rtol=1e-6, atol=1e-6), (best_f, float(u))
    assert float(u) > 1e3  # the last incumbent reaches the asymptotic branch


def test_fantasies_spread_a_continuous_batch_over_both_peaks() -> None:
    torch.manual_seed(0)
    digest = SearchSpaceDigest(feature_names=["x"], bounds=[(0.0, 1.0)])
    batch = kriging_believer_optimize(_two_peaks(), digest, q=2, best_f=1.0, sign=1.0)
    assert batch.shape == (2, 1) and batch.dtype == torch.float64
    assert 0.0 < float(batch[0]) < 0.5 < float(batch[1]) < 1.0


def test_pending_designs_are_believed_before_the_first_step() -> None:
    torch.manual_seed(0)
    digest = SearchSpaceDigest(feature_names=["x"], bounds=[(0.0, 1.0)])
    alone = kriging_believer_optimize(_two_peaks(), digest, q=1, best_f=1.0, sign=1.0)
    pending = kriging_believer_optimize(
        _two_peaks(), digest, q=1, best_f=1.0, sign=1.0, pending=alone
    )
    # The first peak is taken by the pending design: the step goes to the other.
    assert (float(alone[0]) < 0.5) != (float(pending[0]) < 0.5)


def test_minimising_sign_and_fixed_features_and_linear_constraints() -> None:
    torch.manual_seed(0)
    X = torch.rand(30, 2, **KW)
    Y = (X - 0.3).pow(2).sum(-1, keepdim=True)  # minimum at (0.3, 0.3)
    gp = SingleTaskGP(X, Y)
    gp.eval()
    digest = SearchSpaceDigest(feature_names=["a", "b"], bounds=[(0.0, 1.0)] * 2)
    best_f = float(-Y.min())
    small = {"num_restarts": 4, "raw_samples": 128}
    batch = kriging_believer_optimize(gp, digest, q=3, best_f=best_f, sign=-1.0, **small)
    assert batch.shape == (3, 2)
    assert float((batch[0] - 0.3).norm()) < 0.25
    fixed = kriging_believer_optimize(
        gp, digest, q=2, best_f=best_f, sign=-1.0, fixed_features={1: 0.9}, **small
    )
    assert torch.equal(fixed[:, 1], torch.full((2,), 0.9, **KW))
    # a + b >= 1.2, written as Ax's A x <= b.
    linear = (torch.tensor([[-1.0, -1.0]], **KW), torch.tensor([-1.2], **KW))
    constrained = kriging_believer_optimize(
        gp, digest, q=2, best_f=best_f, sign=-1.0, linear_constraints=linear, **small
    )
    assert (constrained.sum(-1) >= 1.2 - 1e-6).all()
    indices, coefficients, rhs = linear_inequalities(linear)[0]
    assert indices.tolist() == [0, 1] and coefficients.tolist() == [1.0, 1.0] and rhs == 1.2
    assert linear_inequalities(None) is None


def test_mixed_space_keeps_categories_in_their_choices() -> None:
    torch.manual_seed(0)
    X = torch.cat([torch.rand(40, 2, **KW), torch.randint(0, 3, (40, 1)).to(**KW)], dim=-1)
    Y = -(X[:, :2] - 0.5).pow(2).sum(-1, keepdim=True) + (X[:, 2:] == 1).to(X)
    gp = MixedSingleTaskGP(X, Y, cat_dims=[2])
    gp.eval()
    digest = SearchSpaceDigest(
        feature_names=["a", "b", "c"],
        bounds=[(0.0, 1.0), (0.0, 1.0), (0.0, 2.0)],
        categorical_features=[2],
        discrete_choices={2: [0, 1, 2]},
    )
    batch = kriging_believer_optimize(
        gp, digest, q=2, best_f=float(Y.max()), sign=1.0, num_restarts=4, raw_samples=64
    )
    assert batch.shape == (2, 3)
    assert set(batch[:, 2].tolist()) <= {0.0, 1.0, 2.0}
    assert float(batch[0, 2]) == 1.0


@pytest.mark.slow
@pytest.mark.parametrize("believer", [True, False])
def test_gp_node_serves_one_arm_trials_from_one_continuous_batch(believer: bool) -> None:
    from ax.api.client import Client
    from ax.api.configs import RangeParameterConfig

    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            RangeParameterConfig(name=n, parameter_type="float", bounds=(0.0, 1.0))
            for n in ("a", "b")
        ]
    )
    client.configure_optimization(objective="y")
    X = torch.rand(40, 2, generator=torch.Generator().manual_seed(0), **KW)
    y = -(X - 0.7).pow(2).sum(-1)
    attach_offline_data(client, X.numpy(), y.numpy())
    client.set_generation_strategy(
        qlognei_generation_strategy(
            batch_size=4, max_points=30, continuous_kriging_believer=believer
        )
    )
    trials = client.get_next_trials(max_trials=4)
    experiment = client_experiment(client)
    runs = [experiment.trials[i].generator_runs[0] for i in trials]
    selection = {r.gen_metadata.get("batch_selection") for r in runs}
    assert selection == ({"kriging_believer_log_ei"} if believer else {None})
    designs = {tuple(p.values()) for p in trials.values()}
    assert len(designs) == 4
    assert not designs & {tuple(r) for r in X.tolist()}


def test_continuous_kriging_believer_must_be_a_bool_and_n_sources_positive() -> None:
    from ax.exceptions.core import UserInputError

    from botorch_demo.ax import SubsetBoTorchGenerator

    with pytest.raises(UserInputError, match="continuous_kriging_believer"):
        qlognei_generation_strategy(continuous_kriging_believer="yes")
    with pytest.raises(UserInputError, match="continuous_kriging_believer must be a bool"):
        SubsetBoTorchGenerator(continuous_kriging_believer=1)
    with pytest.raises(UserInputError, match="n_sources must be an int >= 1"):
        SubsetBoTorchGenerator(n_sources=0)


def test_discrete_candidates_are_mutants_and_draws_within_the_constraints() -> None:
    from botorch_demo.ax.batch_ei import discrete_candidates

    digest = SearchSpaceDigest(
        feature_names=["a", "b", "c"],
        bounds=[(0.0, 3.0)] * 3,
        ordinal_features=[0, 1, 2],
        discrete_choices={j: [0.0, 1.0, 2.0, 3.0] for j in range(3)},
    )
    source = torch.tensor([[1.0, 1.0, 1.0]], **KW)
    mutants = discrete_candidates(digest, source, num_random=0)
    # The source and its 3 x 3 single-site mutants.
    assert mutants.shape == (10, 3)
    assert ((mutants != source).sum(-1) <= 1).all()
    both = discrete_candidates(digest, source, num_random=200, seed=1)
    assert both.shape[0] > 10 and torch.unique(both, dim=0).shape[0] == both.shape[0]
    assert torch.equal(both, discrete_candidates(digest, source, num_random=200, seed=1))
    fixed = discrete_candidates(digest, source, num_random=50, fixed_features={2: 3.0})
    assert (fixed[:, 2] == 3.0).all()
    linear = (torch.tensor([[1.0, 1.0, 1.0]], **KW), torch.tensor([2.0], **KW))
    assert (discrete_candidates(digest, source, 50, linear_constraints=linear).sum(-1) <= 2).all()


@pytest.mark.slow
def test_a_discrete_space_too_large_to_enumerate_is_served_by_the_believer() -> None:
    from ax.api.client import Client
    from ax.api.configs import ChoiceParameterConfig

    client = Client(random_seed=0)
    client.configure_experiment(
        parameters=[
            ChoiceParameterConfig(name=f"x{j}", parameter_type="int", values=[0, 1, 2, 3])
            for j in range(12)
        ]
    )
    client.configure_optimization(objective="y")
    X = torch.randint(0, 4, (200, 12), generator=torch.Generator().manual_seed(0)).double()
    y = (X == 2).sum(-1).double()
    attach_offline_data(client, X.numpy(), y.numpy())
    client.set_generation_strategy(qlognei_generation_strategy(batch_size=4, max_points=60))
    trials = client.get_next_trials(max_trials=4)
    experiment = client_experiment(client)
    runs = [experiment.trials[i].generator_runs[0] for i in trials]
    assert {r.gen_metadata.get("batch_selection") for r in runs} == {"kriging_believer_log_ei"}
    designs = {tuple(p[f"x{j}"] for j in range(12)) for p in trials.values()}
    assert len(designs) == 4
    assert not designs & {tuple(int(v) for v in r) for r in X.tolist()}
