"""The DEMO facade: fit, generate, predict, ascent candidates, save and load, dtypes
and devices."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from botorch.exceptions.errors import InputDataError

import botorch_demo.fitting as fitting_module
from botorch_demo import DEMO, gen_candidates_demo
from botorch_demo.config import ONE_EDIT_PER_DESIGN


def test_generate_returns_q_designs_inside_the_bounds_in_the_training_dtype(
    continuous_model: DEMO, make_continuous
) -> None:
    _, _, bounds = make_continuous()
    cands, pred = continuous_model.generate(16, seed=0)
    assert cands.shape == (16, 3)
    assert pred.shape == (16,)
    assert cands.dtype == torch.float64
    assert pred.dtype == torch.float64
    assert ((cands >= bounds[0]) & (cands <= bounds[1])).all()
    torch.testing.assert_close(
        pred, continuous_model.predict(cands).squeeze(-1), rtol=1e-5, atol=1e-8
    )


def test_seeded_generate_and_fit_are_deterministic(
    continuous_model: DEMO, smoke_config, make_continuous
) -> None:
    X, Y, bounds = make_continuous()
    a, pa = continuous_model.generate(8, seed=3)
    b, pb = continuous_model.generate(8, seed=3)
    c, _ = continuous_model.generate(8, seed=4)
    assert torch.equal(a, b) and torch.equal(pa, pb)
    assert not torch.equal(a, c)
    refit = DEMO(smoke_config).fit(X, Y, bounds, seed=0)
    assert torch.equal(refit.generate(8, seed=3)[0], a)


def test_m_zero_returns_the_top_designs(continuous_model: DEMO, make_continuous) -> None:
    X, Y, _ = make_continuous()
    cands, _ = continuous_model.generate(
        5, seed=0, m=0, edit_source="offline", **ONE_EDIT_PER_DESIGN
    )
    top = Y.squeeze(-1).argsort(descending=True)[:5]
    assert torch.equal(cands, X[top])
    # The default pool keeps the same designs, ranked by prediction.
    pooled, _ = continuous_model.generate(5, seed=0, m=0, edit_source="offline")
    assert (pooled[:, None] == X[top][None]).all(-1).any(-1).all()
    assert torch.unique(pooled, dim=0).shape[0] == 5
    # The default edits the top designs and their D' points alternately.
    both, _ = continuous_model.generate(5, seed=0, m=0, **ONE_EDIT_PER_DESIGN)
    assert torch.equal(both[0::2], X[top[:3]])
    ascent, _ = continuous_model.ascent_candidates(2)
    assert torch.equal(both[1::2], ascent)


def test_given_sources_are_edited_instead_of_the_top_designs(
    continuous_model: DEMO, make_continuous
) -> None:
    X, Y, _ = make_continuous()
    bottom = X[Y.squeeze(-1).argsort()[:4]]
    # At m = 0 an edit is its source: the given designs come back, not the top ones.
    same, _ = continuous_model.generate(4, seed=0, m=0, sources=bottom, **ONE_EDIT_PER_DESIGN)
    assert torch.equal(same, bottom)
    # With noise, the default pool edits them into other designs than the
    # edits of the top designs drawn with the same seed.
    edited, _ = continuous_model.generate(4, seed=0, sources=bottom)
    assert edited.shape == (4, 3) and not torch.equal(edited, bottom)
    top, _ = continuous_model.generate(4, seed=0)
    assert not torch.equal(edited, top)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sources": "rows"}, "sources must be an n x 3 tensor, got str"),
        ({"sources": torch.zeros(3, 3, dtype=torch.float64)}, "sources must have q = 4 rows"),
        ({"sources": torch.zeros(4, 2, dtype=torch.float64)}, r"n x 3 tensor, got \(4, 2\)"),
        ({"sources": torch.zeros(4, 3, dtype=torch.float64), "editing": False}, "editing=True"),
    ],
)
def test_sources_are_checked(continuous_model: DEMO, kwargs: dict, message: str) -> None:
    with pytest.raises((InputDataError, ValueError), match=message):
        continuous_model.generate(4, seed=0, **kwargs)


def test_ascent_candidates_are_predicted_above_the_top_designs(
    continuous_model: DEMO, make_continuous
) -> None:
    X, Y, _ = make_continuous()
    cands, pred = continuous_model.ascent_candidates(8)
    top = Y.squeeze(-1).argsort(descending=True)[:8]
    assert cands.shape == (8, 3)
    assert pred.mean() > continuous_model.predict(X[top]).mean()


def test_predict_tracks_the_data(continuous_model: DEMO, make_continuous) -> None:
    X, Y, _ = make_continuous()
    pred = continuous_model.predict(X)
    assert pred.shape == (300, 1)
    assert torch.corrcoef(torch.cat([pred, Y], -1).T)[0, 1].item() > 0.5
    assert continuous_model.predict(X[:0]).shape == (0, 1)


def test_predict_is_in_raw_units(trained_config, make_continuous) -> None:
    X, Y, bounds = make_continuous(offset=1000.0, scale=50.0)
    model = DEMO(trained_config).fit(X, Y, bounds, seed=0)
    pred = model.predict(X)
    assert (pred.mean() - Y.mean()).abs().item() < 0.25 * Y.std().item()
    ratio = (pred.std() / Y.std()).item()
    assert 0.5 < ratio < 1.5, ratio
    assert (pred - Y).abs().median().item() < 0.5 * Y.std().item()


def test_inputs_that_require_grad_are_detached(tiny_config, make_quadratic) -> None:
    X, Y, bounds = make_quadratic()
    model = DEMO(tiny_config).fit(X.requires_grad_(), Y.requires_grad_(), bounds, seed=0)
    assert model.is_fitted and not model.train_X.requires_grad
    assert model.predict(X[:3]).shape == (3, 1)


def test_save_load_round_trip(mixed_model: DEMO, make_mixed, tmp_path) -> None:
    X = make_mixed()[0]
    path = tmp_path / "demo.pt"
    mixed_model.save(path)
    loaded = DEMO.load(path)
    assert loaded.is_fitted
    assert loaded.config == mixed_model.config
    assert torch.equal(loaded.generate(8, seed=5)[0], mixed_model.generate(8, seed=5)[0])
    assert torch.equal(loaded.predict(X), mixed_model.predict(X))
    # The plain state_dict route works on a loaded (built) model too.
    loaded.load_state_dict(mixed_model.state_dict())


def test_an_unfitted_model_refuses_to_generate_and_a_config_must_be_a_demo_config(
    smoke_config,
) -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        DEMO(smoke_config).generate(2)
    with pytest.raises(TypeError, match="DEMOConfig"):
        DEMO({"m": 3})


class _Boom(Exception):
    pass


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
@pytest.mark.parametrize("already_fitted", [False, True])
def test_fit_is_atomic(
    error: type[BaseException],
    already_fitted: bool,
    tiny_config,
    make_quadratic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, Y, bounds = make_quadratic()
    model = DEMO(tiny_config)
    if already_fitted:
        model.fit(X, Y, bounds, seed=0)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        cands = model.generate(4, seed=0)[0]

    def fail(*args: Any, **kwargs: Any) -> None:
        raise error("interrupted")

    monkeypatch.setattr(fitting_module, "fit_score_network", fail)
    with pytest.raises(error):
        model.fit(X[:60], Y[:60], bounds, seed=1)
    assert model.is_fitted is already_fitted
    if already_fitted:
        after = model.state_dict()
        assert before.keys() == after.keys()
        assert all(torch.equal(before[k], after[k]) for k in before)
        assert torch.equal(model.generate(4, seed=0)[0], cands)
    else:
        with pytest.raises(RuntimeError, match="not fitted"):
            model.save("never-written.pt")


def test_float32_inputs_give_float32_outputs(smoke_config, make_continuous) -> None:
    X, Y, bounds = make_continuous(dtype=torch.float32)
    cands, pred = gen_candidates_demo(X, Y, bounds, q=4, config=smoke_config, seed=0)
    assert (cands.dtype, pred.dtype) == (torch.float32, torch.float32)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine.")
def test_cuda_outputs_follow_the_inputs(smoke_config, make_continuous) -> None:
    X, Y, bounds = make_continuous()
    X, Y, bounds = X.cuda(), Y.cuda(), bounds.cuda()
    cands, pred = gen_candidates_demo(X, Y, bounds, q=8, config=smoke_config, seed=0)
    assert (cands.device.type, pred.device.type) == ("cuda", "cuda")
