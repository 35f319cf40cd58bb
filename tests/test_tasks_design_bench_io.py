"""Reading design-bench's ``<prefix>-{x,y}-<i>.npy`` shard folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from botorch_demo.tasks import find_shards, read_design_bench_folder


def test_reads_shards_in_numeric_order(tmp_path: Path, make_shards) -> None:
    x = np.arange(24 * 3).reshape(24, 3).astype(np.float32)
    y = np.arange(24, dtype=np.float32)[:, None]
    make_shards(tmp_path / "toy", "toy", x, y, n=12)  # shards 0..11
    pairs = find_shards(tmp_path / "toy")
    assert [p[0].name for p in pairs][9:] == [f"toy-x-{i}.npy" for i in (9, 10, 11)]
    x2, y2 = read_design_bench_folder(tmp_path / "toy", "toy")
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_bad_folders(tmp_path: Path, make_shards) -> None:
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(FileNotFoundError):
        read_design_bench_folder(tmp_path / "missing", "toy")
    make_shards(tmp_path / "gap", "toy", x, y, n=3)
    (tmp_path / "gap" / "toy-x-1.npy").unlink()
    (tmp_path / "gap" / "toy-y-1.npy").unlink()
    with pytest.raises(ValueError, match="without gaps"):
        read_design_bench_folder(tmp_path / "gap", "toy")
    make_shards(tmp_path / "noy", "toy", x, y, n=2)
    (tmp_path / "noy" / "toy-y-1.npy").unlink()
    with pytest.raises(ValueError, match="Missing y shard"):
        read_design_bench_folder(tmp_path / "noy", "toy")
    make_shards(tmp_path / "rows", "toy", x, y, n=1)
    np.save(tmp_path / "rows" / "toy-y-0.npy", np.zeros((3, 1)))
    with pytest.raises(ValueError, match="rows"):
        read_design_bench_folder(tmp_path / "rows", "toy")
    make_shards(tmp_path / "two", "a", x, y, n=1)
    make_shards(tmp_path / "two", "b", x, y, n=1)
    with pytest.raises(ValueError, match="prefix"):
        read_design_bench_folder(tmp_path / "two")
