"""The DEMO node's model cache: what it trains on, its key, checkpoints and their
scores file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from ax.api.client import Client
from ax.generators.torch_base import TorchOptConfig

import botorch_demo.ax.generator as generator_module
from botorch_demo.ax import DEMOGenerator, attach_offline_data, demo_generation_strategy
from botorch_demo.ax.encoding import DesignEncoding
from botorch_demo.ax.model_cache import (
    fingerprint,
    load_targets,
    split_observations,
    targets_path,
)
from botorch_demo.config import DEMOConfig
from botorch_demo.exceptions import CheckpointError
from botorch_demo.fileio import TEMP_SUFFIX, file_mode


@pytest.mark.slow
def test_unchanged_data_is_not_retrained_and_checkpoint_is_reused(
    tf8_generator_inputs, ax_smoke, tmp_path: Path
) -> None:
    dataset, digest, config = tf8_generator_inputs
    first = DEMOGenerator(**ax_smoke, batch_size=8, checkpoint_dir=str(tmp_path))
    first.fit([dataset], digest)
    a = first.gen(4, digest, config).points
    first.fit([dataset], digest)  # Ax refits before every gen.
    b = first.gen(4, digest, config).points
    assert first.num_trainings == 1
    torch.testing.assert_close(a, b)
    # A new generator (a resumed campaign) loads the checkpoint.
    second = DEMOGenerator(**ax_smoke, batch_size=8, checkpoint_dir=str(tmp_path))
    second.fit([dataset], digest)
    torch.testing.assert_close(second.gen(4, digest, config).points, a)
    assert (second.num_trainings, second.num_checkpoint_loads) == (0, 1)
    # Other data or another direction is another model.
    flipped = TorchOptConfig(objective_weights=-config.objective_weights)
    second.gen(4, digest, flipped)
    assert second.num_trainings == 1


def test_checkpoint_files_are_whole_and_readable_by_the_team(
    tf8_generator_inputs, ax_smoke, tmp_path: Path
) -> None:
    dataset, digest, config = tf8_generator_inputs
    generator = DEMOGenerator(**ax_smoke, batch_size=4, seed=3, checkpoint_dir=str(tmp_path))
    generator.fit([dataset], digest)
    generator.gen(4, digest, config)
    key = generator.model_cache.key
    model = tmp_path / f"demo-{key[:32]}.pt"
    assert sorted(p.name for p in tmp_path.iterdir()) == [model.name, targets_path(model).name]
    assert not list(tmp_path.glob(f"*{TEMP_SUFFIX}"))
    assert targets_path(model).stat().st_mode & 0o777 == file_mode()
    targets, seed = load_targets(model)
    assert seed == 3
    assert targets.shape == dataset.Y.shape
    torch.testing.assert_close(targets.sort(dim=0).values, dataset.Y.sort(dim=0).values)


@pytest.mark.slow
def test_retraining_after_reload_is_logged(
    make_tf8_client, tf8_frame, complete_all, ax_smoke, tmp_path: Path, caplog
) -> None:
    """A reload that has to retrain (no ``checkpoint_dir``) says so."""
    client = make_tf8_client()
    attach_offline_data(client, tf8_frame(300))
    client.set_generation_strategy(
        demo_generation_strategy(batch_size=4, min_completed=4, seed=0, **ax_smoke)
    )
    trials = client.get_next_trials(max_trials=2)
    complete_all(client, trials)
    path = tmp_path / "snapshot.json"
    client.save_to_json_file(str(path))
    loaded = Client.load_from_json_file(str(path))
    with caplog.at_level(logging.WARNING, logger=generator_module.logger.name):
        more = loaded.get_next_trials(max_trials=4)
    assert len(more) == 2  # The rest of the batch of 4 designs.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "checkpoint_dir" in "\n".join(warnings)


def _observations(X: torch.Tensor, Y: torch.Tensor):
    bounds = torch.tensor([[0.0] * X.shape[1], [1.0] * X.shape[1]], dtype=X.dtype)
    encoding = DesignEncoding(bounds=bounds, categorical_values={}, ordinal_values={})
    return split_observations(X, Y, encoding, torch.zeros(X.shape[0], dtype=torch.bool))


def test_key_ignores_row_order_and_holds_direction_config_and_seed() -> None:
    X = torch.rand(20, 3, generator=torch.Generator().manual_seed(0), dtype=torch.double)
    Y = X.sum(-1, keepdim=True)
    _, data = _observations(X, Y)
    _, shuffled = _observations(X.flip(0), Y.flip(0))
    config = DEMOConfig.smoke()
    key = fingerprint(data, 1.0, config, None)
    assert fingerprint(shuffled, 1.0, config, None) == key
    assert len(key) == 64
    others = [
        fingerprint(data, -1.0, config, None),
        fingerprint(data, 1.0, DEMOConfig.smoke(m=config.m + 1), None),
        fingerprint(data, 1.0, config, 0),
        fingerprint(_observations(X[1:], Y[1:])[1], 1.0, config, None),
    ]
    assert len({key, *others}) == 5


def test_training_data_leaves_out_demos_own_results() -> None:
    X = torch.rand(6, 2, generator=torch.Generator().manual_seed(1), dtype=torch.double)
    Y = X.sum(-1, keepdim=True)
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.double)
    encoding = DesignEncoding(bounds=bounds, categorical_values={}, ordinal_values={})
    from_demo = torch.tensor([False, True, False, True, False, False])
    observed, data = split_observations(X, Y, encoding, from_demo)
    assert observed.Z.shape[0] == 6
    assert data.Z.shape[0] == 4 and data.n_distinct == 4
    assert not (data.Z.unsqueeze(1) == X[from_demo].unsqueeze(0)).all(-1).any()
    # All of them DEMO's: DEMO trains on all.
    _, data = split_observations(X, Y, encoding, torch.ones(6, dtype=torch.bool))
    assert data.Z.shape[0] == 6


def test_scores_without_the_seed_load_with_seed_none(tmp_path: Path) -> None:
    model = tmp_path / "demo-key.pt"
    torch.save(torch.ones(3, 1), targets_path(model))
    targets, seed = load_targets(model)
    assert torch.equal(targets, torch.ones(3, 1))
    assert seed is None
    assert load_targets(tmp_path / "demo-absent.pt") is None


@pytest.mark.parametrize(
    "content",
    [
        [1.0, 2.0],
        {"targets": [1.0]},
        {"targets": torch.ones(2, 1), "seed": "7"},
        {"targets": torch.ones(2, 1), "seed": True},
        {"targets": torch.ones(2, 1), "seed": 7, "extra": 1},
    ],
    ids=["list", "targets-not-a-tensor", "seed-a-string", "seed-a-bool", "extra-key"],
)
def test_unexpected_scores_file_names_the_file(content: object, tmp_path: Path) -> None:
    model = tmp_path / "demo-key.pt"
    torch.save(content, targets_path(model))
    with pytest.raises(CheckpointError, match=r"is not a DEMO checkpoint's scores file") as info:
        load_targets(model)
    assert str(targets_path(model)) in str(info.value)
    assert "weights_only" not in str(info.value)


@pytest.mark.parametrize(
    "payload",
    [b"", b"not a torch file", b"PK\x03\x04" + bytes(60)],
    ids=["empty", "text", "zip-header"],
)
def test_unreadable_scores_file_names_the_file(payload: bytes, tmp_path: Path) -> None:
    model = tmp_path / "demo-key.pt"
    targets_path(model).write_bytes(payload)
    with pytest.raises(CheckpointError, match=r"torch\.load cannot read it") as info:
        load_targets(model)
    assert str(targets_path(model)) in str(info.value)
    assert "weights_only" not in str(info.value)


def test_a_pickled_object_in_the_scores_file_is_refused_safely(tmp_path: Path) -> None:
    model = tmp_path / "demo-key.pt"
    torch.save({"targets": torch.ones(2, 1), "seed": Path("x")}, targets_path(model))
    with pytest.raises(CheckpointError) as info:
        load_targets(model)
    assert str(targets_path(model)) in str(info.value)
    assert "weights_only" not in str(info.value)
