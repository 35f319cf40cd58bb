"""Phase 1 (fitting.py): each network is built once, from random streams of its own."""

import pytest
import torch

from botorch_demo import DEMO
from botorch_demo.fitting import empty_parts, fit_parts, seeded_generator
from botorch_demo.sde import VPSDE


def _weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_streams_are_seeded_and_distinct():
    a = torch.rand(4, generator=seeded_generator(3, "surrogate.init"))
    assert torch.equal(a, torch.rand(4, generator=seeded_generator(3, "surrogate.init")))
    assert not torch.equal(a, torch.rand(4, generator=seeded_generator(3, "diffusion.init")))
    assert not torch.equal(a, torch.rand(4, generator=seeded_generator(4, "surrogate.init")))


def test_the_surrogate_does_not_depend_on_the_diffusion_settings(tiny_config, make_quadratic):
    X, Y, bounds = make_quadratic()
    full = DEMO(tiny_config).fit(X, Y, bounds, seed=5)
    other = DEMO(tiny_config.replace(pseudo_target=False, diffusion_epochs=1, diffusion_hidden=32))
    other.fit(X, Y, bounds, seed=5)
    assert _same(_weights(full.surrogate), _weights(other.surrogate))
    assert not _same(_weights(full.score_net), _weights(other.score_net))


def test_a_reused_surrogate_leaves_the_score_network_as_a_fresh_fit_trains_it(
    tiny_config, make_quadratic
):
    X, Y, bounds = make_quadratic()
    donor = DEMO(tiny_config).fit(X, Y, bounds, seed=2)
    offline = tiny_config.replace(pseudo_target=False)
    reused = DEMO(offline).fit(X, Y, bounds, seed=2, reuse_surrogate=donor)
    fresh = DEMO(offline).fit(X, Y, bounds, seed=2)
    assert reused.surrogate is donor.surrogate
    assert _same(_weights(fresh.surrogate), _weights(donor.surrogate))
    assert _same(_weights(reused.score_net), _weights(fresh.score_net))


def test_fit_parts_builds_each_network_once(tiny_config, make_quadratic, monkeypatch):
    import botorch_demo.fitting as fitting

    built = {"surrogate": 0, "score": 0}
    real_surrogate, real_score = fitting.build_surrogate, fitting.ScoreNetwork

    def count_surrogate(*args, **kwargs):
        built["surrogate"] += 1
        return real_surrogate(*args, **kwargs)

    def count_score(*args, **kwargs):
        built["score"] += 1
        return real_score(*args, **kwargs)

    monkeypatch.setattr(fitting, "build_surrogate", count_surrogate)
    monkeypatch.setattr(fitting, "ScoreNetwork", count_score)
    X, Y, bounds = make_quadratic()
    parts = fit_parts(tiny_config, VPSDE(0.01, 2.0), X, Y, bounds, {}, seed=0)
    assert built == {"surrogate": 1, "score": 1}
    assert parts.synthetic_X is not None and parts.synthetic_X.shape == (X.shape[0], 3)


@pytest.mark.parametrize("with_synthetic", [True, False])
def test_empty_parts_have_the_fitted_layout(tiny_config, make_quadratic, with_synthetic):
    X, Y, bounds = make_quadratic()
    config = tiny_config.replace(pseudo_target=with_synthetic)
    fitted = fit_parts(config, VPSDE(0.01, 2.0), X, Y, bounds, {}, seed=0)
    empty = empty_parts(config, bounds, {}, X.shape[0], torch.float32, with_synthetic)
    for name in ("train_X", "train_Y", "synthetic_X", "synthetic_y"):
        a, b = getattr(fitted, name), getattr(empty, name)
        assert (a is None) == (b is None) and (a is None or a.shape == b.shape), name
    assert _weights(fitted.surrogate).keys() == _weights(empty.surrogate).keys()
