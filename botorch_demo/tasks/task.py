"""The task object returned by :func:`botorch_demo.tasks.load_task`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import overload

import torch
from torch import Tensor


@dataclass(frozen=True)
class TaskInfo:
    """Descriptive metadata of a loaded task.

    Attributes:
        name: Short task name, e.g. ``"tfbind8"``.
        design_bench_name: design-bench task id, e.g. ``"TFBind8-Exact-v0"``.
        dim: Number of design variables.
        num_categories: Categories per column (discrete tasks) or ``None``.
        n_train: Rows in the offline dataset.
        n_full: Rows in the full dataset the offline set was drawn from.
        source: Where the data was read from (a path, or a description).
        provenance: Where the data originally comes from.
        has_oracle: Whether ``task.oracle`` can score designs here.
    """

    name: str
    design_bench_name: str
    dim: int
    num_categories: int | None
    n_train: int
    n_full: int
    source: str
    provenance: str
    has_oracle: bool


@dataclass(frozen=True, eq=False)
class OfflineTask:
    """An offline model-based optimisation task (maximisation).

    Attributes:
        train_X: ``n x d`` float64 offline designs in the raw space; categorical
            columns hold integers ``0..V-1`` as float64.
        train_Y: ``n x 1`` float64 scores of ``train_X``.
        bounds: ``2 x d`` float64 box (``0`` and ``V-1`` for categorical columns).
        categorical_features: ``{column: number of categories}``; empty if none.
        oracle: Exact ground truth: ``n x d`` tensor -> ``n x 1`` float64 tensor.
        y_min: Full-dataset minimum of y used by :meth:`normalize`.
        y_max: Full-dataset maximum of y used by :meth:`normalize`.
        info: Metadata (:class:`TaskInfo`).
    """

    train_X: Tensor
    train_Y: Tensor
    bounds: Tensor
    categorical_features: dict[int, int]
    oracle: Callable[[Tensor], Tensor] = field(repr=False)
    y_min: float
    y_max: float
    info: TaskInfo

    @overload
    def normalize(self, y: Tensor) -> Tensor: ...

    @overload
    def normalize(self, y: float) -> float: ...

    def normalize(self, y: Tensor | float) -> Tensor | float:
        """Min-max normalise scores with the task's full-dataset constants.

        Args:
            y: Raw scores (tensor of any shape, or a float).

        Returns:
            ``(y - y_min) / (y_max - y_min)``; a float64 tensor for tensor input.
        """
        if isinstance(y, Tensor):
            y = y.to(torch.float64)
        return (y - self.y_min) / (self.y_max - self.y_min)

    @property
    def d_best(self) -> float:
        """Normalised score of the best design in the offline dataset, D(best)."""
        return float(self.normalize(self.train_Y.max()))

    @property
    def name(self) -> str:
        """Short task name."""
        return self.info.name

    @property
    def dim(self) -> int:
        """Number of design variables."""
        return self.info.dim

    def __repr__(self) -> str:
        i = self.info
        return (
            f"OfflineTask(name={i.name!r}, dim={i.dim}, n_train={i.n_train}, "
            f"n_full={i.n_full}, categorical={bool(self.categorical_features)}, "
            f"d_best={self.d_best:.4f})"
        )
