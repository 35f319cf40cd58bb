"""Reader for design-bench's on-disk data layout.

design-bench stores a task as ``design_bench_data/<folder>/<prefix>-x-<i>.npy`` and
``<prefix>-y-<i>.npy`` shards, ``i = 0, 1, ...``. The full dataset is the shards
concatenated in the order of ``i`` (numeric, so shard 10 follows shard 9).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np


def find_shards(folder: str | Path, prefix: str | None = None) -> list[tuple[Path, Path]]:
    """List the ``(x, y)`` shard files of a design-bench task folder, in order.

    Args:
        folder: The task folder, e.g. ``.../design_bench_data/tf_bind_8-SIX6_REF_R1``.
        prefix: The file prefix, e.g. ``"tf_bind_8"``. If ``None``, it is inferred
            from the ``*-x-<i>.npy`` files, which must then share one prefix.

    Returns:
        The shard pairs sorted by shard index.

    Raises:
        FileNotFoundError: If the folder or its shards are missing.
        ValueError: If shard indices have gaps, a y shard is missing, or the prefix
            is ambiguous.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"design-bench task folder not found: {folder}")
    pattern = re.compile(r"^(?P<prefix>.+)-x-(?P<index>\d+)\.npy$")
    found: dict[str, dict[int, Path]] = {}
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if match:
            found.setdefault(match["prefix"], {})[int(match["index"])] = path
    if prefix is None:
        if len(found) > 1:
            raise ValueError(f"Several shard prefixes in {folder}: {sorted(found)}; pass prefix=.")
        prefix = next(iter(found), "")
    x_shards = found.get(prefix, {})
    if not x_shards:
        raise FileNotFoundError(f"No '{prefix}-x-<i>.npy' shards in {folder}.")
    indices = sorted(x_shards)
    if indices != list(range(len(indices))):
        raise ValueError(
            f"Shard indices in {folder} must be 0..{len(indices) - 1} without gaps; "
            f"found {indices}."
        )
    pairs = []
    for i in indices:
        y_path = folder / f"{prefix}-y-{i}.npy"
        if not y_path.is_file():
            raise ValueError(f"Missing y shard {y_path.name} for {x_shards[i].name}.")
        pairs.append((x_shards[i], y_path))
    return pairs


def iter_shards(
    folder: str | Path, prefix: str | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(x, y)`` arrays shard by shard, with ``y`` of shape ``n_i x 1``.

    Reading shard by shard lets a caller shrink each shard (e.g. to sequence
    codes) before concatenating, which keeps memory low for TF Bind 10.

    Args:
        folder: The task folder.
        prefix: The file prefix (see :func:`find_shards`).

    Yields:
        ``(x, y)`` for each shard, in shard order.

    Raises:
        ValueError: If a shard's x and y row counts differ or y is not one column.
    """
    for x_path, y_path in find_shards(folder, prefix):
        x = np.load(x_path, allow_pickle=False)
        y = np.load(y_path, allow_pickle=False)
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != 1:
            raise ValueError(f"{y_path.name}: expected n x 1 scores, got {y.shape}.")
        if x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{x_path.name} has {x.shape[0]} rows but {y_path.name} has {y.shape[0]}."
            )
        yield x, y


def read_design_bench_folder(
    folder: str | Path, prefix: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read and concatenate all shards of a design-bench task folder.

    Args:
        folder: The task folder, e.g. ``.../design_bench_data/tf_bind_10-pho4``.
        prefix: The file prefix, e.g. ``"tf_bind_10"`` (inferred if ``None``).

    Returns:
        ``(x, y)``: the designs (``n x ...``, dtype as stored) and scores (``n x 1``).

    Raises:
        FileNotFoundError: If the folder or shards are missing.
        ValueError: If the shards are inconsistent.
    """
    xs, ys = zip(*iter_shards(folder, prefix), strict=True)
    shapes = {x.shape[1:] for x in xs}
    if len(shapes) > 1:
        raise ValueError(f"Shards in {folder} have different design shapes: {shapes}.")
    return np.concatenate(xs, axis=0), np.concatenate(ys, axis=0)
