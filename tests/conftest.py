"""Shared fixtures and data builders of the test suite.

Builders are plain functions behind fixtures so that a test asks for the data it
needs by name; the sections follow the package's layout.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from botorch_demo import DEMO, DEMOConfig
from botorch_demo.diffusion import ScoreNetwork, fit_score_network
from botorch_demo.fileio import file_mode
from botorch_demo.sde import VPSDE
from botorch_demo.surrogate import build_surrogate, fit_surrogate

# ------------------------------------------------------------------------ core
#: The smallest configuration that still trains every phase.
TINY = DEMOConfig.smoke(surrogate_epochs=2, diffusion_epochs=2, ascent_steps=5)

#: The smoke preset as it stands.
SMOKE = DEMOConfig.smoke()

#: The smoke preset with two epochs per network (its full ascent kept).
SHORT = DEMOConfig.smoke().replace(surrogate_epochs=2, diffusion_epochs=2)

#: A surrogate good enough to rank the data, and an ascent that moves D' away from it.
TRAINED = DEMOConfig.smoke(
    surrogate_epochs=60,
    surrogate_lr=3e-3,
    ascent_optimizer="adam",
    ascent_step_size_continuous=0.05,
)


def quadratic_data(
    n: int = 120, d: int = 3, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` uniform designs in ``[0, 1]^d`` scored by ``-||x - 0.5||^2``."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=dtype)
    Y = -(X - 0.5).pow(2).sum(-1, keepdim=True)
    bounds = torch.stack([torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)])
    return X, Y, bounds


def continuous_data(
    n: int = 300,
    d: int = 3,
    dtype: torch.dtype = torch.float64,
    seed: int = 0,
    offset: float = 0.0,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` uniform designs in ``[-2, 3]^d`` scored by ``offset - scale ||x - 1||^2``."""
    gen = torch.Generator().manual_seed(seed)
    bounds = torch.tensor([[-2.0] * d, [3.0] * d], dtype=dtype)
    X = bounds[0] + (bounds[1] - bounds[0]) * torch.rand(n, d, generator=gen, dtype=dtype)
    Y = offset - scale * (X - 1.0).square().sum(-1, keepdim=True)
    return X, Y, bounds


def mixed_data(
    n: int = 300, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[int, int]]:
    """Two 4-way categorical columns around one continuous column."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.empty(n, 3, dtype=torch.float64)
    X[:, 0] = torch.randint(0, 4, (n,), generator=gen).double()
    X[:, 1] = torch.rand(n, generator=gen, dtype=torch.float64)
    X[:, 2] = torch.randint(0, 4, (n,), generator=gen).double()
    Y = (X[:, :1] == 2).double() + X[:, 1:2] - (X[:, 2:] - 1).abs()
    bounds = torch.tensor([[0.0, 0.0, 0.0], [3.0, 1.0, 3.0]], dtype=torch.float64)
    return X, Y, bounds, {0: 4, 2: 4}


def constrained_data(n: int = 200) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x0, x1 in [0, 1] with x0 + x1 <= 1 (optimum on that edge), x2 integer 0..6."""
    g = torch.Generator().manual_seed(0)
    X = torch.rand(4 * n, 3, generator=g, dtype=torch.double)
    X[:, 2] = torch.randint(0, 7, (4 * n,), generator=g).double()
    X = X[X[:, 0] + X[:, 1] <= 1.0][:n]
    Y = (3 * X[:, 0] + 2 * X[:, 1] + 0.1 * X[:, 2]).unsqueeze(-1)
    bounds = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 6.0]], dtype=torch.double)
    return X, Y, bounds


def gaussian_quadratic_data(
    n: int = 512, d: int = 4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` standard normal float32 designs, ``-||x - 0.5||^2`` standardised."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen)
    y = -(X - 0.5).square().sum(-1)
    return X, (y - y.mean()) / y.std()


def fit_small_surrogate(X: torch.Tensor, y: torch.Tensor, **overrides) -> tuple[nn.Module, object]:
    """A 64-wide surrogate trained for 60 epochs on ``(X, y)``: ``(net, stats)``."""
    cfg = DEMOConfig.smoke(surrogate_epochs=60, surrogate_hidden=64, surrogate_lr=3e-3, **overrides)
    net = build_surrogate(
        X.shape[-1],
        cfg,
        generator=torch.Generator().manual_seed(0),
        dtype=torch.float32,
        device="cpu",
    )
    stats = fit_surrogate(net, X, y, cfg, generator=torch.Generator().manual_seed(1))
    return net, stats


def train_score_network(
    X: torch.Tensor, y: torch.Tensor, sde: VPSDE, epochs: int = 40
) -> tuple[ScoreNetwork, object]:
    """A 128-wide score network trained on ``(X, y)`` for ``epochs``: ``(net, stats)``."""
    cfg = DEMOConfig.smoke(diffusion_epochs=epochs, diffusion_hidden=128, diffusion_lr=3e-3)
    net = ScoreNetwork(X.shape[-1], cfg, generator=torch.Generator().manual_seed(0))
    stats = fit_score_network(net, X, y, sde, cfg, generator=torch.Generator().manual_seed(1))
    return net, stats


@pytest.fixture(scope="session")
def tiny_config() -> DEMOConfig:
    """:data:`TINY`."""
    return TINY


@pytest.fixture(scope="session")
def smoke_config() -> DEMOConfig:
    """:data:`SMOKE`."""
    return SMOKE


@pytest.fixture(scope="session")
def short_config() -> DEMOConfig:
    """:data:`SHORT`."""
    return SHORT


@pytest.fixture(scope="session")
def trained_config() -> DEMOConfig:
    """:data:`TRAINED`."""
    return TRAINED


@pytest.fixture(scope="session")
def make_quadratic() -> Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """:func:`quadratic_data`."""
    return quadratic_data


@pytest.fixture(scope="session")
def make_continuous() -> Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """:func:`continuous_data`."""
    return continuous_data


@pytest.fixture(scope="session")
def make_mixed() -> Callable[..., tuple]:
    """:func:`mixed_data`."""
    return mixed_data


@pytest.fixture(scope="session")
def make_constrained() -> Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """:func:`constrained_data`."""
    return constrained_data


@pytest.fixture(scope="session")
def make_gaussian_quadratic() -> Callable[..., tuple[torch.Tensor, torch.Tensor]]:
    """:func:`gaussian_quadratic_data`."""
    return gaussian_quadratic_data


@pytest.fixture(scope="session")
def make_surrogate() -> Callable[..., tuple[nn.Module, object]]:
    """:func:`fit_small_surrogate`."""
    return fit_small_surrogate


@pytest.fixture(scope="session")
def make_score_network() -> Callable[..., tuple[ScoreNetwork, object]]:
    """:func:`train_score_network`."""
    return train_score_network


# Fitted models. Fitting is the slow part, so each model is fitted once per session
# and every test gets a private deep copy: it may generate (which records
# diagnostics) or otherwise use the model without affecting other tests.
@pytest.fixture(scope="session")
def _continuous_fit() -> DEMO:
    X, Y, bounds = continuous_data()
    return DEMO(SMOKE).fit(X, Y, bounds, seed=0)


@pytest.fixture(scope="session")
def _trained_fit() -> DEMO:
    X, Y, bounds = continuous_data()
    return DEMO(TRAINED).fit(X, Y, bounds, seed=0)


@pytest.fixture(scope="session")
def _mixed_fit() -> DEMO:
    X, Y, bounds, cats = mixed_data()
    return DEMO(SMOKE).fit(X, Y, bounds, cats, seed=0)


@pytest.fixture(scope="session")
def _quadratic_fit() -> DEMO:
    X, Y, bounds = quadratic_data()
    return DEMO(TINY).fit(X, Y, bounds, seed=0)


@pytest.fixture(scope="session")
def _constrained_fit() -> DEMO:
    X, Y, bounds = constrained_data()
    return DEMO(SHORT).fit(X, Y, bounds, seed=0)


@pytest.fixture
def continuous_model(_continuous_fit: DEMO) -> DEMO:
    """``DEMO(SMOKE)`` fitted on :func:`continuous_data` with seed 0."""
    return copy.deepcopy(_continuous_fit)


@pytest.fixture
def trained_model(_trained_fit: DEMO) -> DEMO:
    """``DEMO(TRAINED)`` fitted on :func:`continuous_data` with seed 0."""
    return copy.deepcopy(_trained_fit)


@pytest.fixture
def mixed_model(_mixed_fit: DEMO) -> DEMO:
    """``DEMO(SMOKE)`` fitted on :func:`mixed_data` with seed 0."""
    return copy.deepcopy(_mixed_fit)


@pytest.fixture
def quadratic_model(_quadratic_fit: DEMO) -> DEMO:
    """``DEMO(TINY)`` fitted on :func:`quadratic_data` with seed 0."""
    return copy.deepcopy(_quadratic_fit)


@pytest.fixture
def constrained_model(_constrained_fit: DEMO) -> DEMO:
    """``DEMO(SHORT)`` fitted on :func:`constrained_data` with seed 0."""
    return copy.deepcopy(_constrained_fit)


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    """Set the process umask for one test; the earlier umask comes back afterwards.

    Calling the fixture's value with a mask sets it and returns the file mode the
    package's writers then give (:func:`botorch_demo.fileio.file_mode`, read anew).
    """
    import os

    earlier = os.umask(0o022)
    os.umask(earlier)

    def set_mask(mask: int) -> int:
        os.umask(mask)
        file_mode.cache_clear()
        return 0o666 & ~mask

    try:
        yield set_mask
    finally:
        os.umask(earlier)
        file_mode.cache_clear()


# ----------------------------------------------------------------------- tasks


TF8_FOLDER = "tf_bind_8-SIX6_REF_R1"


def write_shards(folder: Path, prefix: str, x: np.ndarray, y: np.ndarray, n: int) -> None:
    """Split ``x``, ``y`` into ``n`` design-bench shards ``<prefix>-{x,y}-<i>.npy``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (xs, ys) in enumerate(zip(np.array_split(x, n), np.array_split(y, n), strict=True)):
        np.save(folder / f"{prefix}-x-{i}.npy", xs)
        np.save(folder / f"{prefix}-y-{i}.npy", ys)


def last_row_reference(codes: np.ndarray, y: np.ndarray) -> dict[int, float]:
    """Last-wins map from code to score, built by an explicit loop (like design-bench)."""
    table: dict[int, float] = {}
    for code, value in zip(codes.tolist(), y.reshape(-1).tolist(), strict=True):
        table[code] = value
    return table


def enumerate_space(length: int, V: int) -> torch.Tensor:
    """All ``V**length`` sequences, ``N x length`` long (the brute-force reference)."""
    return torch.cartesian_prod(*[torch.arange(V)] * length).reshape(-1, length)


@pytest.fixture(scope="session")
def tfbind8_task():
    """``load_task("tfbind8")`` from the package data (read-only: shared by tests)."""
    from botorch_demo.tasks import load_task

    return load_task("tfbind8")


@pytest.fixture(scope="session")
def tfbind8_file() -> Path:
    """The TF Bind 8 file shipped in the package."""
    return Path(__file__).parents[1] / "botorch_demo" / "data" / "tfbind8.npz"


@pytest.fixture(scope="session")
def tfbind8_arrays(tfbind8_file: Path) -> tuple[np.ndarray, np.ndarray]:
    """The full TF Bind 8 data as shipped: ``x`` uint8 tokens, ``y`` float32 ``n x 1``."""
    with np.load(tfbind8_file) as z:
        return z["x"], z["y"]


@pytest.fixture
def real_tf8_folder() -> Path:
    """design-bench's TF Bind 8 folder under ``$BOTORCH_DEMO_DATA``; skips without it."""
    from botorch_demo.tasks import ENV_VAR

    env = os.environ.get(ENV_VAR)
    folder = Path(env) / "design_bench_data" / TF8_FOLDER if env else None
    if folder is None or not folder.is_dir():
        pytest.skip(f"{ENV_VAR} unset or lacks design_bench_data/{TF8_FOLDER}")
    return folder


@pytest.fixture
def make_shards() -> Callable[[Path, str, np.ndarray, np.ndarray, int], None]:
    """:func:`write_shards`."""
    return write_shards


@pytest.fixture
def make_last_row_reference() -> Callable[[np.ndarray, np.ndarray], dict[int, float]]:
    """:func:`last_row_reference`."""
    return last_row_reference


@pytest.fixture
def make_sequence_space() -> Callable[[int, int], torch.Tensor]:
    """:func:`enumerate_space`."""
    return enumerate_space


@pytest.fixture(
    params=[
        "cpu",
        pytest.param(
            "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
        ),
    ]
)
def tasks_device(request: pytest.FixtureRequest) -> torch.device:
    """Each device the tasks package is checked on: the CPU, and CUDA where there is one."""
    return torch.device(request.param)


# -------------------------------------------------------------------------- ax
# Ax is imported when an Ax fixture is first used, so other tests do not pay for it.


if TYPE_CHECKING:
    from ax.api.client import Client

    from botorch_demo.tasks import OfflineTask

#: DEMO node kwargs that train in a blink: the smoke preset with one epoch each.
AX_SMOKE = {"config": "smoke", "config_overrides": {"surrogate_epochs": 1, "diffusion_epochs": 1}}
#: Parameter names of the TF Bind 8 experiments; values are the letters ACGT.
TF8_NAMES = [f"p{i}" for i in range(8)]
_LETTERS = np.array(list("ACGT"))


@functools.cache
def load_tf8() -> OfflineTask:
    """TF Bind 8, loaded once per session."""
    from botorch_demo.tasks import load_task

    return load_task("tfbind8")


def build_tf8_frame(n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The TF8 offline set (or a seeded random subset of n rows) as a DataFrame."""
    task = load_tf8()
    X, Y = task.train_X, task.train_Y
    if n is not None:
        rows = torch.randperm(X.shape[0], generator=torch.Generator().manual_seed(seed))[:n]
        X, Y = X[rows], Y[rows]
    frame = pd.DataFrame(_LETTERS[X.long().numpy()], columns=TF8_NAMES)
    frame["score"] = Y.squeeze(-1).numpy()
    return frame


def build_tf8_client(
    storage_config: Any = None, minimize: bool = False, name: str = "tf8"
) -> Client:
    """An Ax ``Client`` with the eight TF8 letters as unordered choices, objective
    ``score``."""
    from ax.api.client import Client
    from ax.api.configs import ChoiceParameterConfig

    client = Client(storage_config=storage_config, random_seed=0)
    client.configure_experiment(
        name=name,
        parameters=[
            ChoiceParameterConfig(
                name=n, values=list("ACGT"), parameter_type="str", is_ordered=False
            )
            for n in TF8_NAMES
        ],
    )
    client.configure_optimization(objective="-score" if minimize else "score")
    return client


def score_tf8(parameters: Mapping[str, Any]) -> float:
    """Exact TF8 score of one parameterization."""
    tokens = [list("ACGT").index(parameters[n]) for n in TF8_NAMES]
    return float(load_tf8().oracle(torch.tensor([tokens], dtype=torch.double)).item())


def tf8_letters(parameters: Mapping[str, Any]) -> tuple[str, ...]:
    """A parameterization as a hashable tuple of letters."""
    return tuple(parameters[n] for n in TF8_NAMES)


def complete_with_oracle(client: Client, trials: Mapping[int, Mapping[str, Any]]) -> None:
    """Completes ``trials`` with their exact TF8 scores."""
    for index, parameters in trials.items():
        client.complete_trial(index, {"score": score_tf8(parameters)})


@pytest.fixture
def ax_smoke() -> dict[str, Any]:
    """:data:`AX_SMOKE` (a copy)."""
    return copy.deepcopy(AX_SMOKE)


@pytest.fixture
def tf8() -> OfflineTask:
    """:func:`load_tf8`."""
    return load_tf8()


@pytest.fixture
def tf8_frame() -> Callable[..., pd.DataFrame]:
    """:func:`build_tf8_frame`."""
    return build_tf8_frame


@pytest.fixture
def make_tf8_client() -> Callable[..., Client]:
    """:func:`build_tf8_client`."""
    return build_tf8_client


@pytest.fixture
def tf8_oracle() -> Callable[[Mapping[str, Any]], float]:
    """:func:`score_tf8`."""
    return score_tf8


@pytest.fixture
def tf8_design() -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    """:func:`tf8_letters`."""
    return tf8_letters


@pytest.fixture
def complete_all() -> Callable[[Client, Mapping[int, Mapping[str, Any]]], None]:
    """:func:`complete_with_oracle`."""
    return complete_with_oracle


@pytest.fixture
def tf8_names() -> list[str]:
    """:data:`TF8_NAMES` (a copy)."""
    return list(TF8_NAMES)


@pytest.fixture
def tf8_generator_inputs(tf8_frame) -> tuple[Any, Any, Any]:
    """``fit``/``gen`` inputs of a ``DEMOGenerator`` on 300 TF8 designs: the
    dataset (letters coded 0-3), the search space digest and a maximising
    ``TorchOptConfig``."""
    from ax.core.search_space import SearchSpaceDigest
    from ax.generators.torch_base import TorchOptConfig
    from botorch.utils.datasets import SupervisedDataset

    frame = tf8_frame(300)
    codes = frame.drop(columns="score").apply(lambda c: c.map("ACGT".index)).to_numpy()
    X = torch.tensor(codes, dtype=torch.double)
    Y = torch.tensor(frame["score"].to_numpy(), dtype=torch.double).unsqueeze(-1)
    names = list(frame.columns[:-1])
    dataset = SupervisedDataset(X=X, Y=Y, feature_names=names, outcome_names=["score"])
    digest = SearchSpaceDigest(
        feature_names=names,
        bounds=[(0, 3)] * 8,
        categorical_features=list(range(8)),
        discrete_choices={i: [0, 1, 2, 3] for i in range(8)},
    )
    config = TorchOptConfig(objective_weights=torch.tensor([[1.0]], dtype=torch.double))
    return dataset, digest, config


# ------------------------------------------------------------------ benchmarks
#: Every registered benchmark method, in registry order.
BENCH_METHODS = [
    "demo",
    "demo-no-pseudo-target",
    "demo-no-editing",
    "ddom",
    "grad",
    "cma-es",
    "bo-qei",
]


def bench_tiny_profile():
    """A benchmark profile that fits every DEMO model in about a second on seq-l6-v5."""
    from botorch_demo.benchmarks.profiles import BenchProfile, BOSettings, CMAESSettings

    return BenchProfile(
        "tiny",
        TINY.replace(num_steps=5),
        CMAESSettings(popsize=16, iterations=2),
        BOSettings(max_points=20, offline_rows=20),
        q=32,
    )


def store_fake_cell(store, key, fingerprint: str = "fp", p100: float = 0.75) -> dict:
    """Store a small cell without training anything; return its stored record."""
    g = torch.Generator().manual_seed(key.seed)
    tensors = {
        "candidates": torch.rand(8, 3, generator=g, dtype=torch.float64),
        "y": torch.rand(8, generator=g, dtype=torch.float64),
        "y_normalized": torch.rand(8, generator=g, dtype=torch.float64),
        "predicted": None,
    }
    record = {"task": key.task, "method": key.method, "seed": key.seed}
    record.update(fingerprint=fingerprint, p100=p100)
    return store.save(key, record, tensors)


def flip_file_bytes(path, offset_from_end: int = 300, n: int = 16) -> None:
    """Invert ``n`` bytes of a file, ``offset_from_end`` bytes before its end."""
    data = bytearray(path.read_bytes())
    start = len(data) - offset_from_end
    for i in range(start, start + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


#: Record entries that two runs of the same cell must agree on.
CELL_METRICS = ("p100", "p50", "proportion_above_d_best", "n_distinct", "d_best", "q")


def assert_same_cells_in(a, b, keys) -> None:
    """Bit-identical candidates, scores, predictions and metrics in two stores."""
    for key in keys:
        ta, tb = a.load_tensors(key), b.load_tensors(key)
        for name in ("candidates", "y", "y_normalized", "predicted"):
            if ta[name] is None:
                assert tb[name] is None, f"{key} {name}"
            else:
                assert torch.equal(ta[name], tb[name]), f"{key} {name}"
        ra, rb = a.load_record(key), b.load_record(key)
        for metric in CELL_METRICS:
            assert ra[metric] == rb[metric], f"{key} {metric}"


@pytest.fixture
def bench_methods() -> list[str]:
    """:data:`BENCH_METHODS`."""
    return list(BENCH_METHODS)


@pytest.fixture
def tiny_profile():
    """:func:`bench_tiny_profile`."""
    return bench_tiny_profile()


@pytest.fixture
def fake_cell() -> Callable[..., dict]:
    """:func:`store_fake_cell`."""
    return store_fake_cell


@pytest.fixture
def flip_bytes() -> Callable[..., None]:
    """:func:`flip_file_bytes`."""
    return flip_file_bytes


@pytest.fixture
def assert_same_cells() -> Callable[..., None]:
    """:func:`assert_same_cells_in`."""
    return assert_same_cells_in


@pytest.fixture
def temp_method():
    """Register benchmark methods for one test: ``temp_method(Method(...))``; removed after."""
    from botorch_demo.benchmarks.methods import METHODS, register_method

    added: list[str] = []

    def register(method):
        register_method(method)
        added.append(method.name)
        return method

    yield register
    for name in added:
        METHODS.pop(name, None)


@pytest.fixture
def one_thread():
    """Run the test with one torch thread (bit-identical cells across executors)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def complete_with_sum(client: Client, trials: Mapping[int, Mapping[str, Any]]) -> None:
    """Completes ``trials`` with ``f`` = the sum of their numeric parameters (a
    stand-in objective for small synthetic spaces)."""
    for index, parameters in trials.items():
        value = sum(float(v) for v in parameters.values() if isinstance(v, int | float))
        client.complete_trial(index, {"f": value})


@pytest.fixture
def complete_trials() -> Callable[[Client, Mapping[int, Mapping[str, Any]]], None]:
    """:func:`complete_with_sum`."""
    return complete_with_sum
