"""Mapping between Ax's transformed search space and DEMO's design space.

The DEMO generator runs behind Ax's ``Mixed_transforms`` (``RemoveFixed``,
``ChoiceToNumericChoice``, ``Log``, ``Logit``): every parameter stays ONE column,
choice parameters are numeric and unordered choices are reported by the
``SearchSpaceDigest`` as categorical features. This module turns such columns
into what ``DEMO.fit`` expects:

- categorical (unordered choice) columns: integer codes ``0..k-1``, the position
  of the value in the digest's ``discrete_choices``; passed to DEMO through
  ``categorical_features``, so DEMO encodes them itself (no one-hot columns);
- ordinal columns (integer ranges, ordered choices): kept as numbers and snapped
  to the nearest allowed value after generation;
- continuous columns: kept as numbers (in log/logit space where Ax applied it)
  and clamped to the bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from ax.core.search_space import SearchSpaceDigest
from ax.exceptions.core import UnsupportedError
from torch import Tensor

from botorch_demo.constraints import nearest


@dataclass(frozen=True)
class DesignEncoding:
    """Column-wise encoding between Ax's transformed space and DEMO's space.

    Attributes:
        bounds: ``2 x d`` bounds of DEMO's space (categorical: ``[0, k-1]``).
        categorical_values: Ax-space values of each categorical column, in code
            order.
        ordinal_values: Sorted allowed values of each ordinal column.
    """

    bounds: Tensor
    categorical_values: dict[int, Tensor]
    ordinal_values: dict[int, Tensor]

    @classmethod
    def from_digest(
        cls, digest: SearchSpaceDigest, dtype: torch.dtype, device: torch.device
    ) -> DesignEncoding:
        """Builds the encoding from Ax's ``SearchSpaceDigest``.

        Raises:
            UnsupportedError: For task, fidelity or hierarchical parameters.
        """
        if digest.task_features or digest.fidelity_features:
            raise UnsupportedError("DEMO does not support task or fidelity parameters.")
        if digest.hierarchical_dependencies:
            raise UnsupportedError("DEMO does not support hierarchical search spaces.")
        bounds = torch.tensor(digest.bounds, dtype=dtype, device=device).T.clone()
        as_tensor = {"dtype": dtype, "device": device}
        categorical = {
            j: torch.tensor(list(digest.discrete_choices[j]), **as_tensor)
            for j in digest.categorical_features
        }
        ordinal = {
            j: torch.tensor(sorted(digest.discrete_choices[j]), **as_tensor)
            for j in digest.ordinal_features
        }
        for j, values in categorical.items():
            bounds[0, j], bounds[1, j] = 0.0, float(len(values) - 1)
        return cls(bounds=bounds, categorical_values=categorical, ordinal_values=ordinal)

    @property
    def categorical_features(self) -> dict[int, int]:
        """``{column: number of categories}`` as ``DEMO.fit`` expects it."""
        return {j: len(v) for j, v in self.categorical_values.items()}

    @property
    def discrete_values(self) -> dict[int, Tensor]:
        """``{column: sorted allowed DEMO-space values}`` of every discrete column
        (categorical codes and ordinal values)."""
        out = dict(self.ordinal_values)
        for j, values in self.categorical_values.items():
            out[j] = torch.arange(len(values), dtype=self.bounds.dtype, device=self.bounds.device)
        return out

    def ordinal_features(self) -> tuple[list[int], dict[int, Tensor]]:
        """The ordinal columns as ``DEMO.generate`` takes them: the columns whose
        values are the integers of their range (``integer_features``), and the
        allowed values of the others (``discrete_values``; e.g. an ordered
        choice of 8, 16, 32, 64, or integers in log space)."""
        integer: list[int] = []
        other: dict[int, Tensor] = {}
        for j, values in self.ordinal_values.items():
            consecutive = (
                bool((values == values.round()).all())
                and values.numel() == int(values[-1] - values[0]) + 1
            )
            if consecutive:
                integer.append(j)
            else:
                other[j] = values
        return integer, other

    def scale(self) -> Tensor:
        """Width of each column's range (1 where the range is a point), for
        distances that weigh every column alike."""
        width = self.bounds[1] - self.bounds[0]
        return torch.where(width > 0, width, torch.ones_like(width))

    def to_demo(self, X: Tensor) -> Tensor:
        """Maps ``n x d`` Ax-space designs to DEMO's space (dtype/device of bounds)."""
        Z = X.to(self.bounds).clone()
        for j, values in self.categorical_values.items():
            Z[:, j] = (Z[:, j : j + 1] == values).to(torch.int64).argmax(-1).to(Z)
        return Z

    def to_ax(self, Z: Tensor, like: Tensor) -> Tensor:
        """Maps ``n x d`` DEMO-space designs back to Ax's space, typed like ``like``."""
        X = Z.clone()
        for j, values in self.categorical_values.items():
            X[:, j] = values[Z[:, j].round().long()]
        return X.to(like)

    def value_to_demo(self, column: int, value: float) -> float:
        """Maps one Ax-space value of ``column`` (e.g. a fixed feature) to DEMO's."""
        if column in self.categorical_values:
            values = self.categorical_values[column]
            matches = torch.nonzero(values == value).flatten()
            if matches.numel() == 0:
                raise UnsupportedError(f"Fixed value {value} is not a choice of column {column}.")
            return float(matches[0])
        return float(value)

    def project(self, Z: Tensor) -> Tensor:
        """Makes DEMO-space designs valid: clamps, rounds codes, snaps ordinals."""
        Z = torch.maximum(torch.minimum(Z, self.bounds[1]), self.bounds[0])
        for j in self.categorical_values:
            Z[:, j] = Z[:, j].round()
        for j, values in self.ordinal_values.items():
            Z[:, j] = nearest(Z[:, j], values)
        return Z
