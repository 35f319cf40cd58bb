"""load_task on bad data files: every error names the file and the problem."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from botorch_demo.tasks import load_task

NAN, INF = math.nan, math.inf


def _shards(root: Path, folder: str, prefix: str, x: Any, y: Any) -> Path:
    """One design-bench shard pair under ``root/folder``; bytes are written as they are."""
    d = root / folder
    d.mkdir(parents=True)
    for name, value in (("x", x), ("y", y)):
        path = d / f"{prefix}-{name}-0.npy"
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            np.save(path, value)
    return root


def _compact(root: Path, content: Any) -> Path:
    """TF Bind 10's compact file under ``root``: arrays, or bytes written as they are."""
    path = root / "tf_bind_10-pho4.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.savez(path, **content)
    return root


def _with(array: np.ndarray, index: Any, value: Any) -> np.ndarray:
    out = array.astype(np.float64 if isinstance(value, float) else array.dtype, copy=True)
    out[index] = value
    return out


_RNG = np.random.default_rng(0)
_TOKENS = _RNG.integers(0, 4, (40, 8)).astype(np.int32)
_Y = _RNG.normal(size=(40, 1)).astype(np.float32)
_CONT = _RNG.normal(size=(40, 56))
_TF8 = ("tfbind8", "tf_bind_8-SIX6_REF_R1", "tf_bind_8")
_DK = ("dkitty", "dkitty_morphology", "dkitty_morphology")


LOAD_TASK_CASES = {
    "inf y": (_TF8, _TOKENS, _with(_Y, 3, INF), "scores contain 1 NaN or infinite"),
    "-inf y": (_TF8, _TOKENS, _with(_Y, 5, -INF), "first at row 5"),
    "nan y": (_DK, _CONT, _with(_Y, 0, NAN), "scores contain 1 NaN or infinite"),
    "string y": (_DK, _CONT, np.array(["a"] * 40), "scores must be real numbers"),
    "random x shard": (_DK, os.urandom(300), _Y, "dkitty_morphology-x-0.npy: not a readable"),
    "random y shard": (_TF8, _TOKENS, os.urandom(300), "tf_bind_8-y-0.npy: not a readable"),
    "nan column": (_DK, _with(_CONT, (slice(None), 5), NAN), _Y, "NaN or infinite values in"),
    "constant column": (_DK, _with(_CONT, (slice(None), 7), 1.0), _Y, "columns [7] are constant"),
    "float tokens": (_TF8, _TOKENS + 0.5, _Y, "integer tokens"),
}


@pytest.mark.parametrize("case", sorted(LOAD_TASK_CASES))
def test_load_task_rejects_bad_shards(case: str, tmp_path: Path) -> None:
    (task, folder, prefix), x, y, fragment = LOAD_TASK_CASES[case]
    root = _shards(tmp_path, folder, prefix, x, y)
    with pytest.raises(ValueError, match=re.escape(fragment)) as info:
        load_task(task, data_dir=root)
    assert str(tmp_path) in str(info.value) or folder in str(info.value)


COMPACT_CASES = {
    "float codes": ({"codes": np.arange(40) + 0.5, "y": _Y[:, 0]}, "codes must be integers"),
    "negative codes": ({"codes": np.arange(40) - 1, "y": _Y[:, 0]}, "codes must lie in"),
    "inf y": ({"codes": np.arange(40), "y": _with(_Y[:, 0], 2, INF)}, "NaN or infinite"),
    "random bytes": (os.urandom(200), "not a readable .npz file"),
    "missing arrays": ({"x": np.arange(3)}, "must hold arrays 'codes' and 'y'"),
}


@pytest.mark.parametrize("case", sorted(COMPACT_CASES))
def test_load_task_rejects_bad_compact_files(case: str, tmp_path: Path) -> None:
    content, fragment = COMPACT_CASES[case]
    root = _compact(tmp_path, content)
    with pytest.raises(ValueError, match=re.escape(fragment)) as info:
        load_task("tfbind10", data_dir=root)
    assert "tf_bind_10-pho4.npz" in str(info.value)
