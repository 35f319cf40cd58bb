"""The task suites: named task lists and the robustness suite's definitions."""

from __future__ import annotations

import pytest

from botorch_demo.tasks import SUITES, list_suites, list_tasks, suite_tasks
from botorch_demo.tasks.suite import SUITE_TASKS, space_size

ROBUSTNESS = suite_tasks("robustness")


def test_suites_name_registered_tasks() -> None:
    assert len(ROBUSTNESS) >= 8
    assert suite_tasks("paper") == ["tfbind8", "tfbind10", "levy"]
    assert sorted(SUITES) == ["paper", "robustness"]
    assert list_suites() == ["paper", "robustness"]
    for name in ROBUSTNESS:
        assert name in list_tasks()
    with pytest.raises(ValueError, match="paper, robustness"):
        suite_tasks("nope")


def test_suite_names_are_case_insensitive() -> None:
    assert suite_tasks(" Robustness ") == ROBUSTNESS == list(SUITE_TASKS)


def test_the_suite_covers_the_required_kinds() -> None:
    kinds = {SUITE_TASKS[n].kind for n in ROBUSTNESS}
    assert kinds == {"synthetic", "sequence", "mixed"}
    dims = [SUITE_TASKS[n].dim for n in ROBUSTNESS if SUITE_TASKS[n].kind == "synthetic"]
    assert (min(dims), max(dims)) == (6, 60)
    sizes = [space_size(n) for n in ROBUSTNESS if SUITE_TASKS[n].kind == "sequence"]
    assert any(s >= 10_000 for s in sizes)
    assert any(s <= 100_000 for s in sizes)  # enumerable
    assert len({SUITE_TASKS[n].num_categories for n in ROBUSTNESS}) >= 3


@pytest.mark.parametrize(
    ("name", "size"), [("seq-l8-v4", 4**8), ("ackley-10", None), ("mixed-10", None)]
)
def test_space_size(name: str, size: int | None) -> None:
    assert space_size(name) == size
