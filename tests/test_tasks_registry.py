"""The task registry: names, design-bench ids and idempotent registration."""

from __future__ import annotations

import dataclasses

import pytest

from botorch_demo.tasks import list_tasks, load_task
from botorch_demo.tasks.generated import register_suite_tasks
from botorch_demo.tasks.registry import (
    PAPER_TASKS,
    TASK_SPECS,
    TaskSpec,
    get_spec,
    register_paper_tasks,
    register_task,
    register_tasks,
)
from botorch_demo.tasks.suite import SUITE_TASKS


def test_list_tasks() -> None:
    names = list_tasks()
    for name in ("tfbind8", "tfbind10", "levy", "superconductor", "ant", "dkitty"):
        assert name in names


def test_unknown_task_lists_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        load_task("tfbind9")
    message = str(info.value)
    assert "tfbind9" in message
    for name in ("tfbind8", "tfbind10", "levy"):
        assert name in message


def test_design_bench_id_is_accepted() -> None:
    assert load_task("TFBind8-Exact-v0").info.name == "tfbind8"


def test_importing_the_package_registers_the_paper_and_suite_tasks() -> None:
    names = list_tasks()
    for spec in PAPER_TASKS:
        assert get_spec(spec.name) is spec
    for name in SUITE_TASKS:
        assert name in names
    assert len(names) == len(PAPER_TASKS) + len(SUITE_TASKS)


def test_registration_is_idempotent() -> None:
    before = list(TASK_SPECS.items())
    register_paper_tasks()
    register_suite_tasks()
    register_tasks(PAPER_TASKS)
    assert list(TASK_SPECS.items()) == before


def test_a_different_spec_under_a_taken_name_is_refused() -> None:
    other = dataclasses.replace(get_spec("levy"), dim=3)
    with pytest.raises(ValueError, match="already registered"):
        register_tasks([other])
    assert get_spec("levy").dim == 60


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (TaskSpec("Bad", "TFBind8-Exact-v0", 8, 4, None, None), "lower-case"),
        (TaskSpec("new-task", "Unknown-v0", 8, 4, None, None), "No normalisation constants"),
    ],
)
def test_register_task_checks_the_spec(spec: TaskSpec, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        register_task(spec)
    assert spec.name not in TASK_SPECS
