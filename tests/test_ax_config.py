"""DEMO configurations as JSON ``generator_kwargs``: presets, dicts, overrides."""

from __future__ import annotations

import pytest
from ax.exceptions.core import UserInputError

from botorch_demo.ax import resolve_demo_config


def test_presets_dicts_and_overrides_resolve() -> None:
    base = resolve_demo_config("smoke", {"m": 300})
    assert base.m == 300
    assert resolve_demo_config({"m": 200}).m == 200


@pytest.mark.parametrize(
    ("config", "overrides", "message"),
    [("huge", None, "preset"), ("fast", {"not_a_field": 1}, "Unknown DEMOConfig field")],
)
def test_unknown_presets_and_fields_are_refused(config, overrides, message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        resolve_demo_config(config, overrides)
