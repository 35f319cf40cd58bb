"""Checks of the arguments of the Ax-facing constructors, in one place.

The strategy builders, the DEMO generator and the pool generator check their
counts, seeds, switches and DEMO configuration with these, so that the same bad value
gets the same ``UserInputError`` wherever it is passed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from ax.exceptions.core import UserInputError

from botorch_demo.ax.config import ConfigSpec, resolve_demo_config
from botorch_demo.config import DEMOConfig
from botorch_demo.validation import MAX_SEED


def int_argument(value: object, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as a plain int in ``[minimum, maximum]``, or a ``UserInputError`` naming ``name``.

    Ints and NumPy integers pass; bools, floats (even ``3.0``), strings such as
    ``"3"`` and ``None`` do not.

    Args:
        value: The argument.
        name: How messages name it.
        minimum: Smallest allowed value.
        maximum: Largest allowed value (``None``: no limit).

    Returns:
        The value as an ``int``.

    Raises:
        UserInputError: Naming ``name``, for a value that is not such an int.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UserInputError(f"{name} must be an int; got {value!r} ({type(value).__name__}).")
    out = int(value)
    if maximum is None and out < minimum:
        raise UserInputError(f"{name} must be an int >= {minimum}; got {out}.")
    if maximum is not None and not minimum <= out <= maximum:
        raise UserInputError(f"{name} must be an int in [{minimum}, {maximum}]; got {out}.")
    return out


def bool_argument(value: object, name: str) -> bool:
    """``value`` if it is a bool (NumPy bools and ``0``/``1`` are not), else a
    ``UserInputError`` naming ``name``."""
    if not isinstance(value, bool):
        raise UserInputError(f"{name} must be a bool; got {value!r} ({type(value).__name__}).")
    return value


def fraction_argument(value: object, name: str) -> float:
    """``value`` as a float in ``[0, 1]`` (an int or float, not a bool), else a
    ``UserInputError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserInputError(f"{name} must be a number in [0, 1]; got {value!r}.")
    out = float(value)
    if not 0.0 <= out <= 1.0:
        raise UserInputError(f"{name} must be a number in [0, 1]; got {out}.")
    return out


def seed_argument(seed: object, name: str = "seed") -> int | None:
    """``seed`` as ``None`` or an int in ``[0, 2**63 - 2]`` (a ``UserInputError`` naming
    ``name`` otherwise)."""
    if seed is None:
        return None
    return int_argument(seed, name, 0, MAX_SEED)


def checked_config(config: ConfigSpec, config_overrides: object) -> DEMOConfig:
    """Resolve the DEMO configuration now, so that a bad field fails at construction.

    Args:
        config: Preset name, dict of fields or ``DEMOConfig``.
        config_overrides: ``DEMOConfig`` fields replacing those of ``config``.

    Returns:
        The resolved configuration.

    Raises:
        UserInputError: For overrides that are not a mapping, or a configuration
            that does not resolve (the message names the field).
    """
    if config_overrides is not None and not isinstance(config_overrides, Mapping):
        raise UserInputError(
            "config_overrides must be a dict of DEMOConfig fields; got "
            f"{type(config_overrides).__name__}."
        )
    try:
        return resolve_demo_config(config, config_overrides)
    except (TypeError, ValueError) as err:
        if isinstance(err, UserInputError):
            raise
        raise UserInputError(f"config / config_overrides: {err}") from None
