"""A fuzz of bad and edge inputs across the public boundaries.

Each case calls one boundary with one bad (or edge) input and states what must
happen: an exception of a documented type whose message names the argument (or
the file), or the documented result. The cases are generated from small tables
of bad values crossed with the arguments they go to; ``BOUNDARY_COUNTS`` holds
how many cases each boundary gets.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from ax.exceptions.core import UserInputError
from botorch.exceptions import InputDataError
from conftest import TINY, quadratic_data

from botorch_demo import DEMO, DEMOConfig, gen_candidates_demo
from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.cli import main
from botorch_demo.exceptions import CheckpointError
from botorch_demo.tasks import load_task

NAN, INF = math.nan, math.inf
X, Y, BOUNDS = quadratic_data(n=24, d=3)


@dataclasses.dataclass(frozen=True)
class Case:
    """One input: ``call(ctx)`` must raise one of ``errors`` with ``fragment``
    in its message; with ``errors=()`` it must return, and ``check`` (if any)
    must accept the result."""

    id: str
    call: Callable[[dict[str, Any]], Any]
    errors: tuple[type[BaseException], ...] = ()
    fragment: str = ""
    check: Callable[[Any], bool] | None = None


def _bytes(n: int, seed: int = 0) -> bytes:
    """``n`` reproducible random bytes."""
    return np.random.default_rng(seed).bytes(n)


def _replace(t: torch.Tensor, index: Any, value: float) -> torch.Tensor:
    out = t.clone()
    out[index] = value
    return out


# ------------------------------------------------------------------ DEMOConfig
_BAD_BY_KIND: dict[str, list[Any]] = {
    "int": [2.5, "3", True, None, 10**30, NAN],
    "float": [NAN, INF, "0.1", True, None],
    "bool": ["yes", 1, None],
    "str": [1, "nope", None],
}


def _config_cases() -> list[Case]:
    cases = []
    defaults = DEMOConfig()
    for field in dataclasses.fields(DEMOConfig):
        value = getattr(defaults, field.name)
        kind = type(value).__name__
        allows_none = "None" in str(field.type)
        for bad in _BAD_BY_KIND.get(kind, []):
            if bad is None and allows_none:
                continue
            cases.append(
                Case(
                    f"DEMOConfig.{field.name}={bad!r}",
                    lambda ctx, n=field.name, v=bad: DEMOConfig(**{n: v}),
                    (TypeError, ValueError),
                    field.name,
                )
            )
    for data in (None, [], "fast", 3, {1: 2}, {"nope": 1}, {"m": "4"}):
        cases.append(
            Case(
                f"DEMOConfig.from_dict({data!r})",
                lambda ctx, d=data: DEMOConfig.from_dict(d),
                (TypeError, ValueError),
                "DEMOConfig",
            )
        )
    for name in ("turbo", "", None, 3):
        cases.append(
            Case(
                f"DEMOConfig.preset({name!r})",
                lambda ctx, n=name: DEMOConfig.preset(n),
                (ValueError,),
                "preset",
            )
        )
    return cases


# ------------------------------------------------------------------- DEMO.fit
def _fit_cases() -> list[Case]:
    def fit(ctx: dict, X=X, Y=Y, bounds=BOUNDS, cats=None, seed=0) -> DEMO:
        return DEMO(TINY).fit(X, Y, bounds, cats, seed=seed)

    data = {
        "X a list": (dict(X=X.tolist()), InputDataError, "train_X"),
        "X numpy": (dict(X=X.numpy()), InputDataError, "train_X"),
        "X int": (dict(X=X.long()), InputDataError, "train_X"),
        "X complex": (dict(X=X.to(torch.complex128)), InputDataError, "train_X"),
        "X 1-d": (dict(X=X[:, 0]), InputDataError, "train_X"),
        "X 3-d": (dict(X=X.unsqueeze(0)), InputDataError, "train_X"),
        "X one row": (dict(X=X[:1], Y=Y[:1]), InputDataError, "at least 2"),
        "X no rows": (dict(X=X[:0], Y=Y[:0]), InputDataError, "at least 2"),
        "X meta": (dict(X=X.to("meta")), InputDataError, "train_X"),
        "X sparse": (dict(X=X.to_sparse()), InputDataError, "train_X"),
        "Y 1-d": (dict(Y=Y[:, 0]), InputDataError, "train_Y"),
        "Y two columns": (dict(Y=Y.expand(-1, 2)), InputDataError, "train_Y"),
        "Y short": (dict(Y=Y[:-1]), InputDataError, "train_Y"),
        "Y bool": (dict(Y=Y > 0), InputDataError, "train_Y"),
        "Y sparse": (dict(Y=Y.to_sparse()), InputDataError, "train_Y"),
        "bounds 3 x d": (dict(bounds=torch.cat([BOUNDS, BOUNDS[:1]])), ValueError, "bounds"),
        "bounds 2 x (d+1)": (
            dict(bounds=torch.ones(2, 4, dtype=torch.double)),
            ValueError,
            "bounds",
        ),
        "bounds swapped": (dict(bounds=BOUNDS.flip(0)), ValueError, "bounds"),
        "bounds equal": (dict(bounds=torch.zeros(2, 3, dtype=torch.double)), ValueError, "bounds"),
        "bounds a list": (dict(bounds=BOUNDS.tolist()), InputDataError, "bounds"),
        "bounds 1e308": (
            dict(bounds=torch.tensor([[-1e308] * 3, [1e308] * 3], dtype=torch.double)),
            ValueError,
            "bounds",
        ),
        "X outside bounds": (dict(X=_replace(X, (0, 1), 5.0)), InputDataError, "outside bounds"),
        "X below bounds": (dict(X=_replace(X, (3, 0), -1.0)), InputDataError, "outside bounds"),
        "cats a list": (dict(cats=[0]), ValueError, "categorical_features"),
        "cats float key": (dict(cats={0.0: 2}), ValueError, "categorical_features"),
        "cats bool key": (dict(cats={True: 2}), ValueError, "categorical_features"),
        "cats key 3": (dict(cats={3: 2}), ValueError, "categorical_features"),
        "cats count 1": (dict(cats={0: 1}), ValueError, "categorical_features"),
        "cats count 2.5": (dict(cats={0: 2.5}), ValueError, "categorical_features"),
        "cats count '2'": (dict(cats={0: "2"}), ValueError, "categorical_features"),
        "seed 2.5": (dict(seed=2.5), TypeError, "seed"),
        "seed '1'": (dict(seed="1"), TypeError, "seed"),
        "seed True": (dict(seed=True), TypeError, "seed"),
        "seed -1": (dict(seed=-1), ValueError, "seed"),
        "seed 2**63": (dict(seed=2**63), ValueError, "seed"),
    }
    for where in ("X", "Y", "bounds"):
        for value in (NAN, INF, -INF):
            t = {"X": X, "Y": Y, "bounds": BOUNDS}[where]
            key = "X" if where == "X" else where
            data[f"{where} holds {value}"] = (
                {key: _replace(t, (1, 0), value)},
                ValueError if where == "bounds" else InputDataError,
                "bounds" if where == "bounds" else f"train_{where}",
            )
    return [
        Case(f"fit: {name}", lambda ctx, kw=kw: fit(ctx, **kw), (err,), fragment)
        for name, (kw, err, fragment) in data.items()
    ]


# --------------------------------------------------------------- DEMO.generate
_BAD_INDICES: dict[str, Any] = {
    "0.7": 0.7,
    "True": True,
    "'0'": "0",
    "None": None,
    "-1": -1,
    "3": 3,
    "10**20": 10**20,
    "(0,)": (0,),
    "tensor(0.5)": torch.tensor(0.5),
}
_BAD_VALUES: dict[str, Any] = {
    "NaN": NAN,
    "inf": INF,
    "'0.5'": "0.5",
    "None": None,
    "True": True,
    "1+1j": 1 + 1j,
    "[0.5]": [0.5],
    "2.0 (outside)": 2.0,
    "-0.1 (outside)": -0.1,
}


def _generate_arg_cases() -> list[dict[str, Any]]:
    """``(id, kwargs, error, fragment)`` of bad generation arguments."""
    out = []
    for name, key in _BAD_INDICES.items():
        out.append(
            (f"fixed key {name}", {"fixed_features": {key: 0.5}}, InputDataError, "fixed_features")
        )
        out.append(
            (
                f"integer feature {name}",
                {"integer_features": [key]},
                InputDataError,
                "integer_features",
            )
        )
        out.append(
            (
                f"constraint index {name}",
                {"inequality_constraints": [([key], [1.0], 0.0)]},
                InputDataError,
                "inequality_constraints[0]",
            )
        )
    for name, value in _BAD_VALUES.items():
        out.append(
            (
                f"fixed value {name}",
                {"fixed_features": {0: value}},
                InputDataError,
                "fixed_features[0]",
            )
        )
        if "outside" in name:
            continue  # Any finite rhs or coefficient is valid.
        out.append(
            (
                f"constraint rhs {name}",
                {"inequality_constraints": [([0], [1.0], value)]},
                InputDataError,
                "inequality_constraints[0]",
            )
        )
        out.append(
            (
                f"constraint coefficient {name}",
                {"inequality_constraints": [([0], [value], 0.0)]},
                InputDataError,
                "inequality_constraints[0]",
            )
        )
    for name, value in {
        "2.5": 2.5,
        "0": 0,
        "-3": -3,
        "'2'": "2",
        "None": None,
        "True": True,
    }.items():
        out.append((f"q {name}", {"q": value}, ValueError, "q"))
    for name, value in {"2.5": 2.5, "'1'": "1", "True": True, "-1": -1}.items():
        out.append((f"seed {name}", {"seed": value}, (TypeError, ValueError), "seed"))
    for name, value in {"1": 1, "'yes'": "yes", "None": None}.items():
        out.append((f"unique {name}", {"unique": value}, TypeError, "unique"))
    for name, value in {
        "a list": [[0.1, 0.2, 0.3]],
        "1-d": torch.zeros(3, dtype=torch.double),
        "width 2": torch.zeros(1, 2, dtype=torch.double),
        "complex": torch.zeros(1, 3, dtype=torch.complex128),
        "NaN": torch.full((1, 3), NAN, dtype=torch.double),
        "sparse": torch.zeros(1, 3, dtype=torch.double).to_sparse(),
    }.items():
        out.append((f"exclude {name}", {"exclude": value}, InputDataError, "exclude"))
    for name, value in {
        "a tuple": (torch.tensor([0]), torch.ones(1), 0.0),
        "a dict": {"a": 1},
        "a string": "x0 >= 0",
        "a tensor": torch.ones(3),
    }.items():
        out.append(
            (
                f"constraints {name}",
                {"inequality_constraints": value},
                InputDataError,
                "inequality_constraints",
            )
        )
    for name, value in {
        "5": 5,
        "'01'": "01",
        "{0: 1}": {0: 1},
        "2-d": torch.zeros(1, 1).long(),
    }.items():
        out.append(
            (
                f"integer features {name}",
                {"integer_features": value},
                InputDataError,
                "integer_features",
            )
        )
    for name, value in {"[0.5]": [0.5], "'0:0.5'": "0:0.5", "0.5": 0.5}.items():
        out.append(
            (f"fixed features {name}", {"fixed_features": value}, InputDataError, "fixed_features")
        )
    return out


@pytest.fixture(scope="module")
def fitted() -> DEMO:
    return DEMO(TINY).fit(X, Y, BOUNDS, seed=0)


def _generate_cases() -> list[Case]:
    cases = []
    for name, kwargs, err, fragment in _generate_arg_cases():
        errors = err if isinstance(err, tuple) else (err,)
        kw = {"q": 2, **kwargs}
        cases.append(
            Case(
                f"generate: {name}",
                lambda ctx, kw=kw: ctx["fitted"].generate(**kw),
                errors,
                fragment,
            )
        )
    cases += [
        Case(
            "generate: max_rounds -1",
            lambda ctx: ctx["fitted"].generate(2, max_rounds=-1),
            (ValueError,),
            "max_rounds",
        ),
        Case(
            "generate: max_rounds 2.5",
            lambda ctx: ctx["fitted"].generate(2, max_rounds=2.5),
            (TypeError,),
            "max_rounds",
        ),
        Case(
            "generate: unknown override",
            lambda ctx: ctx["fitted"].generate(2, nope=1),
            (ValueError,),
            "nope",
        ),
        Case(
            "generate: override m=-1",
            lambda ctx: ctx["fitted"].generate(2, m=-1),
            (ValueError,),
            "m",
        ),
        Case(
            "generate: q above the data",
            lambda ctx: ctx["fitted"].generate(25),
            (ValueError,),
            "q=25",
        ),
        Case(
            "predict: a list",
            lambda ctx: ctx["fitted"].predict([[0.1] * 3]),
            (InputDataError,),
            "X",
        ),
        Case(
            "predict: width 4",
            lambda ctx: ctx["fitted"].predict(torch.zeros(1, 4)),
            (InputDataError,),
            "X",
        ),
        Case(
            "predict: no rows (documented: 0 x 1)",
            lambda ctx: ctx["fitted"].predict(torch.zeros(0, 3, dtype=torch.double)),
            check=lambda out: tuple(out.shape) == (0, 1),
        ),
        Case(
            "generate: integer-valued float index tensor accepted",
            lambda ctx: ctx["fitted"].generate(
                2, seed=0, inequality_constraints=[(torch.tensor([0.0, 1.0]), torch.ones(2), 0.2)]
            ),
            check=lambda out: bool((out[0][:, 0] + out[0][:, 1] >= 0.2 - 1e-6).all()),
        ),
        Case(
            "generate: fixed integer column keeps its value",
            lambda ctx: ctx["fitted"].generate(
                2, seed=0, fixed_features={0: 1.0}, integer_features=[0, 1]
            ),
            check=lambda out: (
                out[0][:, 0].tolist() == [1.0, 1.0]
                and bool((out[0][:, 1] == out[0][:, 1].round()).all())
            ),
        ),
    ]
    return cases


# ------------------------------------------------------------ save and load
def _checkpoint_cases() -> list[Case]:
    def load_bytes(data: bytes, ctx: dict, **kw: Any) -> DEMO:
        path = ctx["tmp"] / "bad.pt"
        path.write_bytes(data)
        return DEMO.load(path, **kw)

    def load_object(obj: Any, ctx: dict) -> DEMO:
        path = ctx["tmp"] / "obj.pt"
        torch.save(obj, path)
        return DEMO.load(path)

    def load_good(ctx: dict, **kw: Any) -> DEMO:
        path = ctx["tmp"] / "good.pt"
        ctx["fitted"].save(path)
        return DEMO.load(path, **kw)

    cases = [
        Case(f"load: {name}", lambda ctx, d=data: load_bytes(d, ctx), (CheckpointError,), "bad.pt")
        for name, data in {
            "empty": b"",
            **{f"random bytes {seed}": _bytes(512, seed) for seed in range(12)},
            "text": b"hello",
            "a zip header": b"PK\x03\x04" + b"\0" * 40,
            "npy bytes": b"\x93NUMPY\x01\x00" + b"\0" * 40,
        }.items()
    ]
    cases += [
        Case(
            f"load: torch.save of {name}",
            lambda ctx, o=obj: load_object(o, ctx),
            (CheckpointError,),
            "obj.pt",
        )
        for name, obj in {
            "a list": [1, 2],
            "a tensor": torch.ones(2),
            "an empty dict": {},
            "a dict without weights": {"format_version": 1},
            "a string": "DEMO",
        }.items()
    ]
    cases += [
        Case(
            "load: missing file",
            lambda ctx: DEMO.load(ctx["tmp"] / "none.pt"),
            (FileNotFoundError,),
            "none.pt",
        ),
        Case(
            "load: a folder",
            lambda ctx: DEMO.load(ctx["tmp"]),
            (FileNotFoundError,),
            "checkpoint",
        ),
        Case(
            "load: map_location 'bogus'",
            lambda ctx: load_good(ctx, map_location="bogus"),
            (ValueError,),
            "map_location",
        ),
        Case(
            "load: map_location 3.5",
            lambda ctx: load_good(ctx, map_location=3.5),
            (ValueError,),
            "map_location",
        ),
        Case(
            "load: map_location 'cpu' (documented: loads)",
            lambda ctx: load_good(ctx, map_location="cpu"),
            check=lambda model: model.is_fitted,
        ),
        Case("save: ''", lambda ctx: ctx["fitted"].save(""), (ValueError,), "names no file"),
        Case("save: '.'", lambda ctx: ctx["fitted"].save("."), (ValueError,), "names no file"),
        Case(
            "save: 'dir/'",
            lambda ctx: ctx["fitted"].save(str(ctx["tmp"]) + "/"),
            (ValueError,),
            "names no file",
        ),
        Case(
            "save: an existing folder",
            lambda ctx: ctx["fitted"].save(ctx["tmp"]),
            (OSError,),
            "Is a directory",
        ),
        Case(
            "save: unfitted",
            lambda ctx: DEMO(TINY).save(ctx["tmp"] / "u.pt"),
            (RuntimeError, ValueError),
            "fit",
        ),
    ]
    return cases


# ------------------------------------------------------ gen_candidates_demo
def _functional_cases() -> list[Case]:
    cases = []
    for name, kwargs, err, fragment in _generate_arg_cases()[::2]:
        errors = err if isinstance(err, tuple) else (err,)
        kw = {"q": 2, **kwargs}
        cases.append(
            Case(
                f"gen_candidates_demo: {name}",
                lambda ctx, kw=kw: gen_candidates_demo(X, Y, BOUNDS, config=TINY, **kw),
                errors,
                fragment,
            )
        )
    cases += [
        Case(
            "gen_candidates_demo: config a dict",
            lambda ctx: gen_candidates_demo(X, Y, BOUNDS, 2, config={"m": 5}),
            (TypeError,),
            "config",
        ),
        Case(
            "gen_candidates_demo: config a str",
            lambda ctx: gen_candidates_demo(X, Y, BOUNDS, 2, config="fast"),
            (TypeError,),
            "config",
        ),
        Case(
            "gen_candidates_demo: q above the data",
            lambda ctx: gen_candidates_demo(X, Y, BOUNDS, 30, config=TINY),
            (ValueError,),
            "q=30",
        ),
        Case(
            "gen_candidates_demo: X int",
            lambda ctx: gen_candidates_demo(X.long(), Y, BOUNDS, 2, config=TINY),
            (InputDataError,),
            "train_X",
        ),
        Case(
            "gen_candidates_demo: Y NaN",
            lambda ctx: gen_candidates_demo(X, _replace(Y, 0, NAN), BOUNDS, 2, config=TINY),
            (InputDataError,),
            "train_Y",
        ),
        Case(
            "gen_candidates_demo: bounds swapped",
            lambda ctx: gen_candidates_demo(X, Y, BOUNDS.flip(0), 2, config=TINY),
            (ValueError,),
            "bounds",
        ),
    ]
    return cases


# ----------------------------------------------------------------- load_task
def _task_cases() -> list[Case]:
    tokens = np.random.default_rng(0).integers(0, 4, (20, 8)).astype(np.int32)
    scores = np.random.default_rng(1).normal(size=(20, 1))

    def shards(ctx: dict, x: Any, y: Any, extra: dict[str, Any] | None = None) -> Path:
        folder = ctx["tmp"] / "design_bench_data" / "tf_bind_8-SIX6_REF_R1"
        folder.mkdir(parents=True)
        files = {"tf_bind_8-x-0.npy": x, "tf_bind_8-y-0.npy": y, **(extra or {})}
        for name, value in files.items():
            if isinstance(value, bytes):
                (folder / name).write_bytes(value)
            else:
                np.save(folder / name, value)
        return ctx["tmp"]

    def with_shards(x: Any, y: Any, extra: dict | None = None) -> Callable[[dict], Any]:
        return lambda ctx: load_task("tfbind8", data_dir=shards(ctx, x, y, extra))

    cases = [
        Case(
            f"load_task({name!r})", lambda ctx, n=name: load_task(n), (ValueError,), "Unknown task"
        )
        for name in ("", "nope", "tf bind8", "TFBind8-Exact-v1", "../tfbind8")
    ]
    cases += [
        # Documented: names are matched case-insensitively, surrounding spaces ignored.
        Case(
            f"load_task({name!r}) (documented: tfbind8)",
            lambda ctx, n=name: load_task(n),
            check=lambda task: task.name == "tfbind8",
        )
        for name in (" tfbind8", "TFBIND8\n")
    ]
    cases += [
        Case("load_task(None)", lambda ctx: load_task(None), (ValueError,), "Task name"),
        Case("load_task(8)", lambda ctx: load_task(8), (ValueError,), "Task name"),
        Case(
            "load_task: levy with data_dir",
            lambda ctx: load_task("levy", data_dir=ctx["tmp"]),
            (ValueError,),
            "data_dir",
        ),
        Case(
            "load_task: data_dir missing",
            lambda ctx: load_task("tfbind10", data_dir=ctx["tmp"] / "none"),
            (FileNotFoundError,),
            "data_dir",
        ),
        Case(
            "load_task: data_dir a file",
            lambda ctx: load_task("tfbind10", data_dir=ctx["file"]),
            (FileNotFoundError,),
            "data_dir",
        ),
    ]
    bad_shards = {
        "y float32 NaN": (tokens, np.where(np.arange(20)[:, None] == 4, np.nan, scores), "y-0.npy"),
        "y bool": (tokens, scores > 0, "y-0.npy"),
        "y strings": (tokens, np.array([["a"]] * 20), "y-0.npy"),
        "y complex": (tokens, scores.astype(np.complex128), "y-0.npy"),
        "y 0-d": (tokens, np.array(1.0), "y-0.npy"),
        "y empty": (tokens, scores[:0], "y-0.npy"),
        "y two columns": (tokens, np.hstack([scores, scores]), "y-0.npy"),
        "y short": (tokens, scores[:5], "y-0.npy"),
        "y random bytes": (tokens, _bytes(200), "y-0.npy"),
        "y truncated": (
            tokens,
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (20, 1), }"
            + b" " * 40
            + b"\n"
            + b"\0" * 16,
            "y-0.npy",
        ),
        "x floats": (tokens + 0.5, scores, "x-0.npy"),
        "x token 7": (np.where(tokens == 0, 7, tokens), scores, "x-0.npy"),
        "x token -1": (tokens - 1, scores, "x-0.npy"),
        "x 7 columns": (tokens[:, :7], scores, "x-0.npy"),
        "x 0-d": (np.array(2), scores, "x-0.npy"),
        "x empty": (tokens[:0], scores[:0], "x-0.npy"),
        "x random bytes": (_bytes(300), scores, "x-0.npy"),
        "x an npz": (b"PK\x03\x04" + _bytes(100), scores, "x-0.npy"),
    }
    for name, (x, y, file) in bad_shards.items():
        cases.append(Case(f"load_task shard: {name}", with_shards(x, y), (ValueError,), file))
    cases += [
        Case(
            "load_task shard: x-1 and x-01",
            with_shards(
                tokens,
                scores,
                {
                    "tf_bind_8-x-1.npy": tokens,
                    "tf_bind_8-y-1.npy": scores,
                    "tf_bind_8-x-01.npy": tokens,
                    "tf_bind_8-y-01.npy": scores,
                },
            ),
            (ValueError,),
            "tf_bind_8-x-01.npy",
        ),
        Case(
            "load_task shard: gap",
            with_shards(tokens, scores, {"tf_bind_8-x-2.npy": tokens, "tf_bind_8-y-2.npy": scores}),
            (ValueError,),
            "without gaps",
        ),
        Case(
            "load_task shard: missing y",
            with_shards(tokens, scores, {"tf_bind_8-x-1.npy": tokens}),
            (ValueError,),
            "tf_bind_8-y-1.npy",
        ),
        Case(
            "load_task shard: integer y (documented: float64)",
            with_shards(tokens, (scores * 10).astype(np.int64)),
            check=lambda task: task.train_Y.dtype == torch.float64,
        ),
    ]
    return cases


# ------------------------------------------------------- attach_offline_data
def _attach_cases() -> list[Case]:
    good = {"k": [1, 2], "x": [0.1, 0.2], "c": ["a", "b"], "y": [1.0, 2.0]}

    def frame(**changes: Any) -> pd.DataFrame:
        data = {**good, **changes}
        return pd.DataFrame({k: v for k, v in data.items() if v is not None})

    def attach(data: Any, **kw: Any) -> Callable[[dict], Any]:
        return lambda ctx: attach_offline_data(ctx["client"], data, **kw)

    table = {
        "k 2.5": (frame(k=[2.5, 1]), "k"),
        "k '1'": (frame(k=["1", 2]), "k"),
        "k 9 (outside)": (frame(k=[9, 1]), "k"),
        "k NaN": (frame(k=[NAN, 1]), "k"),
        "x 2.0 (outside)": (frame(x=[2.0, 0.1]), "x"),
        "x inf": (frame(x=[INF, 0.1]), "x"),
        "x None": (frame(x=[None, 0.1]), "x"),
        "c 'z'": (frame(c=["z", "a"]), "c"),
        "c 1": (frame(c=[1, "a"]), "c"),
        "y NaN": (frame(y=[NAN, 1.0]), "'y'"),
        "y inf": (frame(y=[INF, 1.0]), "'y'"),
        "y 'a'": (frame(y=["a", 1.0]), "'y'"),
        "y True": (frame(y=[True, 1.0]), "'y'"),
        "y complex": (frame(y=[1 + 1j, 1.0]), "'y'"),
        "missing x": (frame(x=None), "x"),
        "no metric": (frame(y=None), "metric"),
        "unknown column": (frame(z=[1, 2]), "z"),
        "no rows": (frame(k=[], x=[], c=[], y=[]), "no rows"),
    }
    cases = [Case(f"attach: {n}", attach(d), (UserInputError,), f) for n, (d, f) in table.items()]
    array = np.array([[1, 0.1, "a"], [2, 0.2, "b"]], dtype=object)
    cases += [
        Case("attach: array without scores", attach(array), (UserInputError,), "scores"),
        Case(
            "attach: scores ['a', 'b']",
            attach(array, scores=["a", "b"]),
            (UserInputError,),
            "scores",
        ),
        Case(
            "attach: scores bool", attach(array, scores=[True, False]), (UserInputError,), "scores"
        ),
        Case("attach: scores complex", attach(array, scores=[1j, 2j]), (UserInputError,), "scores"),
        Case("attach: scores short", attach(array, scores=[1.0]), (UserInputError,), "scores"),
        Case(
            "attach: array 2 columns",
            attach(array[:, :2], scores=[1.0, 2.0]),
            (UserInputError,),
            "columns",
        ),
        Case("attach: sem -1", attach(frame(), sem=-1.0), (UserInputError,), "sem"),
        Case("attach: sem NaN", attach(frame(), sem=NAN), (UserInputError,), "sem"),
        Case("attach: sem 'x'", attach(frame(), sem="x"), (UserInputError,), "sem"),
        Case(
            "attach: as_batch_trial 'yes'",
            attach(frame(), as_batch_trial="yes"),
            (UserInputError,),
            "as_batch_trial",
        ),
        Case(
            "attach: as_batch_trial 0",
            attach(frame(), as_batch_trial=0),
            (UserInputError,),
            "as_batch_trial",
        ),
        Case(
            "attach: frame with scores", attach(frame(), scores=[1, 2]), (UserInputError,), "scores"
        ),
        Case(
            "attach: target a dict",
            lambda ctx: attach_offline_data({}, frame()),
            (UserInputError,),
            "Client",
        ),
        Case(
            "attach: target None",
            lambda ctx: attach_offline_data(None, frame()),
            (UserInputError,),
            "Client",
        ),
        Case(
            "attach: as_batch_trial np.True_ (documented: a bool)",
            attach(frame(), as_batch_trial=np.True_),
            check=lambda indices: len(indices) >= 1,
        ),
    ]
    return cases


@pytest.fixture
def attach_client() -> Client:
    client = Client()
    client.configure_experiment(
        name="fuzz",
        parameters=[
            RangeParameterConfig(name="k", parameter_type="int", bounds=(0, 5)),
            RangeParameterConfig(name="x", parameter_type="float", bounds=(0, 1)),
            ChoiceParameterConfig(
                name="c", parameter_type="str", values=["a", "b"], is_ordered=False
            ),
        ],
    )
    client.configure_optimization(objective="y")
    return client


# ---------------------------------------------------- demo_generation_strategy
def _strategy_cases() -> list[Case]:
    bad_counts = {"2.5": 2.5, "True": True, "'4'": "4", "None": None, "-1": -1, "[4]": [4]}
    cases = []
    for argument in (
        "batch_size",
        "min_completed",
        "max_points",
        "online_batch_size",
        "initial_sobol_trials",
    ):
        for name, value in bad_counts.items():
            if value is None and argument in ("min_completed", "online_batch_size"):
                continue  # None means the default there
            if value == -1 and argument == "initial_sobol_trials":
                pass
            cases.append(
                Case(
                    f"strategy: {argument}={name}",
                    lambda ctx, a=argument, v=value: demo_generation_strategy(**{a: v}),
                    (UserInputError,),
                    argument,
                )
            )
    for name, value in {"2.5": 2.5, "'0'": "0", "True": True, "-1": -1, "2**64": 2**64}.items():
        cases.append(
            Case(
                f"strategy: seed={name}",
                lambda ctx, v=value: demo_generation_strategy(seed=v),
                (UserInputError,),
                "seed",
            )
        )
    for name, value in {
        "{'m': 2000}": {"m": 2000},
        "{'nope': 1}": {"nope": 1},
        "'m=5'": "m=5",
        "{'m': 'x'}": {"m": "x"},
    }.items():
        cases.append(
            Case(
                f"strategy: config_overrides={name}",
                lambda ctx, v=value: demo_generation_strategy(config_overrides=v),
                (UserInputError,),
                "m" if "m" in name else "nope",
            )
        )
    for name, value in {
        "{'n_tops': 1}": {"n_tops": 1},
        "[1]": [1],
        "{'subset_seed': 'a'}": {"subset_seed": "a"},
        "{'batch_size': 2}": {"batch_size": 2},
    }.items():
        cases.append(
            Case(
                f"strategy: online_generator_kwargs={name}",
                lambda ctx, v=value: demo_generation_strategy(online_generator_kwargs=v),
                (UserInputError,),
                "online_generator_kwargs",
            )
        )
    for name, value in {"'turbo'": "turbo", "3": 3, "{'nope': 1}": {"nope": 1}}.items():
        cases.append(
            Case(
                f"strategy: config={name}",
                lambda ctx, v=value: demo_generation_strategy(config=v),
                (UserInputError,),
                "onfig",
            )
        )
    cases.append(
        Case(
            "strategy: min_completed above batch_size",
            lambda ctx: demo_generation_strategy(batch_size=4, min_completed=5),
            (UserInputError,),
            "min_completed",
        )
    )
    return cases


# ------------------------------------------------------------------------ CLI
def _cli_cases() -> list[Case]:
    def run(argv: list[str]) -> Callable[[dict], Any]:
        def call(ctx: dict) -> Any:
            args = [a.format(tmp=ctx["tmp"], file=ctx["file"]) for a in argv]
            if args and args[0] in ("bench", "sweep-m") and "--out" not in args:
                args += ["--out", str(ctx["tmp"] / "out")]
            with pytest.raises(SystemExit) as info:
                main(args)
            err = ctx["capsys"].readouterr().err
            assert info.value.code == 2, err
            assert err.count("\n") == 1, err
            raise _CliError(err)

        return call

    table: dict[str, tuple[list[str], str]] = {
        "run --q abc": (["run", "--q", "abc"], "--q"),
        "run --q 1.5": (["run", "--q", "1.5"], "--q"),
        "run --q -1": (["run", "--q", "-1"], "--q"),
        "run --q 10**9": (["run", "--q", str(10**9)], "--q"),
        "run --seed x": (["run", "--seed", "x"], "--seed"),
        "run --seed 2**64": (["run", "--seed", str(2**64)], "--seed"),
        "run --threads -2": (["run", "--threads", "-2"], "--threads"),
        "run --threads 5000": (["run", "--threads", "5000"], "--threads"),
        "run --preset x": (["run", "--preset", "x"], "--preset"),
        "run --task ''": (["run", "--task", ""], "task"),
        "run --device tpu": (["run", "--device", "tpu"], "--device"),
        "run --out a file": (["run", "--out", "{file}"], "--out"),
        "run --data-dir missing": (
            ["run", "--task", "tfbind10", "--data-dir", "{tmp}/none"],
            "tfbind10",
        ),
        "run extra positional": (["run", "extra"], "extra"),
        "no subcommand --q 0": (["--q", "0"], "--q"),
        "no subcommand --bogus": (["--bogus"], "--bogus"),
        "bench --seeds 0": (["bench", "--seeds", "0"], "--seeds"),
        "bench --seeds 1e3": (["bench", "--seeds", "1e3"], "--seeds"),
        "bench --seeds 10001": (["bench", "--seeds", "10001"], "--seeds"),
        "bench --workers 0": (["bench", "--workers", "0"], "--workers"),
        "bench --profile x": (["bench", "--profile", "x"], "x"),
        "bench --methods nope": (["bench", "--methods", "nope"], "nope"),
        "bench --methods ''": (["bench", "--methods", ""], "method"),
        "bench --task ','": (["bench", "--task", ","], "--task"),
        "bench --task ' '": (["bench", "--task", " "], "--task"),
        "bench --suite x": (["bench", "--suite", "x"], "x"),
        "bench --executor x": (["bench", "--executor", "x"], "--executor"),
        "bench --slurm-time local": (["bench", "--slurm-time", "60"], "--slurm-time"),
        "bench --gpus-per-cell local": (["bench", "--gpus-per-cell", "0"], "--gpus-per-cell"),
        "bench submitit --slurm-time -5": (
            ["bench", "--executor", "submitit", "--slurm-time=-5"],
            "--slurm-time",
        ),
        "bench ray --gpus-per-cell -1": (
            ["bench", "--executor", "ray", "--gpus-per-cell=-1"],
            "--gpus-per-cell",
        ),
        "bench ray --ray-address ''": (
            ["bench", "--executor", "ray", "--ray-address", ""],
            "--ray-address",
        ),
        "sweep-m --m 1:2:3:4": (["sweep-m", "--m", "1:2:3:4"], "--m"),
        "sweep-m --m a,b": (["sweep-m", "--m", "a,b"], "--m"),
        "sweep-m --m ''": (["sweep-m", "--m", ""], "--m"),
        "sweep-m --m 0:10:-1": (["sweep-m", "--m", "0:10:-1"], "--m"),
        "sweep-m --m 2000": (["sweep-m", "--m", "2000"], "--m"),
        "sweep-m --m 0:10**15:10**14": (["sweep-m", "--m", f"0:{10**15}:{10**14}"], "--m"),
    }
    return [
        Case(f"cli: {name}", run(argv), (_CliError,), fragment)
        for name, (argv, fragment) in table.items()
    ]


class _CliError(Exception):
    """What the command line printed to stderr (one line)."""


# ------------------------------------------------------------------ the table
BOUNDARIES: dict[str, list[Case]] = {
    "DEMOConfig": _config_cases(),
    "DEMO.fit": _fit_cases(),
    "DEMO.generate/predict": _generate_cases(),
    "DEMO.save/load": _checkpoint_cases(),
    "gen_candidates_demo": _functional_cases(),
    "load_task": _task_cases(),
    "attach_offline_data": _attach_cases(),
    "demo_generation_strategy": _strategy_cases(),
    "CLI": _cli_cases(),
}
#: Cases per boundary.
BOUNDARY_COUNTS = {name: len(cases) for name, cases in BOUNDARIES.items()}
ALL = [(boundary, case) for boundary, cases in BOUNDARIES.items() for case in cases]


def test_the_fuzz_has_at_least_300_cases() -> None:
    assert sum(BOUNDARY_COUNTS.values()) >= 300, BOUNDARY_COUNTS
    assert len({case.id for _, case in ALL}) == len(ALL), "case ids must be unique"


@pytest.mark.parametrize(("boundary", "case"), ALL, ids=[case.id for _, case in ALL])
def test_fuzz_case(
    boundary: str,
    case: Case,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    ctx: dict[str, Any] = {"tmp": tmp_path, "file": a_file, "capsys": capsys}
    if boundary in ("DEMO.generate/predict", "DEMO.save/load"):
        ctx["fitted"] = request.getfixturevalue("fitted")
    if boundary == "attach_offline_data":
        ctx["client"] = request.getfixturevalue("attach_client")
    if boundary in ("gen_candidates_demo", "CLI"):

        def no_fit(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("training started before the arguments were checked")

        monkeypatch.setattr(DEMO, "fit", no_fit)
    if not case.errors:
        result = case.call(ctx)
        assert case.check is None or case.check(result), result
        return
    with pytest.raises(case.errors) as info:
        case.call(ctx)
    message = str(info.value)
    assert case.fragment in message, message
    assert "weights_only=False" not in message
