"""TF Bind 8 and TF Bind 10: offline sets, exact lookup oracles, the packaged file.

TF Bind 10 and design-bench's TF Bind 8 folder are found through the environment
variable BOTORCH_DEMO_DATA; the tests that need them skip with a reason when it is
unset or lacks the files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from botorch_demo.tasks import ENV_VAR, load_task, read_design_bench_folder
from botorch_demo.tasks.build_data import build_tfbind8_npz
from botorch_demo.tasks.sequences import decode_codes, encode_tokens
from botorch_demo.tasks.task import OfflineTask


# ------------------------------------------------------------------ TF Bind 8
def test_tfbind8_sizes_and_types(tfbind8_task: OfflineTask) -> None:
    t = tfbind8_task
    assert tuple(t.train_X.shape) == (32898, 8)
    assert tuple(t.train_Y.shape) == (32898, 1)
    assert t.train_X.dtype == torch.float64
    assert t.train_Y.dtype == torch.float64
    assert t.categorical_features == dict.fromkeys(range(8), 4)
    expected_bounds = torch.tensor([[0.0] * 8, [3.0] * 8], dtype=torch.float64)
    assert torch.equal(t.bounds, expected_bounds)
    assert torch.equal(t.train_X, t.train_X.round())
    assert t.info.n_full == 65792
    assert (t.info.dim, t.info.n_train) == (8, 32898)


def test_tfbind8_d_best(tfbind8_task: OfflineTask) -> None:
    assert round(abs(tfbind8_task.d_best - 0.4393), 4) == 0


def test_tfbind8_packaged_data_is_compact(tfbind8_file: Path, tfbind8_arrays) -> None:
    x_full, y_full = tfbind8_arrays
    assert tfbind8_file.stat().st_size < 1_000_000
    assert x_full.dtype == np.uint8
    assert y_full.dtype == np.float32
    assert x_full.shape == (65792, 8)


def test_tfbind8_offline_rule(tfbind8_task: OfflineTask, tfbind8_arrays) -> None:
    x_full, y_full = tfbind8_arrays
    y = y_full[:, 0]
    keep = y <= np.percentile(y, 50)
    np.testing.assert_array_equal(tfbind8_task.train_X.numpy(), x_full[keep])
    np.testing.assert_array_equal(tfbind8_task.train_Y.numpy(), y[keep, None])


def test_tfbind8_oracle_reproduces_offline_y(tfbind8_task: OfflineTask) -> None:
    Y = tfbind8_task.oracle(tfbind8_task.train_X)
    assert Y.dtype == torch.float64
    assert torch.equal(Y, tfbind8_task.train_Y)


def test_tfbind8_oracle_on_all_sequences(
    tfbind8_task: OfflineTask, tfbind8_arrays, make_last_row_reference
) -> None:
    x_full, y_full = tfbind8_arrays
    codes = encode_tokens(x_full, 4)
    reference = make_last_row_reference(codes, y_full)
    all_codes = np.arange(4**8)
    X = torch.from_numpy(decode_codes(all_codes, 4, 8)).double()
    Y = tfbind8_task.oracle(X)
    expected = np.array([reference[c] for c in all_codes.tolist()])
    np.testing.assert_array_equal(Y.numpy()[:, 0], expected)
    offline = set(encode_tokens(tfbind8_task.train_X.long().numpy(), 4).tolist())
    assert len(set(all_codes.tolist()) - offline) > 30_000


def test_tfbind8_oracle_accepts_integer_tensor_and_keeps_device(
    tfbind8_task: OfflineTask,
) -> None:
    X = tfbind8_task.train_X[:5].long()
    Y = tfbind8_task.oracle(X)
    assert Y.device == X.device
    assert torch.equal(Y, tfbind8_task.train_Y[:5])


_GOOD_TF8 = torch.zeros(2, 8, dtype=torch.float64)


@pytest.mark.parametrize(
    ("fragment", "X"),
    [
        ("out of range", _GOOD_TF8.clone().index_fill_(1, torch.tensor([3]), 4.0)),
        ("out of range", _GOOD_TF8.clone().index_fill_(1, torch.tensor([0]), -1.0)),
        ("integer", _GOOD_TF8 + 0.5),
        ("NaN", _GOOD_TF8.clone().index_fill_(1, torch.tensor([2]), float("nan"))),
        ("n x 8", torch.zeros(8)),
        ("n x 8 tensor, got shape (2, 7)", torch.zeros(2, 7)),
        ("n x 8 tensor, got shape (1, 2, 8)", torch.zeros(1, 2, 8)),
    ],
)
def test_tfbind8_oracle_bad_inputs(
    tfbind8_task: OfflineTask, fragment: str, X: torch.Tensor
) -> None:
    with pytest.raises(ValueError) as info:
        tfbind8_task.oracle(X)
    assert fragment in str(info.value)


def test_tfbind8_oracle_rejects_a_non_tensor(tfbind8_task: OfflineTask) -> None:
    with pytest.raises(TypeError):
        tfbind8_task.oracle(np.zeros((2, 8)))


def test_tfbind8_normalize(tfbind8_task: OfflineTask) -> None:
    assert tfbind8_task.normalize(0.5) == 0.5
    y = torch.tensor([[0.0], [1.0]], dtype=torch.float32)
    assert torch.equal(tfbind8_task.normalize(y), y.double())


def test_build_script_reproduces_packaged_file(
    real_tf8_folder: Path, tfbind8_arrays, tmp_path: Path
) -> None:
    x_full, y_full = tfbind8_arrays
    out = build_tfbind8_npz(real_tf8_folder.parent, tmp_path / "tf8.npz")
    with np.load(out) as z:
        np.testing.assert_array_equal(z["x"], x_full)
        np.testing.assert_array_equal(z["y"], y_full)


# ----------------------------------------------------------------- TF Bind 10
@dataclass(frozen=True)
class TFBind10:
    """The loaded task and an independent reading of its full data."""

    task: OfflineTask
    load_seconds: float
    codes: np.ndarray
    y: np.ndarray
    last_row: np.ndarray
    rows: np.ndarray


@pytest.fixture(scope="module")
def tfbind10() -> TFBind10:
    start = time.perf_counter()
    try:
        task = load_task("tfbind10")
    except FileNotFoundError as e:
        pytest.skip(
            f"TF Bind 10 data not found (set {ENV_VAR} to the folder holding "
            f"tf_bind_10-pho4.npz): {e}"
        )
    load_seconds = time.perf_counter() - start
    path = Path(task.info.source)
    if path.suffix == ".npz":
        with np.load(path) as z:
            codes, y = z["codes"].astype(np.int64), z["y"][:, 0]
    else:
        x, y = read_design_bench_folder(path, "tf_bind_10")
        codes, y = encode_tokens(x, 4), y[:, 0]
    # Independent last-wins reference: first occurrence in the reversed array.
    uniq, first_rev = np.unique(codes[::-1], return_index=True)
    last_row = np.full(4**10, -1)
    last_row[uniq] = codes.shape[0] - 1 - first_rev
    keep = np.flatnonzero(y <= np.percentile(y, 50))
    rows = keep[np.argsort(y[keep], kind="stable")][::83][:50000]
    return TFBind10(task, load_seconds, codes, y, last_row, rows)


def test_tfbind10_sizes(tfbind10: TFBind10) -> None:
    t = tfbind10.task
    assert tuple(t.train_X.shape) == (50000, 10)
    assert tuple(t.train_Y.shape) == (50000, 1)
    assert t.categorical_features == dict.fromkeys(range(10), 4)
    assert t.info.n_full == 8_321_066
    assert int((tfbind10.y <= np.percentile(tfbind10.y, 50)).sum()) == 4_161_482


def test_tfbind10_load_time(tfbind10: TFBind10) -> None:
    # Building the 50,000-design set from 8.3M rows must take under 20 s.
    assert tfbind10.load_seconds < 20.0


def test_tfbind10_d_best_and_median(tfbind10: TFBind10) -> None:
    t = tfbind10.task
    assert round(abs(t.d_best - 0.4671), 4) == 0
    median = float(torch.quantile(t.normalize(t.train_Y), 0.5))
    assert round(abs(median - 0.4162), 4) == 0


def test_tfbind10_offline_rows_follow_the_rule(tfbind10: TFBind10) -> None:
    rows = tfbind10.rows
    np.testing.assert_array_equal(tfbind10.task.train_Y.numpy()[:, 0], tfbind10.y[rows])
    codes = encode_tokens(tfbind10.task.train_X.long().numpy(), 4)
    np.testing.assert_array_equal(codes, tfbind10.codes[rows])


def test_tfbind10_oracle_on_offline_designs(tfbind10: TFBind10) -> None:
    # Each sequence has 5-8 rows with different y; the exact oracle returns
    # the LAST row's y (design-bench). So it equals the offline y exactly
    # where the offline row is that last row, and the last row's y elsewhere.
    task = tfbind10.task
    Y = task.oracle(task.train_X)[:, 0].numpy()
    codes = encode_tokens(task.train_X.long().numpy(), 4)
    np.testing.assert_array_equal(Y, tfbind10.y[tfbind10.last_row[codes]])
    is_last = tfbind10.last_row[codes] == tfbind10.rows
    assert is_last.sum() > 1000
    np.testing.assert_array_equal(Y[is_last], task.train_Y.numpy()[is_last, 0])


def test_tfbind10_oracle_on_all_sequences_keeps_last_duplicate(tfbind10: TFBind10) -> None:
    y, last_row = tfbind10.y, tfbind10.last_row
    assert (last_row >= 0).all()
    all_codes = np.arange(4**10)
    X = torch.from_numpy(decode_codes(all_codes, 4, 10)).double()
    Y = tfbind10.task.oracle(X)[:, 0].numpy()
    np.testing.assert_array_equal(Y, y[last_row])
    first_row = np.unique(tfbind10.codes, return_index=True)[1]
    differs = y[first_row] != y[last_row]
    assert differs.sum() > 0
    assert (Y[differs] != y[first_row][differs]).all()


def test_tfbind10_missing_data_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "")
    with pytest.raises(FileNotFoundError) as info:
        load_task("tfbind10")
    assert ENV_VAR in str(info.value)
    assert "data_dir" in str(info.value)
