"""Bad input to fit, generate and predict: every error names the problem.

Each case names the exception type and a fragment of its message, or checks the
documented result.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from botorch.exceptions import InputDataError
from botorch.exceptions.warnings import InputDataWarning

from botorch_demo import DEMO
from botorch_demo.validation import validate_training_data

NAN, INF = math.nan, math.inf


# ------------------------------------------------------------------------ fit
@pytest.fixture(scope="module")
def small_data(make_continuous) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """20 continuous designs in ``[-2, 3]^3``."""
    return make_continuous(n=20)


def _with(t: torch.Tensor, index: Any, value: float) -> torch.Tensor:
    out = t.clone()
    out[index] = value
    return out


# case: (error, message pattern, the arguments of fit it changes from (X, Y, bounds))
FIT_DATA_CASES: dict[str, tuple[type, str, Any]] = {
    "nan X": (
        InputDataError,
        "train_X contains NaN",
        lambda X, Y, b: dict(X=_with(X, (3, 1), NAN)),
    ),
    "inf Y": (
        InputDataError,
        "train_Y contains NaN or infinite",
        lambda X, Y, b: dict(Y=_with(Y, 0, INF)),
    ),
    "row counts": (
        InputDataError,
        "train_X has 20 rows but train_Y has 19",
        lambda X, Y, b: dict(Y=Y[:19]),
    ),
    "1-d Y": (InputDataError, "n x 1", lambda X, Y, b: dict(Y=Y.squeeze(-1))),
    "1-d X": (InputDataError, "n x d", lambda X, Y, b: dict(X=X[0])),
    "bounds shape": (ValueError, "bounds must have shape", lambda X, Y, b: dict(bounds=b[:, :2])),
    "bounds order": (
        ValueError,
        "lower < upper.*columns \\[2\\]",
        lambda X, Y, b: dict(bounds=_with(b, (0, 2), 5.0)),
    ),
    "one point": (
        InputDataError,
        "at least 2 training points",
        lambda X, Y, b: dict(X=X[:1], Y=Y[:1]),
    ),
    "outside bounds": (InputDataError, "outside bounds in columns", lambda X, Y, b: dict(X=X * 10)),
    "integer X": (InputDataError, "floating-point", lambda X, Y, b: dict(X=X.long())),
    "ndarray X": (InputDataError, "torch.Tensor", lambda X, Y, b: dict(X=X.numpy())),
}


@pytest.mark.parametrize("case", list(FIT_DATA_CASES))
def test_fit_names_the_problem_with_the_data(case: str, small_data, smoke_config) -> None:
    X, Y, bounds = small_data
    exc, msg, change = FIT_DATA_CASES[case]
    args = {"X": X, "Y": Y, "bounds": bounds, **change(X, Y, bounds)}
    with pytest.raises(exc, match=msg):
        DEMO(smoke_config).fit(args["X"], args["Y"], args["bounds"], None)


@pytest.fixture(scope="module")
def small_mixed(make_mixed) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[int, int]]:
    """30 designs of :func:`mixed_data`."""
    return make_mixed(n=30)


def _invalid_category(X: torch.Tensor) -> torch.Tensor:
    """``X`` with category 7 (of 4) in column 0 of row 4."""
    return _with(X, (4, 0), 7.0)


# case: (error, message pattern, whether X holds an invalid category, the
# categorical features, None for those of the data)
CATEGORICAL_CASES: dict[str, tuple[type, str, bool, dict[int, int] | None]] = {
    "invalid category": (
        InputDataError,
        "train_X\\[:, 0\\] must hold integer categories 0..3",
        True,
        None,
    ),
    "column out of range": (ValueError, "column 5", False, {5: 4}),
    "one category": (ValueError, ">= 2 categories", False, {0: 1}),
    "continuous bounds": (ValueError, "bounds of categorical column 1", False, {0: 4, 1: 4}),
}


@pytest.mark.parametrize("case", list(CATEGORICAL_CASES))
def test_fit_names_the_problem_with_categorical_data(case: str, small_mixed, smoke_config) -> None:
    X, Y, bounds, cats = small_mixed
    exc, msg, invalid, features = CATEGORICAL_CASES[case]
    train_X = _invalid_category(X) if invalid else X
    with pytest.raises(exc, match=msg):
        DEMO(smoke_config).fit(train_X, Y, bounds, cats if features is None else features)


def test_generate_names_an_invalid_category_in_exclude(small_mixed, smoke_config) -> None:
    X, Y, bounds, cats = small_mixed
    model = DEMO(smoke_config).fit(X, Y, bounds, cats)
    with pytest.raises(InputDataError, match="exclude\\[:, 0\\]"):
        model.generate(2, exclude=_invalid_category(X))


@pytest.fixture(scope="module")
def small_model(small_data, smoke_config) -> DEMO:
    """``DEMO(SMOKE)`` fitted on the 20 designs of ``small_data`` (read-only)."""
    X, Y, bounds = small_data
    return DEMO(smoke_config).fit(X, Y, bounds, None)


@pytest.mark.parametrize(
    ("q", "msg"), [(0, "positive int"), (2.5, "positive int"), (21, "exceeds the 20 distinct")]
)
def test_q_must_be_a_positive_int_within_the_designs(q: Any, msg: str, small_model: DEMO) -> None:
    with pytest.raises(ValueError, match=msg):
        small_model.generate(q)


def test_constant_y_warns_and_still_works(small_data, smoke_config) -> None:
    X, Y, bounds = small_data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = DEMO(smoke_config).fit(X, torch.ones_like(Y), bounds, None)
    assert any(issubclass(w.category, InputDataWarning) for w in caught)
    cands, pred = model.generate(5, seed=0)
    assert torch.isfinite(cands).all() and torch.isfinite(pred).all()
    assert cands.shape == (5, 3)


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
def test_fit_rejects_before_training(
    kwargs: dict, error: type, fragment: str, tiny_config, make_quadratic
) -> None:
    X, Y, bounds = make_quadratic()
    args: dict[str, Any] = {"train_X": X, "train_Y": Y, "bounds": bounds, **kwargs}
    model = DEMO(tiny_config)
    with pytest.raises(error, match=re.escape(fragment)):
        model.fit(**args)
    assert not model.is_fitted


def test_integer_like_categorical_keys_are_accepted(make_quadratic) -> None:
    X, Y, bounds = make_quadratic()
    X[:, 0] = (X[:, 0] * 4).floor().clamp(max=3)
    bounds[1, 0] = 3.0
    cats = validate_training_data(X, Y, bounds, {np.int64(0): np.int64(4)})
    assert cats == {0: 4} and all(type(k) is int and type(v) is int for k, v in cats.items())


@pytest.mark.parametrize("scale", [1.0, 1e160, 1e300, 1e-200])
def test_y_scale_is_standardised_without_overflow(
    scale: float, tiny_config, make_quadratic
) -> None:
    X, Y, bounds = make_quadratic()
    model = DEMO(tiny_config).fit(X, Y * scale, bounds, seed=0)
    pred = model.predict(X[:8])
    assert torch.isfinite(pred).all()
    assert torch.isfinite(model.y_std) and model.y_std > 0
    # Predictions are in the units of Y: same order of magnitude as the data.
    assert (pred.abs().max() / (Y.abs().max() * scale)).item() < 10


def test_unrepresentable_y_range_is_an_error(tiny_config, make_quadratic) -> None:
    X, _, bounds = make_quadratic()
    # y - mean overflows for the one high score: no float64 standardisation exists.
    Y = torch.full((X.shape[0], 1), -1.7e308, dtype=torch.float64)
    Y[0] = 1.7e308
    with pytest.raises(InputDataError, match="cannot be standardised"):
        DEMO(tiny_config).fit(X, Y, bounds, seed=0)


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
def test_generate_rejects(quadratic_model: DEMO, kwargs: dict, error: type, fragment: str) -> None:
    kwargs = {"q": 4, **kwargs}
    with pytest.raises(error, match=re.escape(fragment)):
        quadratic_model.generate(**kwargs)


def test_generate_accepts_integer_like_seed(quadratic_model: DEMO) -> None:
    a = quadratic_model.generate(4, seed=np.int64(3))[0]
    b = quadratic_model.generate(4, seed=3)[0]
    assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool])
def test_predict_on_integer_tensors_uses_the_training_dtype(
    quadratic_model: DEMO, dtype: torch.dtype
) -> None:
    X = torch.tensor([[0, 1, 0], [1, 1, 1]]).to(dtype)
    pred = quadratic_model.predict(X)
    assert pred.dtype == torch.float64
    torch.testing.assert_close(pred, quadratic_model.predict(X.double()))


@pytest.mark.parametrize(
    ("X", "error", "fragment"),
    [
        (torch.ones(2, 3, dtype=torch.complex64), InputDataError, "real tensor"),
        (torch.full((2, 3), NAN), InputDataError, "NaN or infinite"),
        (np.ones((2, 3)), InputDataError, "got ndarray"),
    ],
)
def test_predict_rejects(quadratic_model: DEMO, X: Any, error: type, fragment: str) -> None:
    with pytest.raises(error, match=re.escape(fragment)):
        quadratic_model.predict(X)
