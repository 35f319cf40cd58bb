"""Wall-clock seconds per DEMO phase and achieved training throughput.

Run ``python -m botorch_demo.benchmarks.speed`` (``--help`` for options). It
prints, for a preset (``fast`` by default):

* the machine's measured fp32 matmul peak (a 2048^3 GEMM loop);
* per-phase seconds (surrogate, gradient ascent, diffusion training, editing)
  on an 8,000 x 60 continuous set (rows of the Inverse Levy task) and on the
  8-token, 4-category TF Bind 8 set;
* the achieved GFLOP/s of the surrogate and diffusion training loops (matmul
  FLOPs of forward and backward passes), against the peak.
"""

from __future__ import annotations

import argparse
import time

import torch

from botorch_demo.config import PRESETS, DEMOConfig
from botorch_demo.model import DEMO
from botorch_demo.networks import count_matmul_flops
from botorch_demo.runtime import set_threads
from botorch_demo.tasks import load_task


def matmul_peak_gflops(n: int = 2048, repeats: int = 20) -> float:
    """Measured fp32 GEMM throughput of this machine in GFLOP/s.

    Args:
        n: Matrix size.
        repeats: Timed multiplications (after 3 warm-up ones).

    Returns:
        ``2 n^3 repeats / seconds / 1e9``.
    """
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    tic = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - tic) / 1e9


def _datasets(n_continuous: int, seed: int) -> dict[str, tuple]:
    levy = load_task("levy")
    gen = torch.Generator().manual_seed(seed)
    rows = torch.randperm(levy.train_X.shape[0], generator=gen)[:n_continuous]
    tf8 = load_task("tfbind8")
    return {
        f"continuous {n_continuous} x 60 (Levy rows)": (
            levy.train_X[rows],
            levy.train_Y[rows],
            levy.bounds,
            None,
        ),
        f"categorical {tf8.train_X.shape[0]} x 8, 4 categories (TF Bind 8)": (
            tf8.train_X,
            tf8.train_Y,
            tf8.bounds,
            tf8.categorical_features,
        ),
    }


def time_pipeline(
    X: torch.Tensor,
    Y: torch.Tensor,
    bounds: torch.Tensor,
    cats: dict[int, int] | None,
    config: DEMOConfig,
    q: int = 256,
    seed: int = 0,
) -> dict[str, float]:
    """Fit DEMO and generate ``q`` candidates, timing each phase.

    Args:
        X: ``n x d`` offline designs.
        Y: ``n x 1`` scores.
        bounds: ``2 x d`` bounds.
        cats: Categorical layout or ``None``.
        config: DEMO configuration.
        q: Candidates to generate.
        seed: Seed.

    Returns:
        Seconds per phase (``surrogate``, ``ascent``, ``diffusion``,
        ``editing``, ``total``) and training GFLOP/s (``surrogate_gflops``,
        ``diffusion_gflops``).
    """
    model = DEMO(config).fit(X, Y, bounds, cats, seed=seed)
    tic = time.perf_counter()
    model.generate(q, seed=seed)
    out = dict(model.fit_seconds)
    out["editing"] = time.perf_counter() - tic
    out["total"] = sum(out.values())
    for phase, net in (("surrogate", model.surrogate), ("diffusion", model.score_net.net)):
        stats = model.fit_stats.get(phase)
        if stats is not None and stats.seconds > 0:
            out[f"{phase}_gflops"] = count_matmul_flops(net, stats.samples) / stats.seconds / 1e9
    return out


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="fast")
    parser.add_argument("--n-continuous", type=int, default=8000)
    parser.add_argument("--q", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    if args.threads:
        set_threads(args.threads)
    config = DEMOConfig.preset(args.preset, progress=False)
    peak = matmul_peak_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, preset '{args.preset}'")
    print(f"measured fp32 matmul peak: {peak:.0f} GFLOP/s")
    for name, (X, Y, bounds, cats) in _datasets(args.n_continuous, args.seed).items():
        r = time_pipeline(X, Y, bounds, cats, config, q=args.q, seed=args.seed)
        print(f"\n{name}, K = {args.q}")
        for phase in ("surrogate", "ascent", "diffusion", "editing", "total"):
            print(f"  {phase:<10} {r[phase]:8.1f} s")
        for phase in ("surrogate", "diffusion"):
            if f"{phase}_gflops" in r:
                gf = r[f"{phase}_gflops"]
                print(f"  {phase} training: {gf:.0f} GFLOP/s ({100 * gf / peak:.0f}% of peak)")


if __name__ == "__main__":
    main()
