"""The package layout: ``tasks`` stands alone, and no module imports in a cycle."""

import ast
import importlib
import pkgutil
from pathlib import Path

import botorch_demo

PACKAGE_ROOT = Path(botorch_demo.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    """Every ``botorch_demo`` module that ``path`` imports, at any depth of the file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n.startswith("botorch_demo")}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE_ROOT.rglob("*.py"))
    modules = {_module_name(f): f for f in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in _imported_modules(path):
            # ``from pkg import module`` names a module; ``from module import f`` does not.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def test_tasks_import_no_harness_ax_or_model():
    graph = _graph()
    forbidden = ("botorch_demo.benchmarks", "botorch_demo.ax", "botorch_demo.model")
    tasks = [m for m in graph if m.startswith("botorch_demo.tasks")]
    assert len(tasks) >= 10
    for module in tasks:
        bad = [t for t in graph[module] if t.startswith(forbidden)]
        assert not bad, f"{module} imports {bad}"


def test_harness_takes_tasks_from_the_tasks_package():
    graph = _graph()
    harness = [m for m in graph if m.startswith("botorch_demo.benchmarks.")]
    assert any("botorch_demo.tasks.loaders" in graph[m] for m in harness)
    # Only the command line drives the harness; the algorithm, Ax and tasks never do.
    for module in graph:
        if module.startswith("botorch_demo.benchmarks") or module == "botorch_demo.cli":
            continue
        assert not any(t.startswith("botorch_demo.benchmarks") for t in graph[module]), module


def test_no_import_cycles_between_modules():
    graph = _graph()
    # Package ``__init__`` files re-export their children; an edge parent -> child is
    # not a cycle risk, so only module-to-module edges outside that relation count.
    edges = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_public_faces_import():
    tasks = importlib.import_module("botorch_demo.tasks")
    for name in ("load_task", "list_tasks", "register_task", "OfflineTask", "score_candidates"):
        assert hasattr(tasks, name), name
    bench = importlib.import_module("botorch_demo.benchmarks")
    for info in pkgutil.iter_modules(bench.__path__):
        importlib.import_module(f"botorch_demo.benchmarks.{info.name}")
