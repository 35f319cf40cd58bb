"""The DEMO-pool node without retraining: round 0's model, loaded from its
checkpoint, edits the best designs observed so far, through new rounds and a
reload from SQLite."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from ax.api.client import Client
from ax.exceptions.core import UserInputError

from botorch_demo import DEMO
from botorch_demo.ax import DEMOPoolGenerator, demo_pool_qei_strategy, sqlite_storage_config
from botorch_demo.ax._ax_private import client_experiment, client_generation_strategy
from botorch_demo.ax.arguments import checked_config
from botorch_demo.ax.campaign_strategies import POOL_NODE, demo_pool_node
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.generator import DEMO_METADATA_KEY
from botorch_demo.ax.model_cache import ModelCache, same_order, split_observations
from botorch_demo.ax.offline_data import attach_offline_data
from botorch_demo.ax.pool_qei import POOL_PROPOSED_KEY


def test_scores_in_the_same_order_match() -> None:
    y = torch.tensor([0.3, 1.2, -0.7, 2.5, 0.3], dtype=torch.double)
    assert same_order(y, 3.0 * y - 11.0)
    assert same_order((y - y.mean()) / y.std(), y)
    assert same_order(y.clamp_min(0.3), y)  # Winsorised: a clipped tail ties.
    assert same_order(y, y.clamp_min(0.3))  # A later cut-off may untie it.
    assert not same_order(torch.tensor([0.3, 1.2, -0.7, 2.5, 2.6], dtype=torch.double), y)
    assert not same_order(-y, y)  # Minimising is not the same data.
    assert not same_order(y.flip(0), y)
    assert not same_order(y[:3], y)
    assert not same_order(y, None)
    assert not same_order(torch.ones(5, dtype=torch.double), y)
    constant = torch.ones(3, dtype=torch.double)
    assert same_order(constant, constant.clone())
    assert not same_order(2 * constant, constant)


def test_a_model_kept_for_scores_in_the_same_order_is_not_retrained(
    tf8_generator_inputs, ax_smoke
) -> None:
    dataset, digest, _ = tf8_generator_inputs
    encoding = DesignEncoding.from_digest(digest, dtype=dataset.X.dtype, device=dataset.X.device)
    no_flags = torch.zeros(dataset.X.shape[0], dtype=torch.bool)
    _, data = split_observations(dataset.X, dataset.Y, encoding, no_flags)
    config = checked_config(ax_smoke["config"], ax_smoke["config_overrides"])
    cache = ModelCache(config, seed=0, configured_seed=0, checkpoint_dir=None)
    ordered = ModelCache(
        config, seed=0, configured_seed=0, checkpoint_dir=None, same_order_scores=True
    )
    for c in (cache, ordered):
        c.get(data, 1.0)
    # The same observations, winsorised and standardised again as Ax does when
    # results arrive: the same order, other values.
    Y = data.Y.clamp_min(data.Y.quantile(0.1))
    moved = dataclasses.replace(data, Y=(Y - Y.mean()) / Y.std())
    for c in (cache, ordered):
        c.get(moved, 1.0)
    assert (cache.num_trainings, ordered.num_trainings) == (2, 1)
    reordered = dataclasses.replace(data, Y=data.Y.flip(0))
    ordered.get(reordered, 1.0)
    assert ordered.num_trainings == 2


def test_retrain_demo_must_be_a_bool() -> None:
    with pytest.raises(UserInputError, match="retrain_demo must be a bool"):
        DEMOPoolGenerator(config="smoke", retrain_demo=0)
    with pytest.raises(UserInputError, match="retrain_demo must be a bool"):
        demo_pool_node(config="smoke", retrain_demo="no")
    with pytest.raises(UserInputError, match="retrain_demo must be a bool"):
        demo_pool_qei_strategy(config="smoke", retrain_demo=None)


@pytest.mark.slow
def test_without_retraining_the_online_node_reuses_round_0s_model(
    make_tf8_client, tf8_frame, complete_all, tf8_design, ax_smoke, tmp_path: Path, monkeypatch
) -> None:
    sources: list[torch.Tensor] = []
    real_generate = DEMO.generate

    def recording(self, q, *args, **kwargs):
        if kwargs.get("sources") is not None:
            sources.append(kwargs["sources"].clone())
        return real_generate(self, q, *args, **kwargs)

    monkeypatch.setattr(DEMO, "generate", recording)
    storage = sqlite_storage_config(tmp_path / "ax.db", rebind=True)
    client = make_tf8_client(storage_config=storage)
    attach_offline_data(client, tf8_frame(300))
    strategy = demo_pool_qei_strategy(
        initial_batch_size=4,
        batch_size=4,
        pool_size=8,
        seed=0,
        checkpoint_dir=str(tmp_path / "ckpt"),
        prior_mean=True,
        gp_share=0.5,
        retrain_demo=False,
        **ax_smoke,
    )
    online_kwargs = strategy.nodes_by_name[POOL_NODE].generator_specs[0].generator_kwargs
    assert online_kwargs["retrain_demo"] is False
    # The online node's configuration is the first node's, so its checkpoint key is too.
    first_kwargs = strategy.nodes_by_name["DEMO"].generator_specs[0].generator_kwargs
    assert online_kwargs["config_overrides"] == first_kwargs["config_overrides"]
    client.set_generation_strategy(strategy)
    first = client.get_next_trials(max_trials=4)
    complete_all(client, first)
    experiment = client_experiment(client)
    demo_key = experiment.trials[min(first)].generator_runs[0].gen_metadata[DEMO_METADATA_KEY]

    for _ in range(2):
        complete_all(client, client.get_next_trials(max_trials=4))
    generator = client_generation_strategy(client).adapter.generator
    assert isinstance(generator, DEMOPoolGenerator)
    cache = generator.demo_cache
    # Loaded once from the DEMO node's checkpoint, never trained, through two rounds.
    assert (cache.num_trainings, cache.num_checkpoint_loads) == (0, 1)
    assert cache.key == demo_key
    # Each round edits the best designs observed so far, online results included.
    assert len(sources) == 2
    experiment = client_experiment(client)
    online = [t for t in experiment.trials.values() if t.index > max(first)]
    assert len(online) == 8
    for trial in online:
        metadata = trial.generator_runs[0].candidate_metadata_by_arm_signature
        assert metadata[trial.arm.signature][POOL_PROPOSED_KEY] is True
    data = experiment.lookup_data().df
    best_arm = data.loc[data["mean"].idxmax(), "arm_name"]
    best = tf8_design(experiment.arms_by_name[best_arm].parameters)
    letters = "ACGT"
    assert tuple(letters[int(v)] for v in sources[-1][0].tolist()) == best

    # A reload from SQLite loads the same model again; it does not train.
    del client
    client = Client.load_from_database("tf8", storage_config=storage)
    more = client.get_next_trials(max_trials=4)
    assert len(more) == 4
    complete_all(client, more)
    cache = client_generation_strategy(client).adapter.generator.demo_cache
    assert (cache.num_trainings, cache.num_checkpoint_loads) == (0, 1)
    experiment = client_experiment(client)
    designs = [tf8_design(t.arm.parameters) for t in experiment.trials.values()]
    assert len(set(designs)) == len(designs)
