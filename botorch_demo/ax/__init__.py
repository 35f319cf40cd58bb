"""Ax integration of DEMO: generator, storage registration, offline data, presets.

Importing this package registers the DEMO generators with Ax (see
:func:`register`), so generation strategies that use them save and load through
Ax's JSON and SQL storage.
"""

from botorch_demo.ax.adapter import DEMOAdapter
from botorch_demo.ax.binding import (
    StorageBindingError,
    check_experiment_binding,
    check_storage_binding,
)
from botorch_demo.ax.campaign_strategies import (
    demo_campaign_strategy,
    demo_every_round_strategy,
    demo_pool_node,
    demo_pool_qei_strategy,
    qlognei_generation_strategy,
)
from botorch_demo.ax.config import resolve_demo_config
from botorch_demo.ax.criteria import DEMOBatchLimit, DEMODesignsResolved
from botorch_demo.ax.generator import DEMOGenerator
from botorch_demo.ax.offline_data import attach_offline_data
from botorch_demo.ax.pool_qei import DEMOPoolGenerator
from botorch_demo.ax.prior_mean import SurrogatePriorMean, surrogate_prior_gp
from botorch_demo.ax.registry import DEMOGenerators, register
from botorch_demo.ax.storage import registry_bundle, sqlite_storage_config
from botorch_demo.ax.strategies import (
    demo_generation_strategy,
    demo_node,
    qei_generation_strategy,
    sobol_node,
)
from botorch_demo.ax.subset import SubsetBoTorchGenerator, training_subset

register()

__all__ = [
    "DEMOAdapter",
    "DEMOBatchLimit",
    "DEMODesignsResolved",
    "DEMOGenerator",
    "DEMOGenerators",
    "DEMOPoolGenerator",
    "StorageBindingError",
    "SubsetBoTorchGenerator",
    "SurrogatePriorMean",
    "attach_offline_data",
    "check_experiment_binding",
    "check_storage_binding",
    "demo_campaign_strategy",
    "demo_every_round_strategy",
    "demo_generation_strategy",
    "demo_node",
    "demo_pool_node",
    "demo_pool_qei_strategy",
    "qei_generation_strategy",
    "qlognei_generation_strategy",
    "register",
    "registry_bundle",
    "resolve_demo_config",
    "sobol_node",
    "sqlite_storage_config",
    "surrogate_prior_gp",
    "training_subset",
]
