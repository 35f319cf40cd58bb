"""Adapter from an installed design-bench task object to an :class:`OfflineTask`.

design-bench does not import with current NumPy, so botorch-demo does not depend
on it; where it does work, ``task_from_design_bench(design_bench.make(...))``
gives an :class:`OfflineTask` whose oracle is design-bench's own ``predict``.
Only duck typing is used: the object needs ``x``, ``y``, ``is_discrete``,
``num_classes`` (for discrete tasks) and ``predict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from botorch_demo.tasks.oracles import PredictOracle
from botorch_demo.tasks.registry import NORMALIZATION_CONSTANTS, get_spec
from botorch_demo.tasks.task import OfflineTask, TaskInfo

_REQUIRED = ("x", "y", "is_discrete", "predict")


def task_from_design_bench(
    db_task: Any,
    name: str,
    y_min: float | None = None,
    y_max: float | None = None,
) -> OfflineTask:
    """Wrap a design-bench task (or any object with the same interface).

    The object's ``x`` and ``y`` are taken as the offline dataset as they are (so
    pass a task whose x and y are not normalised and, for discrete tasks, whose
    x holds integer tokens, not logits). Continuous bounds are the per-column min
    and max of ``x``, since design-bench defines none.

    Args:
        db_task: Object with ``x`` (``n x d`` array), ``y`` (``n x 1``),
            ``is_discrete`` (bool), ``num_classes`` (int, discrete only) and
            ``predict(x: np.ndarray) -> np.ndarray`` scoring a batch.
        name: A registered task name or design-bench id (e.g. ``"tfbind8"`` or
            ``"CIFARNAS-Exact-v0"``); selects the normalisation constants.
        y_min: Overrides the normalisation minimum.
        y_max: Overrides the normalisation maximum.

    Returns:
        The :class:`OfflineTask`; its oracle calls ``db_task.predict``.

    Raises:
        ValueError: If the object lacks the interface, its arrays are malformed,
            or no normalisation constants are known for ``name``.
    """
    x, y = _offline_arrays(db_task)
    design_bench_name, lo, hi = _constants(name, y_min, y_max)
    dim = x.shape[1]
    num_categories = None
    if bool(db_task.is_discrete):
        num_categories = int(db_task.num_classes)
        if x.min() < 0 or x.max() > num_categories - 1 or (x != np.round(x)).any():
            raise ValueError(f"Discrete x must hold integers 0..{num_categories - 1}.")
    train_X = torch.from_numpy(x.astype(np.float64))
    if num_categories is None:
        bounds = torch.stack([train_X.min(dim=0).values, train_X.max(dim=0).values])
    else:
        bounds = torch.zeros(2, dim, dtype=torch.float64)
        bounds[1] = num_categories - 1
    short = name.strip().lower()
    info = TaskInfo(
        name=short,
        design_bench_name=design_bench_name,
        dim=dim,
        num_categories=num_categories,
        n_train=x.shape[0],
        n_full=x.shape[0],
        source=f"design-bench task object {type(db_task).__name__}",
        provenance="design-bench task object (oracle: its predict method)",
        has_oracle=True,
    )
    return OfflineTask(
        train_X=train_X,
        train_Y=torch.from_numpy(y.astype(np.float64)),
        bounds=bounds,
        categorical_features=(
            {} if num_categories is None else dict.fromkeys(range(dim), num_categories)
        ),
        oracle=PredictOracle(short, db_task.predict, dim, num_categories, x.dtype),
        y_min=lo,
        y_max=hi,
        info=info,
    )


def _offline_arrays(db_task: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check the object's interface and return its ``x`` (``n x d``) and ``y`` (``n x 1``).

    Raises:
        ValueError: If the interface is incomplete or the arrays are malformed.
    """
    missing = [a for a in _REQUIRED if not hasattr(db_task, a)]
    if missing or not callable(getattr(db_task, "predict", None)):
        raise ValueError(
            f"Expected a design-bench-like task with {', '.join(_REQUIRED)} "
            f"(predict callable); missing: {missing or ['callable predict']}."
        )
    x, y = np.asarray(db_task.x), np.asarray(db_task.y)
    if x.ndim != 2:
        raise ValueError(
            f"x must be n x d, got {x.shape}; for a discrete design-bench task "
            "with logits, call task.map_to_integers() first."
        )
    if y.size != x.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has shape {y.shape}.")
    y = y.reshape(-1, 1)
    if np.isnan(y).any() or np.isnan(x).any():
        raise ValueError("x and y must not contain NaN.")
    return x, y


def _constants(name: str, y_min: float | None, y_max: float | None) -> tuple[str, float, float]:
    """Resolve ``(design_bench_name, y_min, y_max)`` for the adapter."""
    design_bench_name: str | None = name if name in NORMALIZATION_CONSTANTS else None
    if design_bench_name is None:
        try:
            design_bench_name = get_spec(name).design_bench_name
        except ValueError:
            if y_min is None or y_max is None:
                raise ValueError(
                    f"No normalisation constants for {name!r}: use one of "
                    f"{sorted(NORMALIZATION_CONSTANTS)} or a registered task name, "
                    "or pass both y_min and y_max."
                ) from None
    lo, hi = NORMALIZATION_CONSTANTS.get(design_bench_name or "", (y_min, y_max))
    lo = float(lo if y_min is None else y_min)
    hi = float(hi if y_max is None else y_max)
    if not hi > lo:
        raise ValueError(f"Need y_max > y_min, got {lo} and {hi}.")
    return design_bench_name or name, lo, hi
