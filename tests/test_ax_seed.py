"""The Ax ``Client``'s ``random_seed`` reaches DEMO: the same Client seed gives
the same DEMO batch, another seed another batch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ax.api.client import Client
from ax.api.configs import RangeParameterConfig

from botorch_demo.ax import attach_offline_data, demo_generation_strategy, sqlite_storage_config


def demo_batch(
    random_seed: int,
    ax_smoke: dict,
    k: int = 3,
    max_trials: int | None = None,
    storage_config=None,
    name: str | None = None,
) -> list[dict]:
    """The first ``max_trials`` (default: ``k``) designs of a DEMO batch of ``k``."""
    client = Client(random_seed=random_seed, storage_config=storage_config)
    client.configure_experiment(
        name=name,
        parameters=[
            RangeParameterConfig(name=f"x{i}", bounds=(0.0, 1.0), parameter_type="float")
            for i in range(3)
        ],
    )
    client.configure_optimization(objective="f")
    X = np.random.default_rng(0).uniform(size=(40, 3))
    frame = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    frame["f"] = -((X - 0.3) ** 2).sum(-1)
    attach_offline_data(client, frame)
    client.set_generation_strategy(demo_generation_strategy(batch_size=k, **ax_smoke))
    return list(client.get_next_trials(max_trials=max_trials or k).values())


@pytest.mark.slow
def test_the_client_seed_sets_the_demo_batch(ax_smoke) -> None:
    first = demo_batch(3, ax_smoke)
    assert demo_batch(3, ax_smoke) == first
    assert demo_batch(4, ax_smoke) != first


@pytest.mark.slow
def test_a_resumed_campaign_serves_the_batch_the_first_run_would_have(ax_smoke, tmp_path) -> None:
    """``Client.load_from_database`` forgets the Client's seed; DEMO takes the
    seed its batch was made with from the experiment (no checkpoint needed)."""
    uninterrupted = demo_batch(5, ax_smoke, k=4)
    storage = sqlite_storage_config(tmp_path / "seed.db", rebind=True)
    first = demo_batch(5, ax_smoke, k=4, max_trials=2, storage_config=storage, name="seeded")
    resumed = Client.load_from_database("seeded", storage_config=storage)
    rest = list(resumed.get_next_trials(max_trials=4).values())
    assert first + rest == uninterrupted
