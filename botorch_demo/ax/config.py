"""JSON-friendly DEMO configuration for Ax ``generator_kwargs``.

Ax stores ``generator_kwargs`` with every generator run and with the generation
strategy, so they must be plain JSON values. A DEMO configuration is therefore
passed as a preset name (``"default"``, ``"fast"``, ``"paper"``, ``"smoke"``), or
as a dict of ``DEMOConfig`` fields (missing fields take the ``DEMOConfig()``
defaults), plus an optional dict of field overrides.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from ax.exceptions.core import UserInputError

from botorch_demo.config import PRESETS, DEMOConfig

ConfigSpec = str | Mapping[str, Any] | DEMOConfig


def resolve_demo_config(
    config: ConfigSpec = "default", overrides: Mapping[str, Any] | None = None
) -> DEMOConfig:
    """Builds a ``DEMOConfig`` from a preset name or a dict, plus overrides.

    Args:
        config: A preset name, a mapping of ``DEMOConfig`` fields, or a
            ``DEMOConfig``.
        overrides: Optional mapping of fields replacing those of ``config``.

    Returns:
        The resolved, validated ``DEMOConfig``.

    Raises:
        UserInputError: For an unknown preset or unknown field names.
    """
    if isinstance(config, DEMOConfig):
        base = config
    elif isinstance(config, str):
        if config not in PRESETS:
            raise UserInputError(
                f"Unknown DEMO config preset {config!r}; choose one of "
                f"{sorted(PRESETS)} or pass a dict of DEMOConfig fields."
            )
        base = DEMOConfig.preset(config)
    elif isinstance(config, Mapping):
        _check_fields(config)
        base = DEMOConfig(**config)
    else:
        raise UserInputError(
            "`config` must be a preset name, a dict of DEMOConfig fields or a "
            f"DEMOConfig; got {type(config).__name__}."
        )
    if overrides:
        _check_fields(overrides)
        base = dataclasses.replace(base, **overrides)
    return base


def config_to_kwargs(config: ConfigSpec) -> str | dict[str, Any]:
    """Returns a JSON-friendly form of ``config`` for ``generator_kwargs``."""
    if isinstance(config, DEMOConfig):
        return dataclasses.asdict(config)
    resolve_demo_config(config)  # Validate early, at strategy construction.
    return config if isinstance(config, str) else dict(config)


def _check_fields(fields: Mapping[str, Any]) -> None:
    known = {f.name for f in dataclasses.fields(DEMOConfig)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise UserInputError(
            f"Unknown DEMOConfig field(s) {unknown}; known fields: {sorted(known)}."
        )
