"""Phase 1: each network built once from random streams of its own, a reused
surrogate, divergence, and the configuration reaching the fitted parts."""

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


def test_a_reused_surrogate_and_its_synthetic_data_are_shared(
    continuous_model: DEMO, smoke_config, make_continuous
) -> None:
    X, Y, bounds = make_continuous()
    first = continuous_model
    second = DEMO(smoke_config.replace(guidance_weight=0.0)).fit(
        X, Y, bounds, seed=1, reuse_surrogate=first
    )
    assert second.surrogate is first.surrogate
    assert torch.equal(second.synthetic_X, first.synthetic_X)
    offline = DEMO(smoke_config.replace(pseudo_target=False)).fit(
        X, Y, bounds, seed=0, reuse_surrogate=first
    )
    assert offline.synthetic_X is None
    with pytest.raises(ValueError, match="surrogate_hidden"):
        DEMO(smoke_config.replace(surrogate_hidden=8)).fit(X, Y, bounds, reuse_surrogate=first)
    with pytest.raises(ValueError, match="training data differ"):
        DEMO(smoke_config).fit(X, Y + 1, bounds, reuse_surrogate=first)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(surrogate_lr=1e10), "Training the surrogate diverged"),
        (dict(ascent_step_size_continuous=1e300), "Gradient ascent diverged"),
        (dict(diffusion_lr=1e10), "Training the score network diverged"),
    ],
)
def test_diverging_fit_names_the_phase_and_keeps_no_state(
    kwargs: dict, fragment: str, tiny_config, make_quadratic
) -> None:
    X, Y, bounds = make_quadratic()
    model = DEMO(tiny_config.replace(**kwargs))
    with pytest.raises(RuntimeError, match=fragment):
        model.fit(X, Y, bounds, seed=0)
    assert not model.is_fitted


def test_the_model_ascends_with_the_configured_rule_and_trust_region(
    smoke_config, make_continuous
) -> None:
    X, Y, bounds = make_continuous()
    cfg = smoke_config.replace(ascent_optimizer="normalized", ascent_step_size_continuous=0.01)
    model = DEMO(cfg).fit(X, Y, bounds, seed=0)
    Z = model.encoder.encode(X)
    rms = (model.synthetic_X - Z).square().mean(-1).sqrt()
    # T steps of RMS length eta: at most T * eta away (less where the path bends).
    reach = cfg.ascent_steps * 0.01
    assert rms.max().item() <= reach + 1e-5
    assert rms.median().item() > 0.9 * reach
    capped = DEMO(cfg.replace(ascent_trust_radius=0.05)).fit(X, Y, bounds, seed=0)
    rms = (capped.synthetic_X - Z).square().mean(-1).sqrt()
    assert rms.max().item() <= 0.05 + 1e-6


def _label(net) -> float:
    """The conditioning label of target 1.0 in the units of the diffusion labels."""
    return net.label_from_target(1.0) * net.y_std.item() + net.y_mean.item()


def test_the_target_cap_is_in_offline_standard_deviations(smoke_config, make_continuous) -> None:
    X, Y, bounds = make_continuous(offset=50.0, scale=10.0)
    cfg = smoke_config.replace(target_cap=0.5, target_quantile=1.0)
    model = DEMO(cfg).fit(X, Y, bounds, seed=0)
    z_best = ((Y.max() - Y.mean()) / Y.std()).item()
    assert round(model.score_net.y_cap.item() - (z_best + 0.5), 4) == 0
    # The conditioning label is the best D' label or the cap, whichever is lower.
    expected = min(model.synthetic_y.max().item(), z_best + 0.5)
    assert round(_label(model.score_net) - expected, 4) == 0
    tight = DEMO(cfg.replace(target_cap=0.0)).fit(X, Y, bounds, seed=0, reuse_surrogate=model)
    assert round(_label(tight.score_net) - min(tight.synthetic_y.max().item(), z_best), 4) == 0


def test_the_diffusion_model_is_trained_on_the_pseudo_target_data(
    trained_model: DEMO, trained_config, make_continuous
) -> None:
    X, Y, bounds = make_continuous()
    model = trained_model
    net, syn_X, syn_y = model.score_net, model.synthetic_X, model.synthetic_y
    z = ((Y - Y.mean()) / Y.std()).squeeze(-1)
    Z = model.encoder.encode(X)
    # D' labels are ascent predictions, above the offline labels, and D' moved.
    assert syn_y.mean().item() > z.mean().item() + 0.3
    assert abs(syn_y.max().item() - z.max().item()) > 1e-3
    assert (syn_X.mean(0) - Z.mean(0)).abs().max().item() > 0.1
    assert round(net.y_max.item() - syn_y.max().item(), 4) == 0
    torch.testing.assert_close(net.x_mean, syn_X.mean(0).to(net.x_mean), rtol=1e-5, atol=1e-4)
    offline = DEMO(trained_config.replace(pseudo_target=False)).fit(
        X, Y, bounds, seed=0, reuse_surrogate=model
    )
    assert round(offline.score_net.y_max.item() - z.max().item(), 4) == 0
    torch.testing.assert_close(
        offline.score_net.x_mean, Z.mean(0).to(net.x_mean), rtol=1e-5, atol=1e-4
    )


def test_a_decoded_ascent_builds_d_prime_from_designs_that_exist(smoke_config, make_mixed):
    X, Y, bounds, cats = make_mixed()
    cfg = smoke_config.replace(ascent_decoded=True, ascent_units="design")
    model = DEMO(cfg).fit(X, Y, bounds, categorical_features=cats, seed=0)
    D, enc = model.synthetic_X, model.encoder
    w = next(model.surrogate.parameters())

    def predict(Z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.surrogate(Z.to(w)).squeeze(-1).to(model.synthetic_y)

    # every D' row is the encoding of its decoded design, labelled by its prediction
    torch.testing.assert_close(enc.encode(enc.decode(D)).to(D), D)
    torch.testing.assert_close(model.synthetic_y, predict(D))
    assert bool((model.synthetic_y >= predict(enc.encode(X)) - 1e-5).all())
