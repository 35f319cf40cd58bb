"""Offline-MBO tasks: offline datasets, exact oracles and the evaluation protocol.

Importing the package registers the paper's tasks and the robustness suite's, so
:func:`load_task` and :func:`list_tasks` know them by name.

Example:
    >>> from botorch_demo.tasks import load_task, list_tasks, score_candidates
    >>> task = load_task("tfbind8")
    >>> task.train_X.shape, round(task.d_best, 4)
    (torch.Size([32898, 8]), 0.4393)
"""

from botorch_demo.tasks.adapter import task_from_design_bench
from botorch_demo.tasks.design_bench_io import (
    find_shards,
    iter_shards,
    read_design_bench_folder,
)
from botorch_demo.tasks.generated import register_suite_tasks
from botorch_demo.tasks.loaders import ENV_VAR, load_task
from botorch_demo.tasks.offline import offline_indices
from botorch_demo.tasks.oracles import (
    LevyOracle,
    LookupOracle,
    Oracle,
    PredictOracle,
    UnavailableOracle,
)
from botorch_demo.tasks.protocol import (
    DEFAULT_BUDGET,
    CandidateScores,
    mean_and_stderr,
    percentile_scores,
    proportion_above,
    score_candidates,
)
from botorch_demo.tasks.registry import (
    NORMALIZATION_CONSTANTS,
    TaskSpec,
    list_tasks,
    register_paper_tasks,
    register_task,
)
from botorch_demo.tasks.suite import SUITE_TASKS, SUITES, list_suites, suite_tasks
from botorch_demo.tasks.task import OfflineTask, TaskInfo

register_paper_tasks()
register_suite_tasks()

__all__ = [
    "DEFAULT_BUDGET",
    "ENV_VAR",
    "NORMALIZATION_CONSTANTS",
    "SUITES",
    "SUITE_TASKS",
    "CandidateScores",
    "LevyOracle",
    "LookupOracle",
    "OfflineTask",
    "Oracle",
    "PredictOracle",
    "TaskInfo",
    "TaskSpec",
    "UnavailableOracle",
    "find_shards",
    "iter_shards",
    "list_suites",
    "list_tasks",
    "load_task",
    "mean_and_stderr",
    "offline_indices",
    "percentile_scores",
    "proportion_above",
    "read_design_bench_folder",
    "register_task",
    "score_candidates",
    "suite_tasks",
    "task_from_design_bench",
]
