"""Integer codes for fixed-length token sequences (big-endian, base V).

A sequence ``(t_0, ..., t_{d-1})`` with tokens in ``0..V-1`` has the code
``sum_i t_i * V**(d-1-i)``; this is the row index of the exact lookup oracles and
the ``codes`` array of the compact TF Bind 10 file.
"""

from __future__ import annotations

import numpy as np


def encode_tokens(tokens: np.ndarray, num_categories: int) -> np.ndarray:
    """Map an ``n x d`` array of tokens to their ``n`` big-endian base-V codes.

    Args:
        tokens: Integer array of shape ``n x d`` with values in ``0..V-1``.
        num_categories: The base ``V``.

    Returns:
        An int64 array of shape ``(n,)``.

    Raises:
        ValueError: If ``tokens`` is not 2-d or holds values outside ``0..V-1``.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2:
        raise ValueError(f"Expected an n x d token array, got shape {tokens.shape}.")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= num_categories):
        raise ValueError(
            f"Tokens must lie in 0..{num_categories - 1}; found values in "
            f"{tokens.min()}..{tokens.max()}."
        )
    d = tokens.shape[1]
    powers = num_categories ** np.arange(d - 1, -1, -1, dtype=np.int64)
    return tokens.astype(np.int64) @ powers


def decode_codes(codes: np.ndarray, num_categories: int, dim: int) -> np.ndarray:
    """Inverse of :func:`encode_tokens`.

    Args:
        codes: Integer array of shape ``(n,)`` with values in ``0..V**dim - 1``.
        num_categories: The base ``V``.
        dim: The sequence length ``d``.

    Returns:
        An int64 array of shape ``n x d``.

    Raises:
        ValueError: If ``codes`` is not 1-d or holds out-of-range values.
    """
    codes = np.asarray(codes)
    if codes.ndim != 1:
        raise ValueError(f"Expected a 1-d array of codes, got shape {codes.shape}.")
    if codes.size and (codes.min() < 0 or codes.max() >= num_categories**dim):
        raise ValueError(f"Codes must lie in 0..{num_categories**dim - 1}.")
    powers = num_categories ** np.arange(dim - 1, -1, -1, dtype=np.int64)
    return (codes.astype(np.int64)[:, None] // powers) % num_categories
