"""Selection of the offline dataset from the full dataset of a task."""

from __future__ import annotations

import numpy as np


def offline_indices(
    y: np.ndarray,
    max_percentile: float = 50.0,
    sort_stride: int | None = None,
    max_samples: int | None = None,
) -> np.ndarray:
    """Row indices of the offline dataset, following design-bench and DEMO.

    1. design-bench's rule: keep the rows with ``y <= np.percentile(y,
       max_percentile)`` (all rows if ``max_percentile >= 100``), in row order.
    2. If ``sort_stride`` is set (DEMO's TF Bind 10): sort the kept rows by y,
       ascending, with a stable sort, and take every ``sort_stride``-th row from 0.
    3. If ``max_samples`` is set: keep the first ``max_samples`` rows.

    Args:
        y: Scores of all rows, ``(n,)`` or ``n x 1``. The percentile is computed in
            ``y``'s own dtype, as design-bench does.
        max_percentile: Percentile in ``[0, 100]``.
        sort_stride: Optional positive stride.
        max_samples: Optional positive cap.

    Returns:
        Int64 row indices into ``y``.

    Raises:
        ValueError: On an invalid argument or NaN scores.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"Expected a non-empty (n,) or n x 1 array, got {y.shape}.")
    if np.isnan(y).any():
        raise ValueError("Scores contain NaN.")
    if not 0.0 <= max_percentile <= 100.0:
        raise ValueError(f"max_percentile must be in [0, 100], got {max_percentile}.")
    if sort_stride is not None and sort_stride < 1:
        raise ValueError(f"sort_stride must be positive, got {sort_stride}.")
    if max_samples is not None and max_samples < 1:
        raise ValueError(f"max_samples must be positive, got {max_samples}.")
    if max_percentile >= 100.0:
        keep = np.arange(y.shape[0], dtype=np.int64)
    else:
        keep = np.flatnonzero(y <= np.percentile(y, max_percentile))
    if sort_stride is not None:
        keep = keep[np.argsort(y[keep], kind="stable")][::sort_stride]
    if max_samples is not None:
        keep = keep[:max_samples]
    return keep.astype(np.int64, copy=False)
