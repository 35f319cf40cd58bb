"""Shared components: the same surrogate whatever else ran, one set of fits per phase-1 config."""

import pytest
import torch

from botorch_demo.benchmarks.components import GroupModels, SharedModels, split_config
from botorch_demo.benchmarks.profiles import get_profile
from botorch_demo.config import GENERATION_FIELDS
from botorch_demo.tasks import load_task


def test_the_surrogate_does_not_depend_on_what_else_ran() -> None:
    task = load_task("levy")
    config = get_profile("smoke").demo
    full = SharedModels(task, 3, config).pseudo_target_model()
    alone = SharedModels(task, 3, config, needed=("surrogate",))
    ascent = SharedModels(task, 3, config, needed=("surrogate", "ascent"))
    for model in (alone.surrogate_model(), ascent.pseudo_target_model(diffusion=False)):
        for a, b in zip(
            full.surrogate.state_dict().values(), model.surrogate.state_dict().values(), strict=True
        ):
            assert torch.equal(a, b)
    assert torch.equal(
        full.ascent_candidates(256)[0], ascent.surrogate_model().ascent_candidates(256)[0]
    )
    assert "pseudo_target_diffusion" not in ascent.seconds
    with pytest.raises(RuntimeError, match="pseudo_target_diffusion"):
        ascent.pseudo_target_model()


def test_split_config_resets_the_phase2_fields(tiny_config) -> None:
    config = tiny_config.replace(m=100, guidance_weight=3.0, ascent_optimizer="sgd")
    fit, generation = split_config(config, tiny_config)
    assert fit == tiny_config.replace(ascent_optimizer="sgd")
    assert generation == {"m": 100, "guidance_weight": 3.0}
    assert set(generation) <= set(GENERATION_FIELDS)
    assert split_config(tiny_config, tiny_config) == (tiny_config, {})


def test_split_config_moves_m_and_M_together_to_generation(tiny_config) -> None:
    small = tiny_config.replace(M=300, m=200)  # the base's m = 400 exceeds this M
    fit, generation = split_config(small, tiny_config)
    assert fit == tiny_config
    assert generation == {"m": 200, "M": 300}
    assert fit.replace(**generation) == small


def test_group_models_share_fits_by_phase1_config(tiny_config) -> None:
    task = load_task("seq-l6-v5")
    models = GroupModels(task, 0, tiny_config)
    pt = ("surrogate", "ascent", "pseudo_target_diffusion")
    models.add(tiny_config, pt)
    models.add(tiny_config.replace(m=0), pt)
    models.add(tiny_config, ("surrogate", "ascent"))
    models.add(tiny_config.replace(ascent_optimizer="sgd"), ("surrogate",))
    assert models.shared_by(tiny_config.replace(m=0), pt) == {
        "surrogate": 3,
        "ascent": 3,
        "pseudo_target_diffusion": 2,
    }
    assert models.shared_by(tiny_config.replace(ascent_optimizer="sgd"), ("surrogate",)) == {
        "surrogate": 1
    }
    base, generation = models.models(tiny_config.replace(m=0))
    assert generation == {"m": 0}
    assert models.models(tiny_config)[0] is base
    assert base.needed == frozenset(pt)
    other, _ = models.models(tiny_config.replace(ascent_optimizer="sgd"))
    assert other is not base and other.needed == frozenset({"surrogate"})
    base.pseudo_target_model()
    with pytest.raises(RuntimeError, match="before its first fit"):
        models.add(tiny_config, ("surrogate",))
