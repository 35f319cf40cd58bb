"""DEMOConfig: presets, validation, normalisation and serialisation."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

import numpy as np
import pytest

from botorch_demo import DEMOConfig

NAN, INF = math.nan, math.inf


def test_paper_preset_has_section_5_4_values() -> None:
    cfg = DEMOConfig.paper()
    assert (cfg.surrogate_hidden, cfg.surrogate_layers) == (2048, 2)
    assert (cfg.diffusion_hidden, cfg.diffusion_layers) == (2048, 2)
    assert cfg.surrogate_activation == "relu"
    assert (cfg.surrogate_epochs, cfg.surrogate_batch_size) == (200, 128)
    assert cfg.surrogate_lr == 1e-1
    assert cfg.ascent_steps == 100
    assert cfg.ascent_step_size_continuous == 1e-3
    assert cfg.ascent_step_size_discrete == 1e-1
    assert (cfg.diffusion_epochs, cfg.diffusion_batch_size) == (1000, 128)
    assert (cfg.m, cfg.M, cfg.target_score) == (400, 1000, 1.0)
    assert cfg.sampler == "heun"


def test_paper_preset_is_adam_with_the_papers_rates_and_no_robustness_departures() -> None:
    cfg = DEMOConfig.paper()
    assert cfg.ascent_optimizer == "adam"
    assert (cfg.ascent_step_size_continuous, cfg.ascent_step_size_discrete) == (1e-3, 1e-1)
    assert (cfg.target_quantile, cfg.target_cap) == (1.0, None)
    assert not (cfg.diffusion_standardize or cfg.sampler_clamp)
    assert (cfg.ascent_units, cfg.edit_source, cfg.edits_from) == ("standard", "offline", "offline")
    assert (cfg.edit_draws, cfg.edit_rounds, cfg.edit_selection) == (1, 1, "slot")
    assert cfg.edit_per_source is None


@pytest.mark.parametrize(
    ("kwargs", "source"),
    [
        (dict(), "both"),
        (dict(pseudo_target=False), "offline"),
        (dict(editing=False), "both"),
        (dict(edit_source="offline"), "offline"),
        (dict(edit_source="ascent", pseudo_target=False), "ascent"),
        (dict(edit_source="both", pseudo_target=False), "both"),
    ],
)
def test_auto_edit_source_keeps_the_ablations_meaning(kwargs: dict, source: str) -> None:
    # The default edits offline designs and D' points alternately; without the
    # pseudo-target there is no D' to edit, and editing=False edits nothing, so
    # both ablations stay valid with the default.
    cfg = DEMOConfig(**kwargs)
    assert cfg.edits_from == source


def test_presets_are_valid_and_distinct() -> None:
    presets = [DEMOConfig(), DEMOConfig.paper(), DEMOConfig.fast(), DEMOConfig.smoke()]
    assert len({json.dumps(p.to_dict(), sort_keys=True) for p in presets}) == 4
    assert DEMOConfig.fast(m=300).m == 300


def test_dict_round_trip_is_json_friendly() -> None:
    cfg = DEMOConfig.fast(m=250, sampler="euler")
    data = json.loads(json.dumps(cfg.to_dict()))
    assert DEMOConfig.from_dict(data) == cfg
    assert DEMOConfig(**dataclasses.asdict(cfg)) == cfg
    with pytest.raises(ValueError, match="Unknown DEMOConfig fields: \\['bogus'\\]"):
        DEMOConfig.from_dict({**data, "bogus": 1})


def test_replace_validates() -> None:
    assert DEMOConfig().replace(guidance_weight=0.5).guidance_weight == 0.5
    with pytest.raises(ValueError, match="m must lie in"):
        DEMOConfig().replace(m=2000)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("surrogate_hidden", dict(surrogate_hidden=0)),
        ("ascent_steps", dict(ascent_steps=-1)),
        ("num_steps", dict(num_steps=0)),
        ("diffusion_lr", dict(diffusion_lr=0.0)),
        ("beta_min", dict(beta_min=5.0, beta_max=1.0)),
        ("condition_dropout", dict(condition_dropout=1.0)),
        ("sampler", dict(sampler="rk4")),
        ("categorical_encoding", dict(categorical_encoding="ordinal")),
        ("edit_source", dict(edit_source="ascent", editing=False)),
        ("logit_smoothing", dict(logit_smoothing=0.0)),
        ("ascent_trust_radius", dict(ascent_trust_radius=-1.0)),
    ],
)
def test_invalid_values_are_named(name: str, kwargs: dict) -> None:
    with pytest.raises(ValueError, match=name):
        DEMOConfig(**kwargs)


CONFIG_CASES = [
    (dict(editing="no"), TypeError, "editing must be True or False"),
    (dict(pseudo_target="False"), TypeError, "pseudo_target must be True or False"),
    (dict(pseudo_target=None), TypeError, "pseudo_target must not be None"),
    (dict(progress="yes"), TypeError, "progress must be True or False"),
    (dict(surrogate_weight_decay=-1.0), ValueError, "surrogate_weight_decay must be >= 0"),
    (dict(surrogate_weight_decay=NAN), ValueError, "surrogate_weight_decay must be finite"),
    (dict(m=2.5), TypeError, "m must be an int, got 2.5"),
    (dict(m=True), TypeError, "m must be an int, got True"),
    (dict(num_steps=2.5), TypeError, "num_steps must be an int"),
    (dict(surrogate_lr=NAN), ValueError, "surrogate_lr must be finite"),
    (dict(diffusion_lr=INF), ValueError, "diffusion_lr must be finite"),
    (dict(guidance_weight=NAN), ValueError, "guidance_weight must be finite"),
    (dict(guidance_weight=-0.5), ValueError, "guidance_weight must lie in [0.0, 100.0]"),
    (dict(guidance_weight=1e6), ValueError, "guidance_weight must lie in [0.0, 100.0]"),
    (dict(target_score=INF), ValueError, "target_score must be finite"),
    (dict(target_score=11.0), ValueError, "target_score must lie in [-1.0, 10.0]"),
    (dict(ascent_step_size_continuous=NAN), ValueError, "ascent_step_size_continuous must"),
    (dict(beta_max=INF), ValueError, "beta_max must be finite"),
    (dict(surrogate_lr="1e-3"), TypeError, "surrogate_lr must be a real number"),
    (dict(network_dtype="float16"), ValueError, "network_dtype must be one of"),
    (dict(sampler=None), TypeError, "sampler must not be None"),
    (dict(surrogate_hidden=64.0), TypeError, "surrogate_hidden must be an int"),
]


@pytest.mark.parametrize(("kwargs", "error", "fragment"), CONFIG_CASES)
def test_config_rejects(kwargs: dict, error: type, fragment: str) -> None:
    with pytest.raises(error, match=re.escape(fragment)):
        DEMOConfig.smoke(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "field", "expected"),
    [
        (dict(m=np.int64(300)), "m", 300),
        (dict(guidance_weight=np.float32(0.5)), "guidance_weight", 0.5),
        (dict(guidance_weight=3), "guidance_weight", 3.0),
        (dict(editing=np.bool_(False)), "editing", False),
        (dict(target_score=-1.0), "target_score", -1.0),
    ],
)
def test_config_normalises_integer_like_and_numeric_values(
    kwargs: dict, field: str, expected: Any
) -> None:
    value = getattr(DEMOConfig.smoke(**kwargs), field)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(edit_draws=0), "edit_draws must be >= 1"),
        (dict(edit_rounds=0), "edit_rounds must be >= 1"),
        (dict(edit_per_source=0, edit_selection="pool"), "edit_per_source must be >= 1"),
        (dict(edit_selection="best"), "edit_selection must be one of"),
        (dict(m=400, edit_max_m=300), "edit_max_m must lie in"),
        (dict(m=400, edit_max_m=1200), "edit_max_m must lie in"),
        (dict(ascent_units="logits"), "ascent_units must be one of"),
        (dict(edit_source="both", editing=False), "needs editing=True"),
    ],
)
def test_the_reach_and_draw_fields_are_checked(kwargs, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        DEMOConfig(**kwargs)


def test_the_default_pool_and_its_cap_and_the_slot_alternative():
    cfg = DEMOConfig()
    assert (cfg.edit_draws, cfg.edit_rounds, cfg.edit_selection) == (4, 6, "pool")
    assert cfg.edit_per_source == 2
    # Slot selection keeps one candidate per top design, so the default cap
    # holds already and the config is valid as it is.
    assert DEMOConfig(edit_selection="slot").edit_per_source == 2


def test_every_field_belongs_to_one_phase():
    from botorch_demo.config import FIELD_PHASES, GENERATION_FIELDS

    assert set(FIELD_PHASES) == {f.name for f in dataclasses.fields(DEMOConfig)}
    for name in ("edit_draws", "edit_rounds", "edit_max_m", "edit_source", "m"):
        assert name in GENERATION_FIELDS
    assert FIELD_PHASES["ascent_units"] == "ascent"
