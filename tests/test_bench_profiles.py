"""Benchmark profiles: the built-in ones, their fingerprints and validated budgets."""

import pytest

from botorch_demo import DEMOConfig
from botorch_demo.benchmarks.profiles import PROFILES, BOSettings, CMAESSettings, get_profile


def test_profiles() -> None:
    fast, default, paper, smoke = (get_profile(n) for n in ("fast", "default", "paper", "smoke"))
    assert {fast.q, default.q, paper.q, smoke.q} == {256}
    assert paper.demo.surrogate_hidden == 2048
    assert paper.demo.diffusion_epochs == 1000
    assert smoke.bo.max_points == 100
    # the default profile is DEMOConfig() with the fast profile's search budgets
    assert default.demo == DEMOConfig(progress=False)
    assert (default.cmaes, default.bo) == (fast.cmaes, fast.bo)
    assert default.demo.diffusion_epochs > fast.demo.diffusion_epochs
    profiles = (fast, default, paper, smoke)
    assert len({p.fingerprint() for p in profiles}) == 4
    # progress bars do not change results
    quiet = smoke.demo.replace(progress=not smoke.demo.progress)
    assert type(smoke)(smoke.name, quiet, smoke.cmaes, smoke.bo).fingerprint() == (
        smoke.fingerprint()
    )
    with pytest.raises(ValueError, match="popsize"):
        CMAESSettings(popsize=0)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_each_profile_runs_the_demo_preset_of_its_name(name: str) -> None:
    profile = get_profile(name)
    assert profile.name == name
    assert profile.demo == DEMOConfig.preset(name, progress=False)
    assert get_profile(profile) is profile


def test_bad_budgets_and_names() -> None:
    with pytest.raises(ValueError, match="max_points"):
        BOSettings(max_points=0)
    with pytest.raises(ValueError, match="offline_rows"):
        BOSettings(offline_rows=1)
    with pytest.raises(ValueError, match="Known profiles"):
        get_profile("turbo")
