"""The GP nodes' generator: the training-subset policy, the qEI baseline batch
and partly known noise."""

from __future__ import annotations

import pytest
import torch
from ax.core.search_space import SearchSpaceDigest
from botorch.utils.datasets import SupervisedDataset

from botorch_demo.ax import (
    SubsetBoTorchGenerator,
    attach_offline_data,
    demo_generation_strategy,
    qei_generation_strategy,
    training_subset,
)
from botorch_demo.ax._ax_private import client_experiment, client_generation_strategy


def test_policy_keeps_top_recent_and_random_fill() -> None:
    Y = torch.arange(100, dtype=torch.double).unsqueeze(-1)
    trials = torch.arange(100)
    rows = training_subset(Y, 1.0, 30, n_top=10, n_recent=5, group_indices=trials, seed=0)
    assert rows.numel() == 30
    assert set(range(90, 100)) <= set(rows.tolist())
    # Minimising keeps the smallest values; the newest trials are kept too.
    rows = training_subset(Y, -1.0, 30, n_top=10, n_recent=5, group_indices=-trials, seed=0)
    assert set(range(10)) <= set(rows.tolist())
    assert torch.equal(rows, training_subset(Y, -1.0, 30, 10, 5, -trials, 0))
    assert not torch.equal(rows, training_subset(Y, -1.0, 30, 10, 5, -trials, 1))
    assert training_subset(Y, 1.0, 200, 10).numel() == 100


@pytest.mark.slow
def test_qei_baseline_batch_is_new_and_distinct(make_tf8_client, tf8_frame, tf8_design) -> None:
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(1000))
    experiment = client_experiment(client)
    offline = {tf8_design(a.parameters) for a in experiment.arms_by_name.values()}
    client.set_generation_strategy(qei_generation_strategy(batch_size=16, max_points=60))
    trials = client.get_next_trials(max_trials=16)
    designs = [tf8_design(p) for p in trials.values()]
    assert len(set(designs)) == 16
    assert not set(designs) & offline
    generator = client_generation_strategy(client).adapter.generator
    assert len(generator.surrogate.training_data[0].X) == 60
    runs = [experiment.trials[i].generator_runs[0] for i in trials]
    assert all(r.gen_metadata["batch_selection"] == "kriging_believer_log_ei" for r in runs)


@pytest.mark.slow
def test_gp_node_after_demo_accepts_partly_known_noise(
    make_tf8_client, tf8_frame, tf8_oracle, ax_smoke
) -> None:
    """Offline rows without SEM, online results with ``sem=0.0``."""
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(300))
    client.set_generation_strategy(
        demo_generation_strategy(batch_size=3, max_points=40, online_batch_size=2, **ax_smoke)
    )
    trials = client.get_next_trials(max_trials=3)
    for index, parameters in trials.items():
        client.complete_trial(index, {"score": (tf8_oracle(parameters), 0.0)})
    online = client.get_next_trials(max_trials=2)
    assert len(online) == 2
    assert client_generation_strategy(client).current_node_name == "GP_qLogNEI"


def test_cross_validation_trains_on_a_subset_of_the_fold() -> None:
    X = torch.rand(40, 2, generator=torch.Generator().manual_seed(0), dtype=torch.double)
    Y = -(X - 0.5).pow(2).sum(-1, keepdim=True)
    dataset = SupervisedDataset(X=X, Y=Y, feature_names=["a", "b"], outcome_names=["y"])
    digest = SearchSpaceDigest(feature_names=["a", "b"], bounds=[(0.0, 1.0)] * 2)
    generator = SubsetBoTorchGenerator(max_points=10, n_top=5, n_recent=0)
    generator.fit([dataset], digest)
    mean, cov = generator.cross_validate(
        datasets=[dataset], X_test=X[:3], search_space_digest=digest
    )
    assert mean.shape == (3, 1) and cov.shape == (3, 1, 1)
    assert generator.surrogate.training_data[0].X.shape[0] == 10
