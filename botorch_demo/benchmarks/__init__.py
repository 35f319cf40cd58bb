"""The benchmark harness and the speed benchmarks.

* :func:`botorch_demo.benchmarks.harness.run_benchmark` -- every method on every
  task and seed under the paper's protocol, resumable (``botorch-demo bench``).
* :func:`botorch_demo.benchmarks.sweep.run_m_sweep` -- the sensitivity to the
  editing noise level m (``botorch-demo sweep-m``).
* ``python -m botorch_demo.benchmarks.speed`` and
  ``python -m botorch_demo.benchmarks.ax_speed`` -- wall-clock seconds per phase.

The tasks themselves (datasets, oracles, the evaluation protocol) live in
:mod:`botorch_demo.tasks`; this package imports them and never the reverse.
"""
