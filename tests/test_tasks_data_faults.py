"""Data files, second pass: integer and boolean scores, repeated shard indices,
lying ``.npy`` headers, empty and 0-d shards, out-of-range tokens and swapped
``.npy``/``.npz`` formats. Every error names the file."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_tasks_load_errors import _TF8, _TOKENS, _Y, _compact, _shards

from botorch_demo.tasks import load_task


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _lying_header(shape: tuple[int, ...]) -> bytes:
    """A ``.npy`` file whose header claims ``shape`` but that holds 40 x 8 int32."""
    real = _npy_bytes(_TOKENS)
    header = repr((40, 8)).encode()
    return real.replace(header, repr(shape).encode().ljust(len(header)), 1)


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


# case: (x shard, y shard, fragment of the message, the file it must name)
SHARD_CASES: dict[str, tuple[Any, Any, str, str]] = {
    "header claims 2**40 rows": (
        _lying_header((2**40, 8)),
        _Y,
        "header claims shape (1099511627776, 8)",
        "tf_bind_8-x-0.npy",
    ),
    "header claims fewer rows": (_lying_header((4, 8)), _Y, "header claims", "x-0.npy"),
    "boolean scores": (_TOKENS, _Y > 0, "got booleans", "tf_bind_8-y-0.npy"),
    "complex scores": (_TOKENS, _Y.astype(np.complex64), "real numbers", "y-0.npy"),
    "zero-row scores": (_TOKENS, _Y[:0], "no rows", "y-0.npy"),
    "zero-row designs": (_TOKENS[:0], _Y, "n >= 1", "x-0.npy"),
    "0-d scores": (_TOKENS, np.array(1.5), "0-d", "tf_bind_8-y-0.npy"),
    "0-d designs": (np.array(3), _Y, "shape ()", "tf_bind_8-x-0.npy"),
    "token 4 of 4 categories": (
        np.where(np.arange(8) == 2, 4, _TOKENS).astype(np.int32),
        _Y,
        "tokens must lie in 0..3",
        "tf_bind_8-x-0.npy",
    ),
    "negative token": (_TOKENS - 1, _Y, "tokens must lie in 0..3", "tf_bind_8-x-0.npy"),
    "npz under an npy name": (
        _npz_bytes(x=_TOKENS),
        _Y,
        ".npz (zip) archive under a .npy name",
        "tf_bind_8-x-0.npy",
    ),
    "object array": (_TOKENS, np.array([object()] * 40), "holds Python objects", "y-0.npy"),
}


@pytest.mark.parametrize("case", sorted(SHARD_CASES))
def test_bad_shards_are_refused_naming_the_file(case: str, tmp_path: Path) -> None:
    x, y, fragment, file = SHARD_CASES[case]
    if case == "object array":
        folder = tmp_path / _TF8[1]
        folder.mkdir()
        np.save(folder / "tf_bind_8-x-0.npy", x)
        np.save(folder / "tf_bind_8-y-0.npy", y, allow_pickle=True)
        root = tmp_path
    else:
        root = _shards(tmp_path, _TF8[1], _TF8[2], x, y)
    with pytest.raises(ValueError, match=re.escape(fragment)) as info:
        load_task("tfbind8", data_dir=root)
    assert file in str(info.value)


def test_repeated_shard_indices_are_refused_naming_both_files(tmp_path: Path) -> None:
    root = _shards(tmp_path, _TF8[1], _TF8[2], _TOKENS, _Y)
    folder = root / _TF8[1]
    for name in ("x-1", "y-1", "x-01", "y-01"):
        np.save(folder / f"tf_bind_8-{name}.npy", _TOKENS if name[0] == "x" else _Y)
    with pytest.raises(ValueError, match="both shard 1") as info:
        load_task("tfbind8", data_dir=root)
    assert "tf_bind_8-x-1.npy" in str(info.value) and "tf_bind_8-x-01.npy" in str(info.value)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_integer_scores_load_as_floats_and_the_oracle_still_refuses_unknown_designs(
    dtype: type, tmp_path: Path
) -> None:
    """Integer scores are converted to float64 (documented in ``check_scores``)."""
    y = (np.arange(40) % 7).astype(dtype)
    root = _shards(tmp_path, _TF8[1], _TF8[2], _TOKENS, y[:, None])
    task = load_task("tfbind8", data_dir=root)
    assert task.train_Y.dtype == torch.float64
    seen = torch.from_numpy(_TOKENS[:2].astype(np.float64))
    assert torch.isfinite(task.oracle(seen)).all()
    unseen = torch.full((1, 8), 3.0)
    if not any((_TOKENS == 3).all(axis=1)):
        with pytest.raises(ValueError, match="no data"):
            task.oracle(unseen)


def test_integer_scores_in_a_compact_file_load_as_floats(tmp_path: Path) -> None:
    root = _compact(tmp_path, {"codes": np.arange(40), "y": np.arange(40, dtype=np.int64)})
    task = load_task("tfbind10", data_dir=root)
    assert task.train_Y.dtype == torch.float64
    with pytest.raises(ValueError, match="no data"):
        task.oracle(torch.full((1, 10), 3.0))


COMPACT_CASES: dict[str, tuple[bytes | dict, str]] = {
    "npy under an npz name": (_npy_bytes(np.arange(40)), ".npy array under a .npz name"),
    "boolean y": ({"codes": np.arange(40), "y": np.ones(40, dtype=bool)}, "got booleans"),
    "empty": ({"codes": np.arange(0), "y": np.zeros(0)}, "no rows"),
    "0-d y": ({"codes": np.arange(1), "y": np.array(2.0)}, "0-d"),
    "huge integer y": (
        {"codes": np.arange(2), "y": np.array([2**62, 1], dtype=np.int64)},
        "above 2**53",
    ),
    "an empty zip": (b"PK\x05\x06" + b"\0" * 18, "npz"),
}


@pytest.mark.parametrize("case", sorted(COMPACT_CASES))
def test_bad_compact_files_are_refused_naming_the_file(case: str, tmp_path: Path) -> None:
    content, fragment = COMPACT_CASES[case]
    root = _compact(tmp_path, content)
    with pytest.raises(ValueError, match=re.escape(fragment)) as info:
        load_task("tfbind10", data_dir=root)
    assert "tf_bind_10-pho4.npz" in str(info.value)
