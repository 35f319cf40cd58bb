"""Reader for design-bench's on-disk data layout.

design-bench stores a task as ``design_bench_data/<folder>/<prefix>-x-<i>.npy`` and
``<prefix>-y-<i>.npy`` shards, ``i = 0, 1, ...``. The full dataset is the shards
concatenated in the order of ``i`` (numeric, so shard 10 follows shard 9).
"""

from __future__ import annotations

import math
import os
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
        ValueError: If shard indices have gaps or repeat (``x-1.npy`` and
            ``x-01.npy``; both files are named), a y shard is missing, or the
            prefix is ambiguous.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"design-bench task folder not found: {folder}")
    pattern = re.compile(r"^(?P<prefix>.+)-x-(?P<index>\d+)\.npy$")
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(folder.iterdir()):
        match = pattern.match(path.name)
        if match:
            shards = found.setdefault(match["prefix"], {})
            index = int(match["index"])
            if index in shards:
                raise ValueError(
                    f"{shards[index].name} and {path.name} in {folder} are both shard {index}; "
                    "remove one of them."
                )
            shards[index] = path
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
        ValueError: If a shard cannot be read as a ``.npy`` array (naming the
            file), a shard's x and y row counts differ, y is not one column, or y
            holds non-numeric, NaN or infinite values.
    """
    for x_path, y_path in find_shards(folder, prefix):
        x = load_array(x_path)
        y = load_array(y_path)
        if x.ndim < 2 or x.shape[0] == 0:
            raise ValueError(
                f"{x_path}: expected n x ... designs with n >= 1, got shape {x.shape}."
            )
        y = check_scores(y, str(y_path))
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


#: The first bytes of a zip archive (``.npz``).
ZIP_MAGIC = b"PK\x03\x04"


def load_array(path: Path) -> np.ndarray:
    """Read one ``.npy`` array, never unpickling, with errors that name the file.

    The header's shape and dtype are checked against the file's size before
    anything is allocated, so a header claiming ``(2**40, 8)`` in a small file
    is refused instead of exhausting memory.

    Args:
        path: The ``.npy`` file.

    Returns:
        The array.

    Raises:
        ValueError: If the file is not a readable ``.npy`` array (random bytes,
            truncated, a pickled object, a ``.npz`` archive under a ``.npy``
            name, or a header whose shape does not match the file's size).
    """
    try:
        with open(path, "rb") as handle:
            if handle.read(4) == ZIP_MAGIC:
                raise ValueError(
                    f"{path}: is a .npz (zip) archive under a .npy name; a design-bench shard "
                    "is one .npy array."
                )
            handle.seek(0)
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(handle)
            offset = handle.tell()
            size = os.fstat(handle.fileno()).st_size
    except ValueError as err:
        if str(err).startswith(str(path)):
            raise
        raise ValueError(
            f"{path}: not a readable .npy array ({type(err).__name__}: {err}); the file is "
            "corrupt, truncated or not a design-bench shard."
        ) from None
    except (OSError, EOFError) as err:
        raise ValueError(
            f"{path}: not a readable .npy array ({type(err).__name__}); the file is "
            "corrupt, truncated or not a design-bench shard."
        ) from None
    if dtype.hasobject:
        raise ValueError(f"{path}: holds Python objects (dtype {dtype}); shards hold numbers.")
    expected = math.prod(shape) * dtype.itemsize
    if expected != size - offset:
        raise ValueError(
            f"{path}: its header claims shape {shape} of {dtype} ({expected} bytes) but the "
            f"file holds {size - offset} bytes of data; the file is corrupt or truncated."
        )
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(
            f"{path}: not a readable .npy array ({type(err).__name__}); the file is "
            "corrupt, truncated or not a design-bench shard."
        ) from None


#: Integer scores are converted to float64 only while exact (below 2**53).
_EXACT_INTEGER = 2**53


def check_scores(y: np.ndarray, source: str) -> np.ndarray:
    """Check scores and return them as floats.

    Integer scores are converted to ``float64`` (exactly: magnitudes up to
    ``2**53``), so an oracle built from them marks unknown designs with NaN;
    boolean scores are refused (a flag is not a score to maximise).

    Args:
        y: The scores, ``n`` or ``n x 1``.
        source: File or description for the message.

    Returns:
        ``y`` as a floating-point array (the same array when already floating).

    Raises:
        ValueError: Naming ``source``: a 0-d or empty array, a dtype that is not
            real numbers (bool, complex, strings), integers too large to
            convert exactly, or NaN and infinite values (with the count and the
            first bad row).
    """
    if y.ndim == 0:
        raise ValueError(f"{source}: scores must be an n x 1 array, got a 0-d array.")
    if y.shape[0] == 0:
        raise ValueError(f"{source}: holds no rows (shape {y.shape}).")
    if y.dtype.kind == "b":
        raise ValueError(f"{source}: scores must be real numbers, got booleans.")
    if y.dtype.kind not in "iuf":
        raise ValueError(f"{source}: scores must be real numbers, got dtype {y.dtype}.")
    if y.dtype.kind in "iu":
        if y.size and int(np.abs(y.astype(np.float64)).max()) > _EXACT_INTEGER:
            raise ValueError(
                f"{source}: integer scores above 2**53 in magnitude cannot be converted to "
                "float64 exactly."
            )
        return y.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(y.reshape(y.shape[0], -1)).all(axis=-1)) if y.size else []
    if len(bad):
        raise ValueError(
            f"{source}: scores contain {len(bad)} NaN or infinite value(s), first at row {bad[0]}."
        )
    return y
