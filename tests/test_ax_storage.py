"""JSON and SQLite round trips of DEMO campaigns (a killed campaign included), and
the binding of Ax's one SQL engine to one database file."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from ax.api.client import Client
from ax.core.trial_status import TrialStatus
from ax.exceptions.core import DataRequiredError
from ax.storage.json_store.decoder import object_from_json
from ax.storage.json_store.encoder import object_to_json
from ax.storage.sqa_store.db import init_engine_and_session_factory

from botorch_demo.ax import (
    DEMOBatchLimit,
    StorageBindingError,
    attach_offline_data,
    check_storage_binding,
    demo_generation_strategy,
    qei_generation_strategy,
    register,
    sqlite_storage_config,
)
from botorch_demo.ax._ax_private import (
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)

K = 8
N_OFFLINE = 200


@pytest.fixture
def strategy(ax_smoke):
    """The DEMO strategy of these tests, optionally with a ``checkpoint_dir``."""

    def build(checkpoint_dir: str | None = None):
        return demo_generation_strategy(
            batch_size=K,
            max_points=40,
            online_batch_size=4,
            checkpoint_dir=checkpoint_dir,
            **ax_smoke,
        )

    return build


@pytest.fixture
def designs(tf8_design):
    """Every design of a client's experiment, in trial order."""

    def collect(client: Client) -> list[tuple[str, ...]]:
        return [tf8_design(t.arm.parameters) for t in client_experiment(client).trials.values()]

    return collect


def test_register_is_idempotent_and_strategies_encode(strategy) -> None:
    register()
    register()
    for original in (strategy(), qei_generation_strategy()):
        decoded = object_from_json(json.loads(json.dumps(object_to_json(original))))
        assert list(decoded.nodes_by_name) == list(original.nodes_by_name)
        decoded_first = next(iter(decoded.nodes_by_name.values()))
        original_first = next(iter(original.nodes_by_name.values()))
        assert (
            decoded_first.generator_specs[0].generator_kwargs
            == original_first.generator_specs[0].generator_kwargs
        )
    limit = object_from_json(object_to_json(DEMOBatchLimit(threshold=5, release_after=3)))
    assert (limit.threshold, limit.release_after) == (5, 3)


@pytest.mark.slow
def test_json_round_trip_continues_generation(
    make_tf8_client, tf8_frame, complete_all, strategy, designs, tmp_path: Path
) -> None:
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(N_OFFLINE))
    client.set_generation_strategy(strategy())
    trials = client.get_next_trials(max_trials=K)
    path = str(tmp_path / "snapshot.json")
    client.save_to_json_file(path)
    loaded = Client.load_from_json_file(path)
    assert client_generation_strategy(loaded).current_node_name == "DEMO"
    assert len(client_experiment(loaded).trials) == N_OFFLINE + K
    complete_all(loaded, trials)
    more = loaded.get_next_trials(max_trials=4)
    assert len(more) == 4
    assert client_generation_strategy(loaded).current_node_name == "GP_qLogNEI"
    assert len(set(designs(loaded))) == len(designs(loaded))


@pytest.mark.slow
def test_campaign_killed_mid_batch_resumes_from_sqlite(
    make_tf8_client, tf8_frame, complete_all, strategy, designs, tmp_path: Path
) -> None:
    storage = sqlite_storage_config(tmp_path / "ax.db", rebind=True)
    client = make_tf8_client(storage_config=storage)
    attach_offline_data(client, tf8_frame(N_OFFLINE))
    client.set_generation_strategy(strategy(checkpoint_dir=str(tmp_path)))
    first = client.get_next_trials(max_trials=K // 2)
    assert client_generation_strategy(client).adapter.generator.num_trainings == 1
    del client  # The process dies here, results not yet in.

    client = Client.load_from_database("tf8", storage_config=storage)
    experiment = client_experiment(client)
    assert len(experiment.trials) == N_OFFLINE + K // 2
    running = experiment.trial_indices_by_status[TrialStatus.RUNNING]
    assert running == set(first)
    # The rest of the same DEMO batch; the model comes from the checkpoint.
    second = client.get_next_trials(max_trials=K)
    assert len(second) == K - K // 2
    generator = client_generation_strategy(client).adapter.generator
    assert (generator.num_trainings, generator.num_checkpoint_loads) == (0, 1)
    with pytest.raises(DataRequiredError):  # No second DEMO batch.
        client.get_next_trials(max_trials=K)
    del client

    client = Client.load_from_database("tf8", storage_config=storage)
    assert len(client_experiment(client).trials) == N_OFFLINE + K
    complete_all(client, {**first, **second})
    online = client.get_next_trials(max_trials=4)
    assert len(online) == 4
    del client

    client = Client.load_from_database("tf8", storage_config=storage)
    experiment = client_experiment(client)
    assert len(experiment.trials) == N_OFFLINE + K + 4
    nodes = [
        generation_node_name(t.generator_runs[0])
        for t in experiment.trials.values()
        if t.index >= N_OFFLINE
    ]
    assert nodes == ["DEMO"] * K + ["GP_qLogNEI"] * 4
    completed = experiment.trial_indices_by_status[TrialStatus.COMPLETED]
    assert len(completed) == N_OFFLINE + K
    assert len(experiment.lookup_data().df) == N_OFFLINE + K
    assert len(set(designs(client))) == len(designs(client))


@pytest.mark.slow
def test_second_database_is_refused_and_nothing_lands_in_the_wrong_file(
    make_tf8_client, tf8_frame, ax_smoke, tmp_path: Path
) -> None:
    """Two SQLite files in one process must not mix campaigns."""
    demo_db, qei_db = tmp_path / "demo.db", tmp_path / "qei.db"
    storage = sqlite_storage_config(demo_db, rebind=True)  # This test's own file.
    demo = make_tf8_client(storage_config=storage)
    attach_offline_data(demo, tf8_frame(50))
    with pytest.raises(StorageBindingError, match="one database file"):
        sqlite_storage_config(qei_db)
    # The DEMO campaign keeps writing to its own file only.
    demo.set_generation_strategy(demo_generation_strategy(batch_size=4, **ax_smoke))
    trials = demo.get_next_trials(max_trials=4)
    assert len(trials) == 4
    reloaded = Client.load_from_database("tf8", storage_config=storage)
    assert len(client_experiment(reloaded).trials) == 50 + 4
    assert not (qei_db.exists() and qei_db.stat().st_size > 0)


def test_two_campaigns_share_one_file_each_with_its_own_trials(
    make_tf8_client, tf8_frame, tmp_path: Path
) -> None:
    path = tmp_path / "both.db"
    storage = sqlite_storage_config(path, rebind=True)
    assert sqlite_storage_config(path).url == storage.url  # Same file: fine.
    demo = make_tf8_client(storage_config=storage, name="tf8_demo")
    qei = make_tf8_client(storage_config=storage, name="tf8_qei")
    attach_offline_data(demo, tf8_frame(30))
    attach_offline_data(qei, tf8_frame(20, seed=1))
    assert len(client_experiment(Client.load_from_database("tf8_demo", storage)).trials) == 30
    assert len(client_experiment(Client.load_from_database("tf8_qei", storage)).trials) == 20


def test_attach_refuses_a_client_whose_database_is_not_the_bound_one(
    make_tf8_client, tf8_frame, tmp_path: Path
) -> None:
    sqlite_storage_config(tmp_path / "a.db", rebind=True)
    other = sqlite_storage_config(tmp_path / "b.db", rebind=True)
    client = make_tf8_client(storage_config=other)
    sqlite_storage_config(tmp_path / "a.db", rebind=True)  # Someone rebinds.
    with pytest.raises(StorageBindingError):
        attach_offline_data(client, tf8_frame(10))
    assert len(client_experiment(client).trials) == 0


@pytest.mark.slow
def test_json_without_the_plugin_import_names_the_package(
    make_tf8_client, tf8_frame, ax_smoke, tmp_path: Path
) -> None:
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(10))
    client.set_generation_strategy(demo_generation_strategy(batch_size=4, **ax_smoke))
    path = tmp_path / "snapshot.json"
    client.save_to_json_file(str(path))
    code = (
        f"from ax.api.client import Client\nClient.load_from_json_file({json.dumps(str(path))})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
    assert "botorch_demo" in result.stderr


def test_a_relative_url_and_a_path_to_the_same_file_are_one_binding(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # A Client's StorageConfig(url="sqlite:///camp.db") bound the engine first.
    init_engine_and_session_factory(url="sqlite:///camp.db", force_init=True)
    storage = sqlite_storage_config("camp.db")
    assert storage.url == f"sqlite:///{tmp_path / 'camp.db'}"
    check_storage_binding("sqlite:///camp.db")
    check_storage_binding(storage.url)
    with pytest.raises(StorageBindingError):
        sqlite_storage_config("other.db")


def test_an_in_memory_database_is_no_file_and_keeps_its_campaigns(
    make_tf8_client, tf8_frame, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    storage = sqlite_storage_config(":memory:", rebind=True)
    assert storage.url == "sqlite:///:memory:"
    assert sqlite_storage_config(":memory:").url == storage.url
    check_storage_binding("sqlite://")
    client = make_tf8_client(storage_config=storage, name="in_memory")
    attach_offline_data(client, tf8_frame(12))
    # Another thread sees the same database (one shared connection).
    with ThreadPoolExecutor(1) as pool:
        loaded = pool.submit(Client.load_from_database, "in_memory", storage).result()
    assert len(client_experiment(loaded).trials) == 12
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_client_of_the_previous_database_refuses_to_generate_after_a_rebind(
    make_tf8_client, tf8_frame, ax_smoke, tmp_path: Path
) -> None:
    first = make_tf8_client(storage_config=sqlite_storage_config(tmp_path / "a.db", rebind=True))
    attach_offline_data(first, tf8_frame(20))
    first.set_generation_strategy(demo_generation_strategy(batch_size=2, **ax_smoke))
    storage_b = sqlite_storage_config(tmp_path / "b.db", rebind=True)
    second = make_tf8_client(storage_config=storage_b, name="other")
    attach_offline_data(second, tf8_frame(5, seed=1))
    with pytest.raises(StorageBindingError, match="rebound"):
        first.get_next_trials(max_trials=2)
    # Nothing of the first campaign landed in the second file.
    reloaded = Client.load_from_database("other", storage_config=storage_b)
    assert len(client_experiment(reloaded).trials) == 5
    # Its own Client still works.
    assert len(client_experiment(second).trials) == 5
