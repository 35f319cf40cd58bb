"""Bad input and faults at every public boundary (issue 12), as one table per boundary.

Each case names the exception type and a fragment of its message, or checks the
documented result. One smoke model, fitted once per module, serves every case
that needs a fitted model.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from botorch.exceptions import InputDataError

import botorch_demo.fitting as fitting_module
from botorch_demo import DEMO, DEMOConfig, SamplerDivergenceWarning
from botorch_demo.checkpoint import content_hash as _content_hash
from botorch_demo.exceptions import CheckpointError
from botorch_demo.validation import validate_training_data

TINY = DEMOConfig.smoke(surrogate_epochs=2, diffusion_epochs=2, ascent_steps=5)
NAN, INF = math.nan, math.inf


def _data(n: int = 120, d: int = 3, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    Y = -(X - 0.5).pow(2).sum(-1, keepdim=True)
    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).double()
    return X, Y, bounds


@pytest.fixture(scope="module")
def fitted() -> DEMO:
    X, Y, bounds = _data()
    return DEMO(TINY).fit(X, Y, bounds, seed=0)


@pytest.fixture(scope="module")
def checkpoint(fitted: DEMO, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "demo.pt"
    fitted.save(path)
    return path


# ----------------------------------------------------------------- DEMOConfig
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
    with pytest.raises(error, match=_re(fragment)):
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


# ----------------------------------------------------------------------- fit
FIT_CASES = [
    (dict(seed=2.7), TypeError, "seed must be an int or None, got 2.7"),
    (dict(seed="a"), TypeError, "seed must be an int or None, got 'a'"),
    (dict(seed=2**64), ValueError, "seed must lie in [0, 2**63 - 2], got 18446744073709551616"),
    (dict(seed=-1), ValueError, "seed must lie in"),
    (dict(seed=True), TypeError, "seed must be an int or None, got True"),
    (dict(categorical_features={0.5: 4}), ValueError, "keys must be integer column indices"),
    (dict(categorical_features={"0": 4}), ValueError, "keys must be integer column indices"),
    (dict(categorical_features={0: 2.5}), ValueError, "must be an int >= 2 categories"),
    (dict(categorical_features=[0]), ValueError, "must be a dict"),
    (dict(train_X=torch.ones(120, 3, dtype=torch.long)), InputDataError, "floating-point"),
    (dict(train_Y=torch.full((120, 1), INF, dtype=torch.float64)), InputDataError, "infinite"),
]


@pytest.mark.parametrize(("kwargs", "error", "fragment"), FIT_CASES)
def test_fit_rejects_before_training(kwargs: dict, error: type, fragment: str) -> None:
    X, Y, bounds = _data()
    args: dict[str, Any] = {"train_X": X, "train_Y": Y, "bounds": bounds, **kwargs}
    model = DEMO(TINY)
    with pytest.raises(error, match=_re(fragment)):
        model.fit(**args)
    assert not model.is_fitted


def test_integer_like_categorical_keys_are_accepted() -> None:
    X, Y, bounds = _data()
    X[:, 0] = (X[:, 0] * 4).floor().clamp(max=3)
    bounds[1, 0] = 3.0
    cats = validate_training_data(X, Y, bounds, {np.int64(0): np.int64(4)})
    assert cats == {0: 4} and all(type(k) is int and type(v) is int for k, v in cats.items())


@pytest.mark.parametrize("scale", [1.0, 1e160, 1e300, 1e-200])
def test_y_scale_is_standardised_without_overflow(scale: float) -> None:
    X, Y, bounds = _data()
    model = DEMO(TINY).fit(X, Y * scale, bounds, seed=0)
    pred = model.predict(X[:8])
    assert torch.isfinite(pred).all()
    assert torch.isfinite(model.y_std) and model.y_std > 0
    # Predictions are in the units of Y: same order of magnitude as the data.
    assert (pred.abs().max() / (Y.abs().max() * scale)).item() < 10


def test_unrepresentable_y_range_is_an_error() -> None:
    X, _, bounds = _data()
    # y - mean overflows for the one high score: no float64 standardisation exists.
    Y = torch.full((X.shape[0], 1), -1.7e308, dtype=torch.float64)
    Y[0] = 1.7e308
    with pytest.raises(InputDataError, match="cannot be standardised"):
        DEMO(TINY).fit(X, Y, bounds, seed=0)


def test_requires_grad_inputs_are_detached() -> None:
    X, Y, bounds = _data()
    model = DEMO(TINY).fit(X.requires_grad_(), Y.requires_grad_(), bounds, seed=0)
    assert model.is_fitted and not model.train_X.requires_grad
    assert model.predict(X[:3]).shape == (3, 1)


class _Boom(Exception):
    pass


@pytest.mark.parametrize("error", [_Boom, KeyboardInterrupt])
@pytest.mark.parametrize("already_fitted", [False, True])
def test_fit_is_atomic(
    error: type[BaseException], already_fitted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    X, Y, bounds = _data()
    model = DEMO(TINY)
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


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(surrogate_lr=1e10), "Training the surrogate diverged"),
        (dict(ascent_step_size_continuous=1e300), "Gradient ascent diverged"),
        (dict(diffusion_lr=1e10), "Training the score network diverged"),
    ],
)
def test_diverging_fit_names_the_phase_and_keeps_no_state(kwargs: dict, fragment: str) -> None:
    X, Y, bounds = _data()
    model = DEMO(TINY.replace(**kwargs))
    with pytest.raises(RuntimeError, match=fragment):
        model.fit(X, Y, bounds, seed=0)
    assert not model.is_fitted


def test_diverging_sampler_names_the_fields() -> None:
    X, Y, bounds = _data()
    model = DEMO(TINY.replace(beta_max=1e300, sampler_clamp=False)).fit(X, Y, bounds, seed=0)
    with pytest.raises(RuntimeError, match=r"The reverse SDE diverged.*beta_max"):
        model.generate(4, seed=0)
    # With the guard's clamp (the default) the same sampler warns and stays finite.
    with pytest.warns(SamplerDivergenceWarning):
        cands, _ = model.generate(4, seed=0, sampler_clamp=True)
    assert torch.isfinite(cands).all()


# ----------------------------------------------------- predict and generate
GENERATE_CASES = [
    (dict(num_steps=2.5), TypeError, "num_steps must be an int, got 2.5"),
    (dict(max_rounds=-5, unique=True), ValueError, "max_rounds must be >= 0, got -5"),
    (dict(max_rounds=2.5, unique=True), TypeError, "max_rounds must be an int"),
    (dict(seed=2.7), TypeError, "seed must be an int or None, got 2.7"),
    (dict(seed=2**64), ValueError, "seed must lie in"),
    (dict(unique="yes"), TypeError, "unique must be True or False"),
    (dict(guidance_weight=NAN), ValueError, "guidance_weight must be finite"),
    (dict(target_score=INF), ValueError, "target_score must be finite"),
    (dict(editing="no"), TypeError, "editing must be True or False"),
    (dict(q=0), ValueError, "q must be a positive int, got 0"),
    (dict(q=2.5), ValueError, "q must be a positive int, got 2.5"),
    (dict(exclude=torch.ones(2, 5)), InputDataError, "exclude must be an n x 3 tensor"),
]


@pytest.mark.parametrize(("kwargs", "error", "fragment"), GENERATE_CASES)
def test_generate_rejects(fitted: DEMO, kwargs: dict, error: type, fragment: str) -> None:
    kwargs = {"q": 4, **kwargs}
    with pytest.raises(error, match=_re(fragment)):
        fitted.generate(**kwargs)


def test_generate_accepts_integer_like_seed(fitted: DEMO) -> None:
    a = fitted.generate(4, seed=np.int64(3))[0]
    b = fitted.generate(4, seed=3)[0]
    assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool])
def test_predict_on_integer_tensors_uses_the_training_dtype(fitted: DEMO, dtype) -> None:
    X = torch.tensor([[0, 1, 0], [1, 1, 1]]).to(dtype)
    pred = fitted.predict(X)
    assert pred.dtype == torch.float64
    torch.testing.assert_close(pred, fitted.predict(X.double()))


@pytest.mark.parametrize(
    ("X", "error", "fragment"),
    [
        (torch.ones(2, 3, dtype=torch.complex64), InputDataError, "real tensor"),
        (torch.full((2, 3), NAN), InputDataError, "NaN or infinite"),
        (np.ones((2, 3)), InputDataError, "got ndarray"),
    ],
)
def test_predict_rejects(fitted: DEMO, X: Any, error: type, fragment: str) -> None:
    with pytest.raises(error, match=_re(fragment)):
        fitted.predict(X)


# ---------------------------------------------------------------- checkpoints
def _payload(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def _flip_weight_bytes(raw: bytes, fitted: DEMO) -> bytes:
    weight = fitted.surrogate[0].weight.detach().float().numpy().tobytes()
    at = raw.find(weight[:32])
    assert at > 0
    out = bytearray(raw)
    for i in range(at + 64, at + 264):
        out[i] ^= 0xFF
    return bytes(out)


def _resigned(payload: dict, **changes: Any) -> dict:
    payload = {**payload, **changes}
    meta = {k: payload[k] for k in payload if k not in ("state_dict", "content_sha256")}
    payload["content_sha256"] = _content_hash(meta, payload["state_dict"])
    return payload


CHECKPOINT_CASES = {
    "truncated": lambda raw, p, m: raw[: len(raw) // 2],
    "empty": lambda raw, p, m: b"",
    "random bytes": lambda raw, p, m: np.random.default_rng(0).bytes(4096),
    "list": lambda raw, p, m: [1, 2, 3],
    "edited config": lambda raw, p, m: {**p, "config": {**p["config"], "beta_max": 5.0}},
    "flipped weights": lambda raw, p, m: _flip_weight_bytes(raw, m),
    "edited weight": lambda raw, p, m: {
        **p,
        "state_dict": {**p["state_dict"], "y_std": p["state_dict"]["y_std"] * 2},
    },
    "unknown dtype": lambda raw, p, m: _resigned(p, network_dtype="float16"),
    "old format": lambda raw, p, m: {**p, "format_version": 1},
    "missing entries": lambda raw, p, m: {"format_version": 2},
}
CHECKPOINT_FRAGMENTS = {
    "truncated": "not a DEMO checkpoint: torch.load cannot read it",
    "empty": "not a DEMO checkpoint: torch.load cannot read it",
    "random bytes": "not a DEMO checkpoint: torch.load cannot read it",
    "list": "not a DEMO checkpoint: it holds a list",
    "edited config": "does not match its hash",
    "flipped weights": "does not match its hash",
    "edited weight": "does not match its hash",
    "unknown dtype": "unknown network_dtype 'float16'",
    "old format": "format_version is 1",
    "missing entries": "it lacks the entries",
}


@pytest.mark.parametrize("case", sorted(CHECKPOINT_CASES))
def test_load_rejects_bad_checkpoints(
    case: str, fitted: DEMO, checkpoint: Path, tmp_path: Path
) -> None:
    content = CHECKPOINT_CASES[case](checkpoint.read_bytes(), _payload(checkpoint), fitted)
    path = tmp_path / f"{case.replace(' ', '_')}.pt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content, path)
    with pytest.raises(CheckpointError) as info:
        DEMO.load(path)
    message = str(info.value)
    assert CHECKPOINT_FRAGMENTS[case] in message
    assert str(path) in message
    assert "weights_only" not in message
    # torch's own message (which suggests weights_only=False) is not chained either.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__
    assert isinstance(info.value, ValueError)


def test_load_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="DEMO checkpoint not found"):
        DEMO.load(tmp_path / "absent.pt")


def test_intact_checkpoint_round_trips(fitted: DEMO, checkpoint: Path) -> None:
    loaded = DEMO.load(checkpoint)
    X = _data()[0][:5]
    torch.testing.assert_close(loaded.predict(X), fitted.predict(X))


@pytest.mark.parametrize("corrupt", ["weights", "scores"])
def test_ax_node_checkpoint_uses_the_same_check(corrupt: str, tmp_path: Path) -> None:
    from ax.core.search_space import SearchSpaceDigest
    from ax.generators.torch_base import TorchOptConfig
    from botorch.utils.datasets import SupervisedDataset

    from botorch_demo.ax import DEMOGenerator

    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.integers(0, 4, (120, 4))).double()
    Y = X.sum(-1, keepdim=True)
    names = [f"p{i}" for i in range(4)]
    dataset = SupervisedDataset(X=X, Y=Y, feature_names=names, outcome_names=["y"])
    digest = SearchSpaceDigest(
        feature_names=names,
        bounds=[(0, 3)] * 4,
        categorical_features=list(range(4)),
        discrete_choices={i: [0, 1, 2, 3] for i in range(4)},
    )
    config = TorchOptConfig(objective_weights=torch.tensor([[1.0]], dtype=torch.double))
    smoke = {"config": "smoke", "config_overrides": {"surrogate_epochs": 1, "diffusion_epochs": 1}}
    first = DEMOGenerator(**smoke, batch_size=4, checkpoint_dir=str(tmp_path))
    first.fit([dataset], digest)
    first.gen(4, digest, config)
    (path,) = [p for p in tmp_path.glob("demo-*.pt") if not p.name.endswith(".targets.pt")]
    if corrupt == "weights":
        path.write_bytes(_flip_weight_bytes(path.read_bytes(), first._model))
        fragment = f"{path}: the checkpoint's content does not match its hash"
    else:
        scores = path.with_name(path.stem + ".targets.pt")
        scores.write_bytes(np.random.default_rng(1).bytes(512))
        fragment = f"{scores} is not a DEMO checkpoint's scores file"
    second = DEMOGenerator(**smoke, batch_size=4, checkpoint_dir=str(tmp_path))
    second.fit([dataset], digest)
    with pytest.raises(CheckpointError, match=_re(fragment)) as info:
        second.gen(4, digest, config)
    assert "weights_only" not in str(info.value)


# ------------------------------------------------------------------ helpers
def _re(text: str) -> str:
    return re.escape(text)
