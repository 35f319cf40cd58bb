"""The keys under which this package's generators are known to Ax.

:class:`DEMOGenerators` is the ``GeneratorRegistryBase`` enum a
``GeneratorSpec`` names; :mod:`botorch_demo.ax.registry` maps its values to
adapters and generators in Ax's registries. Kept apart from the registry so
that modules the registry imports (the transition criteria) can ask whether a
strategy uses DEMO.
"""

from __future__ import annotations

from ax.adapter.registry import GeneratorRegistryBase
from ax.generation_strategy.generation_strategy import GenerationStrategy


class DEMOGenerators(GeneratorRegistryBase):
    """Generators of botorch-demo, for ``GeneratorSpec(generator_enum=...)``.

    Members:
        DEMO: :class:`~botorch_demo.ax.generator.DEMOGenerator`.
        SUBSET_BOTORCH: :class:`~botorch_demo.ax.subset.SubsetBoTorchGenerator`,
            a modular BoTorch generator whose GP trains on a bounded subset.
        DEMO_POOL: :class:`~botorch_demo.ax.pool_qei.DEMOPoolGenerator`, that
            GP with qLogNEI choosing each batch among DEMO's edits of the best
            observed designs.
    """

    DEMO = "DEMO"
    SUBSET_BOTORCH = "SubsetBoTorch"
    DEMO_POOL = "DEMOPool"


def uses_demo(strategy: GenerationStrategy | None) -> bool:
    """Whether ``strategy`` has a node that generates with DEMO.

    Args:
        strategy: A generation strategy, or ``None``.

    Returns:
        ``True`` if one of its nodes has a ``DEMOGenerators.DEMO`` spec.
    """
    if strategy is None:
        return False
    return any(
        spec.generator_enum is DEMOGenerators.DEMO
        for node in strategy.nodes_by_name.values()
        for spec in node.generator_specs
    )
