"""Wall-clock seconds of the GP nodes' LogEI prescreen over an enumerated space.

Run ``python -m botorch_demo.benchmarks.prescreen_speed`` (``--help`` for
options). On a sequence task (TF Bind 10 by default: all 4^10 designs) it fits
the GP the ``qei`` campaign strategy fits: a ``MixedSingleTaskGP`` with a
categorical kernel on every position, inputs normalised to the unit cube, on
``--max-points`` observations chosen by the subset policy
(:func:`~botorch_demo.ax.subset.training_subset`). It then prints:

* the prescreen's seconds with BoTorch's ``LogExpectedImprovement``, with
  :mod:`botorch_demo.ax.categorical_posterior` for every design, and with the
  bound of :func:`~botorch_demo.ax.batch_ei.prescreen_top` (variances only
  where LogEI at the prior variance reaches the ``--n-prescreen``-th best); the
  largest difference between the first two's LogEI values, whether all three
  keep the same ``--n-prescreen`` designs, and how many designs the bound
  leaves;
* the seconds of one Kriging-believer batch of ``--q`` designs
  (:func:`~botorch_demo.ax.batch_ei.kriging_believer_batch`) with BoTorch's
  LogEI and with the bounded prescreen (its default).
"""

from __future__ import annotations

import argparse
import time

import torch
from botorch.fit import fit_gpytorch_mll
from botorch.models import MixedSingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood

from botorch_demo.ax.batch_ei import (
    kriging_believer_batch,
    log_ei_upper_bound,
    prescreen_log_ei,
    prescreen_top,
)
from botorch_demo.ax.categorical_posterior import categorical_posterior
from botorch_demo.ax.subset import training_subset
from botorch_demo.neighbours import design_grid
from botorch_demo.rows import rows_in
from botorch_demo.tasks import load_task


def categorical_gp(X: torch.Tensor, Y: torch.Tensor, letters: int) -> MixedSingleTaskGP:
    """The GP the ``qei`` strategy fits on a space of unordered choices, fitted."""
    d = X.shape[-1]
    bounds = torch.stack([torch.zeros(d), torch.full((d,), float(letters - 1))]).to(X)
    gp = MixedSingleTaskGP(
        X,
        Y,
        cat_dims=list(range(d)),
        input_transform=Normalize(d, bounds=bounds),
        outcome_transform=Standardize(m=1),
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(gp.likelihood, gp))
    return gp.eval()


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="tfbind10", help="a sequence task (default tfbind10)")
    parser.add_argument("--max-points", type=int, default=500, help="GP training points")
    parser.add_argument("--n-prescreen", type=int, default=1024, help="designs kept")
    parser.add_argument("--q", type=int, default=16, help="Kriging-believer batch size")
    parser.add_argument("--max-designs", type=int, default=2**20, help="largest space to enumerate")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subset")
    args = parser.parse_args(argv)
    for name in ("max_points", "n_prescreen", "q", "max_designs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    task = load_task(args.task)
    letters = set(task.categorical_features.values())
    if len(task.categorical_features) != task.dim or len(letters) != 1:
        parser.error(f"{args.task} is not a sequence task (one alphabet at every position)")
    (letters,) = letters
    X, Y = task.train_X.to(torch.float64), task.train_Y.to(torch.float64)
    keep = training_subset(Y, 1.0, args.max_points, args.max_points // 2, seed=args.seed)
    gp, fit_s = _timed(lambda: categorical_gp(X[keep], Y[keep], letters))
    choices = [torch.arange(letters, dtype=torch.float64)] * task.dim
    grid = design_grid(choices, args.max_designs)
    if grid is None:
        parser.error(f"{args.task} has more than --max-designs {args.max_designs} designs")
    candidates = grid[~rows_in(grid, X)]
    best_f = float(Y[keep].max())
    print(
        f"{args.task}: {candidates.shape[0]:,} unobserved designs, GP on {keep.numel()} "
        f"points (fit {fit_s:.1f} s), {torch.get_num_threads()} torch thread(s)"
    )
    # An untimed pass of each path first, so neither timing carries first-call costs.
    for categorical in (False, True):
        prescreen_log_ei(gp, candidates[:8192], best_f, 1.0, categorical)
    results = {}
    for label, categorical in (("BoTorch LogEI", False), ("categorical GEMM", True)):
        values, seconds = _timed(
            lambda c=categorical: prescreen_log_ei(gp, candidates, best_f, 1.0, c)
        )
        results[label] = values
        print(f"  prescreen, {label:16s} {seconds:7.1f} s")
    slow, fast = results.values()
    top = args.n_prescreen
    bounded, seconds = _timed(lambda: prescreen_top(gp, candidates, top, best_f, 1.0))
    print(f"  prescreen, {'bounded':16s} {seconds:7.1f} s")
    kept = [set(v.argsort(descending=True)[:top].tolist()) for v in (slow, fast)]
    same = kept[0] == kept[1] == set(bounded.tolist())
    print(
        f"  largest LogEI difference {float((slow - fast).abs().max()):.2e}; same top {top}: {same}"
    )
    predictor = categorical_posterior(gp)
    bound = log_ei_upper_bound(predictor, predictor.mean(candidates), best_f)
    reach = int((bound >= fast.topk(top).values[-1]).sum())
    print(
        f"  designs whose bound reaches the {top}-th best LogEI: {reach:,} "
        f"({100.0 * reach / candidates.shape[0]:.1f}%)"
    )
    batches = []
    for label, categorical in (("BoTorch LogEI", False), ("bounded", True)):
        order, seconds = _timed(
            lambda c=categorical: kriging_believer_batch(
                gp, candidates, args.q, best_f, 1.0, args.n_prescreen, categorical=c
            )
        )
        batches.append(order)
        print(f"  believer batch of {args.q}, {label:16s} {seconds:7.1f} s")
    print(f"  same batch: {torch.equal(*batches)}")


if __name__ == "__main__":
    main()
