"""``load_task`` on data folders: where the data is found and how it is checked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from botorch_demo.tasks import ENV_VAR, load_task
from botorch_demo.tasks.sequences import decode_codes, encode_tokens
from botorch_demo.tasks.task import OfflineTask

TF8_FOLDER = "tf_bind_8-SIX6_REF_R1"


def test_tfbind8_from_sharded_folder(
    tmp_path: Path, make_shards, tfbind8_arrays, tfbind8_task: OfflineTask
) -> None:
    x, y = tfbind8_arrays
    make_shards(tmp_path / TF8_FOLDER, "tf_bind_8", x.astype(np.int32), y, n=3)
    task = load_task("tfbind8", data_dir=tmp_path)
    packaged = tfbind8_task
    assert torch.equal(task.train_X, packaged.train_X)
    assert torch.equal(task.train_Y, packaged.train_Y)
    X = torch.from_numpy(decode_codes(np.arange(4**8), 4, 8)).double()
    assert torch.equal(task.oracle(X), packaged.oracle(X))
    assert TF8_FOLDER in task.info.source


def test_tfbind8_from_real_folder(real_tf8_folder: Path, tfbind8_task: OfflineTask) -> None:
    task = load_task("tfbind8", data_dir=real_tf8_folder.parent)
    assert torch.equal(task.train_X, tfbind8_task.train_X)
    assert torch.equal(task.train_Y, tfbind8_task.train_Y)
    assert round(abs(task.d_best - 0.4393), 4) == 0


def test_tfbind10_folder_layout(tmp_path: Path, make_shards, make_last_row_reference) -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4, size=(3000, 10)).astype(np.int32)
    x[2000:2100] = x[:100]  # duplicates with new scores: the later rows win
    y = rng.normal(size=(3000, 1)).astype(np.float32)
    make_shards(tmp_path / "tf_bind_10-pho4", "tf_bind_10", x, y, n=12)
    task = load_task("tfbind10", data_dir=tmp_path)
    keep = np.flatnonzero(y[:, 0] <= np.percentile(y[:, 0], 50))
    rows = keep[np.argsort(y[keep, 0], kind="stable")][::83]
    np.testing.assert_array_equal(task.train_X.numpy(), x[rows])
    np.testing.assert_array_equal(task.train_Y.numpy(), y[rows])
    codes = encode_tokens(x, 4)
    reference = make_last_row_reference(codes, y)
    Y = task.oracle(torch.from_numpy(x).double())[:, 0].numpy()
    np.testing.assert_array_equal(Y, [reference[c] for c in codes.tolist()])
    np.testing.assert_array_equal(Y[:100], y[2000:2100, 0])
    unseen = sorted(set(range(4**10)) - set(codes.tolist()))[:1]
    with pytest.raises(ValueError, match="no data"):
        task.oracle(torch.from_numpy(decode_codes(np.array(unseen), 4, 10)))


def test_bad_tokens_in_folder(tmp_path: Path, make_shards) -> None:
    x = np.full((10, 8), 4, dtype=np.int32)
    make_shards(tmp_path / TF8_FOLDER, "tf_bind_8", x, np.zeros((10, 1)), n=1)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        load_task("tfbind8", data_dir=tmp_path)


def test_missing_data_dir_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_task("tfbind8", data_dir=tmp_path / "nowhere")
    assert "data_dir" in str(info.value)
    assert TF8_FOLDER in str(info.value)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        load_task("superconductor")
    assert ENV_VAR in str(info.value)
    assert "data_dir" in str(info.value)


def test_continuous_task_without_oracle(
    tmp_path: Path, make_shards, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 56)).astype(np.float32)
    y = rng.normal(size=(500, 1)).astype(np.float32)
    make_shards(tmp_path / "dkitty_morphology", "dkitty_morphology", x, y, n=2)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    task = load_task("dkitty")
    keep = y[:, 0] <= np.percentile(y[:, 0], 40)
    np.testing.assert_array_equal(task.train_X.numpy(), x[keep])
    assert task.categorical_features == {}
    assert not task.info.has_oracle
    assert tuple(task.bounds.shape) == (2, 56)
    assert round(abs(task.y_min - -880.4585), 7) == 0
    with pytest.raises(NotImplementedError, match="not available"):
        task.oracle(task.train_X[:2])


def test_generated_tasks_take_no_data_dir() -> None:
    with pytest.raises(ValueError, match="generated"):
        load_task("ackley-10", data_dir="/nowhere")
