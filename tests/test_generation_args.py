"""Bad generation arguments: checked before any fit, with messages that name them.

``gen_candidates_demo`` checks ``q``, ``fixed_features``, ``integer_features``,
``inequality_constraints``, ``exclude``, ``unique`` and ``seed`` before it
fits; ``DEMO.generate`` checks the same arguments on a fitted model.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from botorch.exceptions import InputDataError
from conftest import TINY, mixed_data, quadratic_data

from botorch_demo import DEMO, gen_candidates_demo
from botorch_demo.constraints import feasibility_map

X, Y, BOUNDS = quadratic_data(n=24, d=3)
GOOD_CONSTRAINT = (torch.tensor([0, 1]), torch.tensor([1.0, 1.0]), 0.5)

# case: (keyword arguments, error, a fragment of the message)
BAD_GENERATION: dict[str, tuple[dict[str, Any], type, str]] = {
    "float key": ({"fixed_features": {0.7: 0.5}}, InputDataError, "fixed_features key 0.7"),
    "bool key": ({"fixed_features": {True: 0.5}}, InputDataError, "fixed_features key True"),
    "string key": ({"fixed_features": {"a": 0.5}}, InputDataError, "fixed_features key 'a'"),
    "key out of range": ({"fixed_features": {3: 0.5}}, InputDataError, "0..2"),
    "negative key": ({"fixed_features": {-1: 0.5}}, InputDataError, "fixed_features key -1"),
    "list instead of dict": ({"fixed_features": [0.5]}, InputDataError, "fixed_features must"),
    "None value": ({"fixed_features": {0: None}}, InputDataError, "fixed_features[0]"),
    "string value": ({"fixed_features": {0: "0.5"}}, InputDataError, "fixed_features[0]"),
    "NaN value": ({"fixed_features": {0: math.nan}}, InputDataError, "fixed_features[0]"),
    "value outside": ({"fixed_features": {1: 2.0}}, InputDataError, "fixed_features[1]"),
    "fixed non-integer on an integer column": (
        {"fixed_features": {0: 0.5}, "integer_features": [0]},
        InputDataError,
        "conflicts with integer_features",
    ),
    "integer feature 0.5": ({"integer_features": [0.5]}, InputDataError, "integer_features[0]"),
    "integer feature True": ({"integer_features": [True]}, InputDataError, "integer_features[0]"),
    "integer feature '0'": ({"integer_features": ["0"]}, InputDataError, "integer_features[0]"),
    "integer features 5": ({"integer_features": 5}, InputDataError, "integer_features"),
    "integer features a string": ({"integer_features": "01"}, InputDataError, "integer_features"),
    "integer feature out of range": ({"integer_features": [7]}, InputDataError, "0..2"),
    "integer feature twice": ({"integer_features": [1, 1]}, InputDataError, "more than once"),
    "constraint index 0.5": (
        {"inequality_constraints": [(torch.tensor([0.5, 1.7]), torch.ones(2), 0.0)]},
        InputDataError,
        "inequality_constraints[0] indices",
    ),
    "constraint index duplicate": (
        {"inequality_constraints": [(torch.tensor([1, 1]), torch.ones(2), 0.0)]},
        InputDataError,
        "more than once",
    ),
    "constraint index out of range": (
        {"inequality_constraints": [(torch.tensor([0, 3]), torch.ones(2), 0.0)]},
        InputDataError,
        "inequality_constraints[0] indices[1]",
    ),
    "constraint NaN coefficient": (
        {"inequality_constraints": [(torch.tensor([0, 1]), torch.tensor([math.nan, 1.0]), 0.0)]},
        InputDataError,
        "inequality_constraints[0]: coefficients must be finite",
    ),
    "constraint NaN rhs": (
        {"inequality_constraints": [(torch.tensor([0, 1]), torch.ones(2), math.nan)]},
        InputDataError,
        "inequality_constraints[0] rhs",
    ),
    "constraint None rhs": (
        {"inequality_constraints": [(torch.tensor([0, 1]), torch.ones(2), None)]},
        InputDataError,
        "inequality_constraints[0] rhs",
    ),
    "constraint string coefficients": (
        {"inequality_constraints": [(torch.tensor([0, 1]), "ab", 0.0)]},
        InputDataError,
        "inequality_constraints[0]: coefficients",
    ),
    "constraint None indices": (
        {"inequality_constraints": [(None, torch.ones(2), 0.0)]},
        InputDataError,
        "inequality_constraints[0] indices",
    ),
    "constraint of two parts": (
        {"inequality_constraints": [(torch.tensor([0]), torch.ones(1))]},
        InputDataError,
        "inequality_constraints[0] must be",
    ),
    "constraint lengths differ": (
        {"inequality_constraints": [(torch.tensor([0, 1]), torch.ones(3), 0.0)]},
        InputDataError,
        "same length",
    ),
    "constraints not a list": (
        {"inequality_constraints": GOOD_CONSTRAINT[0]},
        InputDataError,
        "inequality_constraints must be",
    ),
    "q = 0": ({"q": 0}, ValueError, "q must be"),
    "q = 2.5": ({"q": 2.5}, ValueError, "q must be"),
    "q = True": ({"q": True}, ValueError, "q must be"),
    "unique = 'yes'": ({"unique": "yes"}, TypeError, "unique"),
    "exclude of the wrong width": ({"exclude": torch.zeros(2, 5)}, InputDataError, "exclude"),
    "exclude with NaN": (
        {"exclude": torch.full((1, 3), math.nan, dtype=torch.float64)},
        InputDataError,
        "exclude",
    ),
    "seed = 2.5": ({"seed": 2.5}, TypeError, "seed"),
}


@pytest.mark.parametrize("case", sorted(BAD_GENERATION))
def test_gen_candidates_demo_checks_every_argument_before_fitting(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each bad argument fails before ``DEMO.fit`` is called."""
    kwargs, error, fragment = BAD_GENERATION[case]
    kwargs = {"q": 2, **kwargs}

    def no_fit(*args: Any, **kw: Any) -> None:
        raise AssertionError("fit started before the arguments were checked")

    monkeypatch.setattr(DEMO, "fit", no_fit)
    q = kwargs.pop("q")
    with pytest.raises(error) as info:
        gen_candidates_demo(X, Y, BOUNDS, q, config=TINY, **kwargs)
    assert fragment in str(info.value)


@pytest.fixture(scope="module")
def fitted() -> DEMO:
    return DEMO(TINY).fit(X, Y, BOUNDS, seed=0)


@pytest.mark.parametrize("case", sorted(BAD_GENERATION))
def test_generate_rejects_the_same_arguments(case: str, fitted: DEMO) -> None:
    kwargs, error, fragment = BAD_GENERATION[case]
    kwargs = {"q": 2, **kwargs}
    with pytest.raises(error) as info:
        fitted.generate(**kwargs)
    assert fragment in str(info.value)


def test_an_integer_valued_float_index_tensor_is_accepted() -> None:
    """``torch.tensor([0., 1.])`` names columns 0 and 1, as in BoTorch."""
    repair = feasibility_map(
        BOUNDS, inequality_constraints=[(torch.tensor([0.0, 1.0]), torch.ones(2), 1.5)]
    )
    Z = repair(torch.zeros(1, 3, dtype=torch.float64))
    assert float(Z[0, :2].sum()) >= 1.5 - 1e-8


def test_a_categorical_column_fixed_to_a_non_category_names_fixed_features() -> None:
    _, _, bounds, cats = mixed_data(n=10)
    with pytest.raises(InputDataError, match=r"fixed_features\[2\] = 1.5 is not a category"):
        feasibility_map(bounds, cats, fixed_features={2: 1.5})


def test_a_fixed_integer_column_keeps_its_integer_value() -> None:
    repair = feasibility_map(BOUNDS * 4, fixed_features={0: 2.0}, integer_features=[0, 1])
    Z = repair(torch.full((2, 3), 1.3, dtype=torch.float64))
    assert Z[:, 0].tolist() == [2.0, 2.0] and Z[:, 1].tolist() == [1.0, 1.0]


# case: (train_X, train_Y, bounds, a fragment of the message); all InputDataError or ValueError
BAD_FIT_DATA: dict[str, tuple[Any, Any, Any, type, str]] = {
    "no columns": (
        torch.zeros(4, 0, dtype=torch.float64),
        Y[:4],
        torch.zeros(2, 0, dtype=torch.float64),
        InputDataError,
        "at least one column",
    ),
    "meta train_X": (X.to("meta"), Y, BOUNDS, InputDataError, "train_X is a meta tensor"),
    "sparse train_X": (X.to_sparse(), Y, BOUNDS, InputDataError, "train_X must be a dense"),
    "sparse bounds": (X, Y, BOUNDS.to_sparse(), InputDataError, "bounds must be a dense"),
    "bounds of +-1e308": (
        X,
        Y,
        torch.tensor([[-1e308] * 3, [1e308] * 3], dtype=torch.float64),
        ValueError,
        "too wide",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FIT_DATA))
def test_fit_refuses_unusable_tensors_naming_them(case: str) -> None:
    train_X, train_Y, bounds, error, fragment = BAD_FIT_DATA[case]
    with pytest.raises(error, match=fragment):
        DEMO(TINY).fit(train_X, train_Y, bounds)
