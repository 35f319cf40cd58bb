"""Big-endian base-V codes of token sequences."""

from __future__ import annotations

import numpy as np
import pytest

from botorch_demo.tasks.sequences import decode_codes, encode_tokens


def test_round_trip_and_big_endian() -> None:
    tokens = np.array([[0, 0, 0], [0, 0, 3], [1, 0, 0], [3, 3, 3]])
    codes = encode_tokens(tokens, 4)
    np.testing.assert_array_equal(codes, [0, 3, 16, 63])
    np.testing.assert_array_equal(decode_codes(codes, 4, 3), tokens)


def test_out_of_range() -> None:
    with pytest.raises(ValueError):
        encode_tokens(np.array([[0, 4]]), 4)
    with pytest.raises(ValueError):
        decode_codes(np.array([64]), 4, 3)
