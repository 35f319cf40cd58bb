"""Registration of this package's generators with Ax.

Ax builds a node's adapter and generator from a ``GeneratorRegistryBase`` enum
member whose value keys ``ax.adapter.registry.GENERATOR_KEY_TO_GENERATOR_SETUP``;
JSON and SQL storage decode that enum (and the DEMO node's pausing criterion,
:class:`~botorch_demo.ax.criteria.DEMOBatchLimit`) by class name through
``ax.storage.json_store.registry.CORE_DECODER_REGISTRY`` and encode the criterion
through ``CORE_ENCODER_REGISTRY``. :func:`register` adds these entries to Ax's
public registries; importing ``botorch_demo.ax`` calls it.

Transforms:

- ``DEMOGenerators.DEMO`` uses Ax's ``Mixed_transforms`` (``RemoveFixed``,
  ``ChoiceToNumericChoice``, ``Log``, ``Logit``) and no outcome transform: every
  parameter stays one column, unordered choices arrive integer-coded and are
  passed to DEMO as ``categorical_features`` (DEMO encodes them itself; no
  one-hot columns), bounds stay in the parameters' own units (DEMO normalises
  internally), and DEMO sees the raw objective values.
- ``DEMOGenerators.SUBSET_BOTORCH`` and ``DEMOGenerators.DEMO_POOL`` use
  ``Mixed_transforms + Y_trans``: unordered choices stay one integer-coded
  column each (Ax's surrogate then picks a GP with a categorical kernel for
  them), and the objective is standardised. DEMO (inside the pool node) encodes
  the integer codes itself, as the DEMO node's generator does.

Both keep Ax's default ``fit_tracking_metrics=True``, as Ax's own BoTorch node
does, so an experiment's tracking metrics reach the generator: the GP nodes
model them, DEMO models only the objective and predicts the tracking metrics by
their nearest observed designs (it logs that once).
"""

from __future__ import annotations

from ax.adapter.registry import (
    GENERATOR_KEY_TO_GENERATOR_SETUP,
    GeneratorSetup,
    Mixed_transforms,
    Y_trans,
)
from ax.exceptions.core import UserInputError
from ax.storage.json_store.encoders import (
    pausing_criterion_to_dict,
    transition_criterion_to_dict,
)
from ax.storage.json_store.registry import CORE_DECODER_REGISTRY, CORE_ENCODER_REGISTRY

from botorch_demo.ax.adapter import DEMOAdapter, SubsetAdapter
from botorch_demo.ax.criteria import DEMOBatchLimit, DEMODesignsResolved
from botorch_demo.ax.generator import DEMOGenerator
from botorch_demo.ax.keys import DEMOGenerators
from botorch_demo.ax.pool_qei import DEMOPoolGenerator
from botorch_demo.ax.subset import SubsetBoTorchGenerator

GENERATOR_SETUPS: dict[str, GeneratorSetup] = {
    DEMOGenerators.DEMO.value: GeneratorSetup(
        adapter_class=DEMOAdapter,
        generator_class=DEMOGenerator,
        transforms=Mixed_transforms,
    ),
    DEMOGenerators.SUBSET_BOTORCH.value: GeneratorSetup(
        adapter_class=SubsetAdapter,
        generator_class=SubsetBoTorchGenerator,
        transforms=Mixed_transforms + Y_trans,
    ),
    DEMOGenerators.DEMO_POOL.value: GeneratorSetup(
        adapter_class=SubsetAdapter,
        generator_class=DEMOPoolGenerator,
        transforms=Mixed_transforms + Y_trans,
    ),
}

#: Ax's JSON encoder writes ``type(obj).__name__`` as an object's type. These
#: classes are written under names that start with the package's name, so that
#: loading a snapshot without ``import botorch_demo.ax`` fails with an Ax error
#: that names the package to import ("... has a type
#: botorch_demo.ax.DEMOGenerators that is not registered ...").
JSON_TYPE_NAMES: dict[type, str] = {
    DEMOGenerators: "botorch_demo.ax.DEMOGenerators",
    DEMOBatchLimit: "botorch_demo.ax.DEMOBatchLimit",
    DEMODesignsResolved: "botorch_demo.ax.DEMODesignsResolved",
}
for _cls, _json_name in JSON_TYPE_NAMES.items():
    _cls.__name__ = _json_name

DECODER_ENTRIES: dict[str, type] = {
    **{name: cls for cls, name in JSON_TYPE_NAMES.items()},
    # The bare class names, which snapshots may also hold.
    "DEMOGenerators": DEMOGenerators,
    "DEMOBatchLimit": DEMOBatchLimit,
}
ENCODER_ENTRIES: dict[type, object] = {
    DEMOBatchLimit: pausing_criterion_to_dict,
    DEMODesignsResolved: transition_criterion_to_dict,
}


def register() -> None:
    """Adds this package's generators to Ax's generator and JSON decoder
    registries. Idempotent.

    Raises:
        UserInputError: If another package already registered the same keys.
    """
    _add(GENERATOR_KEY_TO_GENERATOR_SETUP, GENERATOR_SETUPS, "generator registry")
    _add(CORE_DECODER_REGISTRY, DECODER_ENTRIES, "JSON decoder registry")
    _add(CORE_ENCODER_REGISTRY, ENCODER_ENTRIES, "JSON encoder registry")


def _add(registry: dict, entries: dict, what: str) -> None:
    for key, value in entries.items():
        existing = registry.get(key)
        if existing is not None and existing is not value and _name(existing) != _name(value):
            raise UserInputError(
                f"Cannot register {key!r} in Ax's {what}: it is taken by {existing}."
            )
        registry[key] = value


def _name(entry: object) -> str:
    cls = getattr(entry, "generator_class", entry)
    return f"{getattr(cls, '__module__', '')}.{getattr(cls, '__qualname__', cls)}"
