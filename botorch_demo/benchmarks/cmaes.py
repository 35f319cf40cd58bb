"""CMA-ES on the learned surrogate (the paper's CMA-ES baseline).

The search runs in the surrogate's own input space, the encoder's standardised
space: continuous columns scaled to [0, 1] then z-scored with the offline
statistics; categorical columns as design-bench logits (``V - 1`` per position),
z-scored too. CMA-ES (the ``cma`` package) minimises the negated surrogate:

* **x0**: the encoded best offline design.
* **sigma0**: ``CMAESSettings.sigma0`` (0.5: half an offline standard deviation
  per feature).
* **bounds**: continuous features are box-bounded to the images of the task's
  bounds; logit features are unbounded.
* **popsize / iterations**: ``CMAESSettings.popsize`` (default 256 = K) and
  ``CMAESSettings.iterations`` generations (CMA-ES may stop earlier on its own
  tolerances). Every generation is scored with ONE vectorised surrogate call.
* **seed**: ``seed + 1`` (``cma`` treats 0 as "seed from the clock"); ``cma``
  draws from NumPy's global generator, which it seeds.

**Choosing K candidates**: every design evaluated during the search is decoded
(argmax per categorical position, clamping for continuous columns), re-scored
by the surrogate as the decoded design, and the K distinct decoded designs with
the highest prediction are returned. If the search saw fewer than K distinct
decoded designs (possible on tiny discrete spaces), the list is repeated to K;
``info["distinct"]`` says how many were distinct.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cma
import numpy as np
import torch
from torch import Tensor

from botorch_demo.benchmarks.profiles import CMAESSettings
from botorch_demo.model import DEMO
from botorch_demo.rows import novel_rows
from botorch_demo.surrogate import predict_batched


@dataclass(frozen=True)
class CMAESResult:
    """Output of :func:`cmaes_candidates`.

    Attributes:
        candidates: ``q x d`` raw designs.
        predicted: ``q`` surrogate predictions of the candidates (raw units).
        info: ``iterations``, ``evaluations``, ``distinct`` and ``stop`` (the
            termination reasons reported by ``cma``).
    """

    candidates: Tensor
    predicted: Tensor
    info: dict[str, Any]


def _encoded_bounds(model: DEMO) -> tuple[list[float], list[float]]:
    """Box of the continuous features in the standardised space (logits: free)."""
    enc = model.encoder
    D = enc.encoded_dim
    n_cont = len(enc.cont_idx)
    mean, std = enc.mean.cpu().double(), enc.std.cpu().double()
    lower = [-np.inf] * D
    upper = [np.inf] * D
    for j in range(n_cont):
        lower[j] = float((0.0 - mean[j]) / std[j])
        upper[j] = float((1.0 - mean[j]) / std[j])
    return lower, upper


def cmaes_candidates(model: DEMO, q: int, settings: CMAESSettings, seed: int) -> CMAESResult:
    """Run CMA-ES on a fitted DEMO model's surrogate and return K candidates.

    Args:
        model: A fitted DEMO model (its ``surrogate`` and ``encoder`` are used).
        q: Number of candidates K.
        settings: popsize, iterations and sigma0.
        seed: Seed of the search.

    Returns:
        A :class:`CMAESResult`.
    """
    if not model.is_fitted:
        raise ValueError("cmaes_candidates needs a fitted DEMO model.")
    if q < 1:
        raise ValueError(f"q must be >= 1, got {q}.")
    enc = model.encoder
    param = next(model.surrogate.parameters())
    x0 = enc.encode(model.train_X[model.ranked_rows[:1]])[0].cpu().double().numpy()
    lower, upper = _encoded_bounds(model)
    # Start strictly inside the box (the best design may sit on a bound).
    x0 = np.clip(x0, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    options = {
        "popsize": settings.popsize,
        "maxiter": settings.iterations,
        "seed": int(seed) + 1,
        "bounds": [lower, upper],
        "verbose": -9,
        "verb_log": 0,
        "verb_disp": 0,
    }
    es = cma.CMAEvolutionStrategy(x0, settings.sigma0, options)
    archive: list[np.ndarray] = []
    while not es.stop():
        population = np.asarray(es.ask())
        Z = torch.as_tensor(population, dtype=param.dtype, device=param.device)
        fitness = -predict_batched(model.surrogate, Z).double().cpu().numpy()
        es.tell(list(population), fitness.tolist())
        archive.append(population)
    Z_all = torch.as_tensor(np.concatenate(archive), dtype=enc.mean.dtype, device=enc.mean.device)
    X_all = enc.decode(Z_all).to(model.train_X)
    predicted = model.predict(X_all).squeeze(-1)
    order = torch.argsort(predicted, descending=True, stable=True)
    ranked = order[novel_rows(X_all[order])]
    distinct = int(ranked.numel())
    chosen = ranked[torch.arange(q, device=ranked.device) % distinct]
    info = {
        "iterations": int(es.countiter),
        "evaluations": int(Z_all.shape[0]),
        "distinct": min(distinct, q),
        "stop": sorted(str(k) for k in es.stop()),
    }
    return CMAESResult(X_all[chosen], predicted[chosen], info)
