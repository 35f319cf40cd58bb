"""``load_task``: find a task's data, build the offline set and the oracle.

Where the data comes from, in order:

1. ``data_dir=`` if given: a design-bench data folder holding ``<folder>/`` shards
   (or ``design_bench_data/<folder>/``, or the task's compact file).
2. Data shipped in the package (TF Bind 8: ``botorch_demo/data/tfbind8.npz``).
3. The folder named by the environment variable ``BOTORCH_DEMO_DATA``, searched
   like ``data_dir``.

Levy is generated from ``bayeso-benchmarks`` and needs no files.
"""

from __future__ import annotations

import os
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from botorch_demo.tasks.design_bench_io import (
    check_scores,
    find_shards,
    iter_shards,
    read_design_bench_folder,
)
from botorch_demo.tasks.offline import offline_indices
from botorch_demo.tasks.oracles import (
    LevyOracle,
    LookupOracle,
    Oracle,
    UnavailableOracle,
    build_lookup_table,
)
from botorch_demo.tasks.registry import TaskSpec, get_spec
from botorch_demo.tasks.sequences import decode_codes, encode_tokens
from botorch_demo.tasks.task import OfflineTask, TaskInfo

ENV_VAR = "BOTORCH_DEMO_DATA"

LEVY_NUM_SAMPLES = 30_000
LEVY_SEED = 123
LEVY_CLIP = 1e-6


def load_task(name: str, data_dir: str | Path | None = None) -> OfflineTask:
    """Load an offline-MBO task with its exact oracle.

    Args:
        name: A name from :func:`list_tasks` (``"tfbind8"``, ``"tfbind10"``,
            ``"levy"``, ...) or a design-bench id such as ``"TFBind8-Exact-v0"``.
        data_dir: A ``design_bench_data`` folder, i.e. one that holds the task's
            sub-folder of shards (e.g. ``tf_bind_10-pho4/tf_bind_10-x-0.npy``).
            If ``None``: packaged data, then ``$BOTORCH_DEMO_DATA``.

    Returns:
        The :class:`OfflineTask`.

    Raises:
        ValueError: Unknown task name (the message lists the known ones), or
            malformed data.
        FileNotFoundError: The data cannot be found; the message says what to set.
    """
    spec = get_spec(name)
    if spec.builder is not None:
        if data_dir is not None:
            raise ValueError(f"Task {spec.name!r} is generated; it takes no data_dir.")
        return spec.builder(spec)
    if spec.oracle_kind == "levy":
        if data_dir is not None:
            raise ValueError(f"Task {spec.name!r} is generated; it takes no data_dir.")
        return _build_levy_task(spec)
    kind, path = _locate(spec, data_dir)
    if spec.num_categories is None:
        if kind != "folder":
            raise ValueError(f"{spec.name}: only design-bench folders are supported.")
        x, y = read_design_bench_folder(path, spec.prefix)
        return _build_continuous_task(spec, x, y, source=str(path))
    codes, y = _read_sequence_codes(spec, kind, path)
    source = "package data botorch_demo/data/" if kind == "embedded" else ""
    return _build_sequence_task(spec, codes, y, source=f"{source}{path}")


def _locate(spec: TaskSpec, data_dir: str | Path | None) -> tuple[str, Path]:
    """Find the task's data; returns ``(kind, path)``, kind in folder/compact/embedded.

    Raises:
        FileNotFoundError: With a message naming ``data_dir`` and the env var.
    """
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        found = _search(spec, root)
        if found is None:
            raise FileNotFoundError(
                f"No data for task {spec.name!r} in data_dir={str(root)!r}: expected "
                f"{_expected(spec)}. Point data_dir at your design_bench_data folder."
            )
        return found
    if spec.embedded_file is not None:
        return "embedded", Path(spec.embedded_file)
    env = os.environ.get(ENV_VAR)
    found = _search(spec, Path(env).expanduser()) if env else None
    if found is None:
        where = f"{ENV_VAR}={env!r} holds none of them" if env else f"{ENV_VAR} is unset"
        raise FileNotFoundError(
            f"No data for task {spec.name!r}: expected {_expected(spec)}, and {where}. "
            f"Pass data_dir=<your design_bench_data folder> to load_task, or set the "
            f"environment variable {ENV_VAR} to a folder holding the data."
        )
    return found


def _search(spec: TaskSpec, root: Path) -> tuple[str, Path] | None:
    assert spec.folder is not None
    for folder in (root / spec.folder, root / "design_bench_data" / spec.folder):
        if folder.is_dir():
            return "folder", folder
    if spec.compact_file is not None and (root / spec.compact_file).is_file():
        return "compact", root / spec.compact_file
    return None


def _expected(spec: TaskSpec) -> str:
    text = f"the folder {spec.folder}/ with {spec.prefix}-{{x,y}}-<i>.npy shards"
    if spec.compact_file is not None:
        text += f" or the file {spec.compact_file}"
    return text


def _read_sequence_codes(spec: TaskSpec, kind: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a discrete task's full data as ``(codes int64 (n,), y (n,))``."""
    assert spec.num_categories is not None
    if kind == "folder":
        codes, ys = [], []
        for (x_path, _), (x, y) in zip(
            find_shards(path, spec.prefix), iter_shards(path, spec.prefix), strict=True
        ):
            _check_tokens(x, spec, x_path)
            codes.append(encode_tokens(x, spec.num_categories))
            ys.append(y[:, 0])
        return np.concatenate(codes), np.concatenate(ys)
    if kind == "embedded":
        data_file = resources.files("botorch_demo") / "data" / path.name
        with data_file.open("rb") as f, np.load(f, allow_pickle=False) as z:
            x, y = z["x"], z["y"]
        _check_tokens(x, spec, path)
        y = check_scores(y, str(path))
        return encode_tokens(x, spec.num_categories), y.reshape(-1)
    with open(path, "rb") as handle:
        if handle.read(6) == b"\x93NUMPY":
            raise ValueError(
                f"{path}: is a .npy array under a .npz name; a compact task file is an .npz "
                "archive with arrays 'codes' and 'y'."
            )
    try:
        with np.load(path, allow_pickle=False) as z:
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("not an npz archive")
            arrays = {k: z[k] for k in ("codes", "y") if k in z.files}
            files = z.files
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"{path}: not a readable .npz file ({type(err).__name__}); the file is corrupt, "
            "truncated or not a compact task file."
        ) from None
    if len(arrays) != 2:
        raise ValueError(f"{path} must hold arrays 'codes' and 'y'; has {files}.")
    codes, y = arrays["codes"], arrays["y"]
    y = check_scores(y, f"{path} (array 'y')").reshape(-1)
    if codes.ndim != 1 or codes.shape != y.shape:
        raise ValueError(f"{path}: codes {codes.shape} and y do not match.")
    if not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"{path}: codes must be integers, got dtype {codes.dtype}.")
    n_designs = spec.num_categories**spec.dim
    if codes.size and (codes.min() < 0 or codes.max() >= n_designs):
        raise ValueError(
            f"{path}: codes must lie in 0..{spec.num_categories}^{spec.dim} - 1, got "
            f"[{codes.min()}, {codes.max()}]."
        )
    return codes.astype(np.int64), y


def _check_tokens(x: np.ndarray, spec: TaskSpec, path: Path) -> None:
    """Raise, naming ``path``, unless ``x`` is ``n x dim`` integer tokens in range."""
    assert spec.num_categories is not None
    if x.ndim != 2 or x.shape[1] != spec.dim or not np.issubdtype(x.dtype, np.integer):
        raise ValueError(
            f"{path}: expected n x {spec.dim} integer tokens, got {x.shape} {x.dtype}."
        )
    if x.size and (x.min() < 0 or x.max() >= spec.num_categories):
        raise ValueError(
            f"{path}: tokens must lie in 0..{spec.num_categories - 1}, got values in "
            f"[{x.min()}, {x.max()}]."
        )


def _build_sequence_task(
    spec: TaskSpec, codes: np.ndarray, y: np.ndarray, source: str
) -> OfflineTask:
    assert spec.num_categories is not None
    rows = offline_indices(y, spec.max_percentile, spec.sort_stride, spec.max_samples)
    train_X = decode_codes(codes[rows], spec.num_categories, spec.dim)
    table = build_lookup_table(codes, y, spec.num_categories**spec.dim)
    return _make_task(
        spec,
        torch.from_numpy(train_X).to(torch.float64),
        torch.from_numpy(y[rows].astype(np.float64)).unsqueeze(-1),
        bounds=(0.0, float(spec.num_categories - 1)),
        oracle=LookupOracle(spec.name, table, spec.num_categories, spec.dim),
        n_full=y.shape[0],
        source=source,
    )


def _build_levy_task(spec: TaskSpec) -> OfflineTask:
    try:
        from bayeso_benchmarks import Levy
    except ImportError as e:  # pragma: no cover - it is a dependency
        raise ImportError("The levy task needs `pip install bayeso-benchmarks`.") from e
    x = Levy(dim_problem=spec.dim).sample_uniform(LEVY_NUM_SAMPLES, seed=LEVY_SEED)
    x = np.clip(x.astype(np.float32), -10.0 + LEVY_CLIP, 10.0 - LEVY_CLIP)
    X = torch.from_numpy(x.astype(np.float64))
    oracle = LevyOracle(spec.dim)
    Y = oracle(X)
    rows = torch.from_numpy(offline_indices(Y.numpy(), spec.max_percentile))
    return _make_task(
        spec,
        X[rows],
        Y[rows],
        bounds=(-10.0, 10.0),
        oracle=oracle,
        n_full=LEVY_NUM_SAMPLES,
        source="generated with bayeso-benchmarks",
    )


def _build_continuous_task(
    spec: TaskSpec, x: np.ndarray, y: np.ndarray, source: str
) -> OfflineTask:
    x = x.reshape(x.shape[0], -1)
    if x.shape[1] != spec.dim:
        raise ValueError(f"{source}: expected {spec.dim} columns, got {x.shape[1]}.")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{source}: designs must be real numbers, got dtype {x.dtype}.")
    nan_cols = np.flatnonzero(~np.isfinite(x).all(axis=0)).tolist()
    if nan_cols:
        raise ValueError(f"{source}: designs hold NaN or infinite values in columns {nan_cols}.")
    rows = offline_indices(y, spec.max_percentile, spec.sort_stride, spec.max_samples)
    train_X = torch.from_numpy(x[rows].astype(np.float64))
    constant = (train_X.min(dim=0).values == train_X.max(dim=0).values).nonzero().flatten()
    if constant.numel():
        raise ValueError(
            f"{source}: columns {constant.tolist()} are constant in the offline data, so "
            "their bounds would have lower == upper; DEMO needs lower < upper."
        )
    reason = spec.provenance or "no oracle is registered for this task."
    return _make_task(
        spec,
        train_X,
        torch.from_numpy(y[rows].reshape(-1, 1).astype(np.float64)),
        bounds=torch.stack([train_X.min(dim=0).values, train_X.max(dim=0).values]),
        oracle=UnavailableOracle(spec.name, spec.dim, reason),
        n_full=y.shape[0],
        source=source,
    )


def _make_task(
    spec: TaskSpec,
    train_X: torch.Tensor,
    train_Y: torch.Tensor,
    bounds: tuple[float, float] | torch.Tensor,
    oracle: Oracle,
    n_full: int,
    source: str,
) -> OfflineTask:
    if isinstance(bounds, tuple):
        bounds = torch.tensor(bounds, dtype=torch.float64).unsqueeze(-1)
        bounds = bounds.expand(2, spec.dim).clone()
    categorical = (
        {} if spec.num_categories is None else dict.fromkeys(range(spec.dim), spec.num_categories)
    )
    info = TaskInfo(
        name=spec.name,
        design_bench_name=spec.design_bench_name,
        dim=spec.dim,
        num_categories=spec.num_categories,
        n_train=train_X.shape[0],
        n_full=n_full,
        source=source,
        provenance=spec.provenance,
        has_oracle=not isinstance(oracle, UnavailableOracle),
    )
    return OfflineTask(
        train_X=train_X,
        train_Y=train_Y,
        bounds=bounds,
        categorical_features=categorical,
        oracle=oracle,
        y_min=spec.y_min,
        y_max=spec.y_max,
        info=info,
    )
