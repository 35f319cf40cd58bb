"""Shared fixtures and data builders of the test suite.

Builders are plain functions behind fixtures so that a test asks for the data it
needs by name; the sections follow the package's layout.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from botorch_demo import DEMOConfig

# ------------------------------------------------------------------------ core
#: The smallest configuration that still trains every phase.
TINY = DEMOConfig.smoke(surrogate_epochs=2, diffusion_epochs=2, ascent_steps=5)


def quadratic_data(
    n: int = 120, d: int = 3, seed: int = 0, dtype: torch.dtype = torch.float64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``n`` uniform designs in ``[0, 1]^d`` scored by ``-||x - 0.5||^2``."""
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=dtype)
    Y = -(X - 0.5).pow(2).sum(-1, keepdim=True)
    bounds = torch.stack([torch.zeros(d, dtype=dtype), torch.ones(d, dtype=dtype)])
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


@pytest.fixture
def tiny_config() -> DEMOConfig:
    """:data:`TINY`."""
    return TINY


@pytest.fixture
def make_quadratic() -> Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """:func:`quadratic_data`."""
    return quadratic_data


@pytest.fixture
def make_mixed() -> Callable[..., tuple]:
    """:func:`mixed_data`."""
    return mixed_data


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
