"""Ground-truth score functions (oracles) for the offline-MBO tasks.

Every oracle maps an ``n x d`` tensor of raw designs to an ``n x 1`` float64
tensor on the same device, checks its input at the boundary and is vectorised over
designs.

The paper's tasks use :class:`LookupOracle` (TF Bind), :class:`LevyOracle`,
:class:`PredictOracle` (an installed design-bench task) and
:class:`UnavailableOracle`; the robustness suite uses :class:`SyntheticOracle`,
:class:`SequenceOracle` and :class:`MixedOracle`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:
    from botorch.test_functions.synthetic import SyntheticTestFunction

    from botorch_demo.tasks.pairwise import PairwiseSequenceModel


class Oracle(ABC):
    """Base class: input validation shared by all oracles.

    Args:
        name: Task name, used in error messages.
        dim: Number of design columns ``d``.
        num_categories: Categories per column for a discrete task (designs must
            hold integers ``0..V-1``), else ``None``.
        bounds: Optional ``(lower, upper)`` box for continuous designs (inclusive).
    """

    def __init__(
        self,
        name: str,
        dim: int,
        num_categories: int | None = None,
        bounds: tuple[float, float] | None = None,
    ) -> None:
        self.name = name
        self.dim = dim
        self.num_categories = num_categories
        self.bounds = bounds

    def __call__(self, X: Tensor) -> Tensor:
        """Score designs.

        Args:
            X: ``n x d`` tensor of raw designs (any real dtype, any device).

        Returns:
            ``n x 1`` float64 tensor of ground-truth scores on ``X.device``.

        Raises:
            TypeError: If ``X`` is not a tensor.
            ValueError: If ``X`` has the wrong shape, NaN, or invalid values.
        """
        self.validate(X)
        return self._evaluate(X)

    def validate(self, X: Tensor) -> None:
        """Raise if ``X`` is not a valid ``n x d`` batch of designs.

        Args:
            X: Candidate designs.

        Raises:
            TypeError: If ``X`` is not a tensor.
            ValueError: With a message naming the problem.
        """
        if not isinstance(X, Tensor):
            raise TypeError(f"{self.name} oracle expects a torch.Tensor, got {type(X)}.")
        if X.ndim != 2 or X.shape[-1] != self.dim:
            raise ValueError(
                f"{self.name} oracle expects an n x {self.dim} tensor, got shape {tuple(X.shape)}."
            )
        if X.dtype == torch.bool or X.is_complex():
            raise ValueError(f"{self.name} oracle expects real values, got {X.dtype}.")
        if X.is_floating_point() and torch.isnan(X).any():
            raise ValueError(f"{self.name} oracle got NaN in the designs.")
        if self.num_categories is not None:
            if X.is_floating_point() and (X != torch.round(X)).any():
                raise ValueError(
                    f"{self.name} designs are categorical: every entry must be an "
                    f"integer in 0..{self.num_categories - 1}."
                )
            if (X < 0).any() or (X > self.num_categories - 1).any():
                raise ValueError(
                    f"{self.name} tokens out of range: every entry must be in "
                    f"0..{self.num_categories - 1}; got values in "
                    f"{X.min().item()}..{X.max().item()}."
                )
        elif self.bounds is not None:
            lower, upper = self.bounds
            if X.is_floating_point() and not torch.isfinite(X).all():
                raise ValueError(f"{self.name} oracle got inf in the designs.")
            if (X < lower).any() or (X > upper).any():
                raise ValueError(
                    f"{self.name} designs must lie in [{lower}, {upper}]; got values "
                    f"in {X.min().item()}..{X.max().item()} (clamp to task.bounds)."
                )

    @abstractmethod
    def _evaluate(self, X: Tensor) -> Tensor:
        """Score validated designs; returns ``n x 1`` float64 on ``X.device``."""


class LookupOracle(Oracle):
    """Exact oracle by table lookup over all ``V**d`` sequences.

    The row index of a sequence is its big-endian base-V code (see
    :mod:`botorch_demo.tasks.sequences`).

    Args:
        name: Task name.
        table: Float array of length ``V**d``; ``NaN`` marks sequences without data.
        num_categories: ``V``.
        dim: ``d``.
    """

    def __init__(self, name: str, table: np.ndarray, num_categories: int, dim: int):
        if table.shape != (num_categories**dim,):
            raise ValueError(
                f"Lookup table must have {num_categories**dim} entries, got {table.shape}."
            )
        super().__init__(name, dim, num_categories=num_categories)
        self._table = torch.as_tensor(table, dtype=torch.float64)
        self._powers = num_categories ** torch.arange(dim - 1, -1, -1)
        self._on_device: dict[torch.device, tuple[Tensor, Tensor]] = {}

    def _tensors_on(self, device: torch.device) -> tuple[Tensor, Tensor]:
        if device not in self._on_device:
            self._on_device[device] = (
                self._table.to(device),
                self._powers.to(device),
            )
        return self._on_device[device]

    def _evaluate(self, X: Tensor) -> Tensor:
        table, powers = self._tensors_on(X.device)
        codes = (X.long() * powers).sum(dim=-1)
        values = table[codes]
        if torch.isnan(values).any():
            raise ValueError(
                f"{self.name} oracle has no data for some of these designs; the "
                "loaded data does not cover the whole design space."
            )
        return values.unsqueeze(-1)


def build_lookup_table(codes: np.ndarray, y: np.ndarray, size: int) -> np.ndarray:
    """Build a lookup table where each code takes the y of its LAST row.

    This matches design-bench's exact oracles, which fill a dict row by row.
    NumPy fancy assignment with repeated indices does not promise last-wins, so
    the last row per code is found explicitly with ``np.maximum.at``.

    Args:
        codes: Integer array ``(n,)`` of sequence codes in ``0..size-1``.
        y: Scores, ``(n,)`` or ``n x 1``.
        size: Table length (``V**d``).

    Returns:
        Float array ``(size,)`` (dtype of ``y``; ``float64`` for integer ``y``,
        which could not hold the NaN), ``NaN`` for codes never seen.
    """
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind != "f":
        y = y.astype(np.float64)
    if codes.shape != y.shape:
        raise ValueError(f"{codes.shape[0]} codes but {y.shape[0]} scores.")
    last_row = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last_row, codes, np.arange(codes.shape[0], dtype=np.int64))
    table = np.full(size, np.nan, dtype=y.dtype)
    seen = last_row >= 0
    table[seen] = y[last_row[seen]]
    return table


def levy(X: Tensor) -> Tensor:
    """The Levy function, row-wise, in float64 (minimum 0 at ``x = 1``).

    Same formula and summation order as ``bayeso_benchmarks.Levy``:
    ``w = 1 + (x - 1) / 4``,
    ``f = sin^2(pi w_1) + sum_{i<d} (w_i - 1)^2 (1 + 10 sin^2(pi w_i + 1))
    + (w_d - 1)^2 (1 + sin^2(2 pi w_d))``.
    The loop runs over the d columns (not over designs) so that the sum is
    accumulated in the reference's order.

    Args:
        X: ``n x d`` tensor.

    Returns:
        ``n`` float64 tensor.
    """
    w = 1.0 + (X.to(torch.float64) - 1.0) / 4.0
    y = torch.sin(math.pi * w[:, 0]) ** 2
    for i in range(w.shape[-1] - 1):
        wi = w[:, i]
        y = y + (wi - 1.0) ** 2 * (1.0 + 10.0 * torch.sin(math.pi * wi + 1.0) ** 2)
    wd = w[:, -1]
    return y + (wd - 1.0) ** 2 * (1.0 + torch.sin(2.0 * math.pi * wd) ** 2)


class LevyOracle(Oracle):
    """Inverse Levy: ``y = -Levy(x)`` on ``[-10, 10]^d`` (to be maximised).

    Args:
        dim: Number of dimensions (60 for the DEMO task).
    """

    def __init__(self, dim: int = 60) -> None:
        super().__init__("levy", dim, bounds=(-10.0, 10.0))

    def _evaluate(self, X: Tensor) -> Tensor:
        return -levy(X).unsqueeze(-1)


class PredictOracle(Oracle):
    """Wraps a numpy ``predict(x) -> y`` function, e.g. a design-bench task's.

    Args:
        name: Task name.
        predict: Callable taking an ``n x d`` numpy array and returning ``n`` or
            ``n x 1`` scores for the whole batch at once.
        dim: ``d``.
        num_categories: ``V`` for discrete tasks, else ``None``.
        x_dtype: numpy dtype that ``predict`` expects (e.g. ``int32`` tokens).
    """

    def __init__(
        self,
        name: str,
        predict: Callable[[np.ndarray], np.ndarray],
        dim: int,
        num_categories: int | None,
        x_dtype: np.dtype,
    ) -> None:
        super().__init__(name, dim, num_categories=num_categories)
        self._predict = predict
        self._x_dtype = x_dtype

    def _evaluate(self, X: Tensor) -> Tensor:
        x = X.detach().cpu().numpy().astype(self._x_dtype)
        y = np.asarray(self._predict(x), dtype=np.float64).reshape(-1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"{self.name} predict returned {y.shape[0]} scores for {X.shape[0]} designs."
            )
        return torch.as_tensor(y, device=X.device).unsqueeze(-1)


class UnavailableOracle(Oracle):
    """Placeholder for tasks whose oracle cannot run here.

    Calling it raises ``NotImplementedError`` with the reason. Users with
    design-bench installed can wrap its task with
    :func:`botorch_demo.tasks.task_from_design_bench` to get its oracle.

    Args:
        name: Task name.
        dim: ``d``.
        reason: Why the oracle is missing.
    """

    def __init__(self, name: str, dim: int, reason: str) -> None:
        super().__init__(name, dim)
        self.reason = reason

    def __call__(self, X: Tensor) -> Tensor:
        """Always raises ``NotImplementedError``."""
        raise NotImplementedError(
            f"The {self.name} oracle is not available in botorch-demo: {self.reason} "
            "If design-bench works in your environment, use "
            "botorch_demo.tasks.task_from_design_bench(design_bench.make(...))."
        )

    def _evaluate(self, X: Tensor) -> Tensor:  # pragma: no cover - unreachable
        raise NotImplementedError(self.reason)


class SequenceOracle(Oracle):
    """Exact oracle of a categorical sequence task (a :class:`PairwiseSequenceModel`).

    Args:
        name: Task name.
        model: The pairwise model.
    """

    def __init__(self, name: str, model: PairwiseSequenceModel) -> None:
        super().__init__(name, model.length, num_categories=model.num_categories)
        self.model = model

    def _evaluate(self, X: Tensor) -> Tensor:
        return self.model(X).unsqueeze(-1)


class SyntheticOracle(Oracle):
    """``y = -f(x)`` for a BoTorch synthetic test function ``f`` (maximised).

    Args:
        name: Task name.
        function: The BoTorch test function (noise-free values are used).
        bounds: ``(lower, upper)`` of its box (the same for every column).
    """

    def __init__(
        self, name: str, function: SyntheticTestFunction, bounds: tuple[float, float]
    ) -> None:
        super().__init__(name, function.dim, bounds=bounds)
        self.function = function

    def _evaluate(self, X: Tensor) -> Tensor:
        f = self.function.to(device=X.device, dtype=torch.float64)
        return -f.evaluate_true(X.to(torch.float64)).unsqueeze(-1)


class MixedOracle(Oracle):
    """Mixed task: continuous columns in ``[0, 1]`` and categorical columns.

    ``y = g(c) - sum_j (3 z_j^2 + 0.5 (1 - cos(8 pi z_j)))`` with
    ``z = x - centres[c_0]``: ``g`` is a :class:`PairwiseSequenceModel` on the
    categorical columns ``c`` and the first categorical column moves the optimum
    of the continuous part (a rippled bowl, minimum 0 at ``z = 0``). The centres
    lie in ``[0.2, 0.8]``, so ``max y = max g`` exactly.

    Args:
        name: Task name.
        num_continuous: Number of continuous columns (the first columns).
        model: Pairwise model of the categorical columns (the last columns).
        centres: ``V x num_continuous`` optimum of the continuous part per
            category of the first categorical column.
    """

    def __init__(
        self, name: str, num_continuous: int, model: PairwiseSequenceModel, centres: Tensor
    ) -> None:
        super().__init__(name, num_continuous + model.length)
        self.num_continuous = num_continuous
        self.model = model
        self.centres = centres

    def validate(self, X: Tensor) -> None:
        """Base checks, then ``[0, 1]`` continuous and integer categorical columns.

        Raises:
            TypeError: If ``X`` is not a tensor.
            ValueError: With a message naming the problem.
        """
        super().validate(X)
        x, c = X[:, : self.num_continuous], X[:, self.num_continuous :]
        if not torch.isfinite(X).all() or (x < 0).any() or (x > 1).any():
            raise ValueError(
                f"{self.name}: continuous columns 0..{self.num_continuous - 1} must lie in "
                "[0, 1] (clamp to task.bounds)."
            )
        V = self.model.num_categories
        if (c != torch.round(c)).any() or (c < 0).any() or (c > V - 1).any():
            raise ValueError(
                f"{self.name}: columns {self.num_continuous}..{self.dim - 1} are categorical: "
                f"every entry must be an integer in 0..{V - 1}."
            )

    def _evaluate(self, X: Tensor) -> Tensor:
        X = X.to(torch.float64)
        x, c = X[:, : self.num_continuous], X[:, self.num_continuous :].long()
        z = x - self.centres.to(X.device)[c[:, 0]]
        bowl = (3.0 * z**2 + 0.5 * (1.0 - torch.cos(8.0 * math.pi * z))).sum(dim=-1)
        return (self.model(c) - bowl).unsqueeze(-1)
