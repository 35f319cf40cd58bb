"""Private Ax attributes: read in ``botorch_demo/ax/_ax_private.py`` only.

Every private Ax attribute botorch-demo reads is read there; these tests check
that each still exists and means the same, and that no other module of the
package (benchmarks included) and no tutorial notebook reads a private Ax or
BoTorch attribute.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import ax
import botorch
import pytest
from ax.api.client import Client

import botorch_demo
from botorch_demo.ax import attach_offline_data, demo_generation_strategy
from botorch_demo.ax._ax_private import (
    adapter_experiment,
    adapter_optimization_config,
    client_experiment,
    client_generation_strategy,
    generation_node_name,
)

PACKAGE = Path(botorch_demo.__file__).parent
TUTORIALS = PACKAGE.parent / "tutorials"
HOME = PACKAGE / "ax" / "_ax_private.py"
#: Private Ax attributes that are never to be read outside ``_ax_private.py``,
#: whatever this package names its own attributes.
KNOWN_PRIVATE = {
    "_experiment",
    "_generation_node_name",
    "_generation_strategy",
    "_generator_runs",
    "_maybe_experiment",
    "_maybe_generation_strategy",
    "_nodes",
    "_optimization_config",
    "_optimizers",
    "_save_or_update_trials_in_db_if_possible",
    "_user_specified_botorch_acqf_class",
}
_DEFINED = re.compile(
    r"def (_[a-z]\w*)|self\.(_[a-z]\w*)\s*[:=]|^\s*(_[a-z]\w*)\s*[:=]", re.MULTILINE
)
_BY_NAME = {"getattr", "hasattr", "setattr"}
_SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p != HOME)
_NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))


def test_private_attributes_exist_and_mean_what_we_use(
    make_tf8_client, tf8_frame, ax_smoke
) -> None:
    client = make_tf8_client()
    assert client_experiment(client) is client._experiment
    assert client_experiment(Client()) is None
    assert client_generation_strategy(Client()) is None
    attach_offline_data(client, tf8_frame(20))
    client.set_generation_strategy(demo_generation_strategy(batch_size=2, **ax_smoke))
    (index,) = client.get_next_trials(max_trials=1)
    strategy = client._generation_strategy
    assert client_generation_strategy(client) is strategy
    adapter = strategy.adapter
    assert adapter_experiment(adapter) is client._experiment
    assert adapter_optimization_config(adapter) == client._experiment.optimization_config
    trials = client._experiment.trials
    assert generation_node_name(trials[index].generator_runs[0]) == "DEMO"
    assert generation_node_name(trials[0].generator_runs[0]) is None  # The offline import.


@functools.cache
def _names_defined_in(root: Path) -> frozenset[str]:
    """Private names that the sources below ``root`` define (functions,
    attributes, class and module variables)."""
    names: set[str] = set()
    for path in root.rglob("*.py"):
        for match in _DEFINED.finditer(path.read_text(errors="replace")):
            names.update(n for n in match.groups() if n)
    return frozenset(names)


def _private_reads(tree: ast.AST) -> set[str]:
    """Private Ax or BoTorch attributes that ``tree`` reads.

    A read counts when Ax or BoTorch defines the name and this package does not
    (``super()._fit`` in an adapter that overrides ``_fit``, Ax's hook, passes),
    or when the name is in :data:`KNOWN_PRIVATE`.
    """
    foreign = _names_defined_in(Path(ax.__file__).parent) | _names_defined_in(
        Path(botorch.__file__).parent
    )
    own = _names_defined_in(PACKAGE)
    reads = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            reads.add(node.attr)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in _BY_NAME:
            reads.update(a.value for a in node.args[1:2] if isinstance(a, ast.Constant))
    reads = {n for n in reads if isinstance(n, str) and re.fullmatch(r"_[a-z]\w*", n)}
    return {n for n in reads if n in KNOWN_PRIVATE or (n in foreign and n not in own)}


@pytest.mark.parametrize(
    "path",
    _SOURCES,
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_no_module_reads_private_ax_or_botorch_attributes(path: Path) -> None:
    assert _private_reads(ast.parse(path.read_text())) == set()


@pytest.mark.parametrize("path", _NOTEBOOKS, ids=lambda p: p.name)
def test_no_tutorial_reads_private_ax_or_botorch_attributes(path: Path) -> None:
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert _private_reads(ast.parse("\n\n".join(code))) == set()


def test_the_scan_sees_the_package_and_the_tutorials() -> None:
    names = {str(p.relative_to(PACKAGE)) for p in _SOURCES}
    assert {"ax/generator.py", "benchmarks/bo_qei.py", "benchmarks/ax_speed.py"} <= names
    assert {p.name for p in _NOTEBOOKS} >= {"ax_closed_loop.ipynb", "ax_orchestrator.ipynb"}
    # The scan finds what the helpers read, and what an adapter overrides passes.
    code = "client._experiment\ngs._nodes\nrun._generation_node_name\nsuper()._fit()"
    assert _private_reads(ast.parse(code)) == {
        "_experiment",
        "_nodes",
        "_generation_node_name",
    }
    assert _private_reads(ast.parse('getattr(client, "_experiment")')) == {"_experiment"}
