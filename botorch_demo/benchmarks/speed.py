"""Wall-clock seconds per DEMO phase and achieved throughput against the peak.

Run ``python -m botorch_demo.benchmarks.speed`` (``--help`` for options). It
prints, for a preset (``fast`` by default):

* the machine's measured matmul peak in float32 and in bfloat16 (a 2048^3 GEMM
  loop each), and whether bfloat16 is native here
  (:func:`botorch_demo.runtime.native_bf16`);
* per-phase seconds (surrogate, gradient ascent, diffusion training, editing)
  on three workloads: an 8,000 x 60 continuous set (rows of the Inverse Levy
  task), TF Bind 8 (32,898 x 8, four letters) and a protein-like set (10,000
  sequences of 40 letters of 20, scored by a pairwise model);
* the achieved GFLOP/s of the surrogate training, the ascent and the diffusion
  training (matmul FLOPs of their forward and backward passes), against the
  peak of the arithmetic they ran in, and the seconds their matmuls would take
  at that peak: a lower bound on what any implementation of the same work
  could reach on this machine.

``--compile-check`` also times the score network's training loop eagerly and
under ``torch.compile`` on each workload's encoded width, with the compilation's
own seconds, to tell whether compiling pays.

``--set FIELD=VALUE`` replaces preset fields (e.g. ``--set mixed_precision=bf16``
or ``--set ascent_batch_size=16384``), so runs of two settings compare one
change.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from typing import NamedTuple

import torch

from botorch_demo.benchmarks.methods import parse_method_name
from botorch_demo.config import PRESETS, DEMOConfig
from botorch_demo.encoding import DesignEncoder
from botorch_demo.model import DEMO
from botorch_demo.networks import configured_mlp, count_matmul_flops
from botorch_demo.rows import n_distinct
from botorch_demo.runtime import native_bf16, set_threads
from botorch_demo.tasks import load_task
from botorch_demo.tasks.pairwise import PairwiseSequenceModel
from botorch_demo.training import train_minibatch

#: The fields ``--set`` may replace.
FIELDS = tuple(f.name for f in dataclasses.fields(DEMOConfig))

#: Phases timed, in the order they run.
PHASES = ("surrogate", "ascent", "diffusion", "editing")


class Workload(NamedTuple):
    """One dataset the pipeline is timed on."""

    X: torch.Tensor
    Y: torch.Tensor
    bounds: torch.Tensor
    categorical_features: dict[int, int] | None


def matmul_peak_gflops(
    n: int = 2048, repeats: int = 20, dtype: torch.dtype = torch.float32
) -> float:
    """Measured GEMM throughput of this machine's CPU in GFLOP/s.

    Args:
        n: Matrix size.
        repeats: Timed multiplications (after 3 warm-up ones).
        dtype: Element type of the matrices.

    Returns:
        ``2 n^3 repeats / seconds / 1e9``.
    """
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    for _ in range(3):
        a @ b
    tic = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - tic) / 1e9


def count_ascent_flops(net: torch.nn.Sequential, n_designs: int, steps: int) -> float:
    """Matmul FLOPs of ``steps`` ascent steps over ``n_designs`` designs.

    Each step is a forward pass and a backward pass for the inputs only (the
    surrogate's weights are frozen): twice the forward FLOPs.
    """
    return 2.0 * count_matmul_flops(net, n_designs * steps, backward=False)


def protein_like(n: int = 10_000, length: int = 40, letters: int = 20, seed: int = 0) -> Workload:
    """``n`` random sequences of ``length`` letters of ``letters``, scored by a
    pairwise model with ``length // 5`` long-range contacts (span at most 8)."""
    model = PairwiseSequenceModel.from_seed(length, letters, length // 5, seed, max_span=8)
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(letters, (n, length), generator=gen)
    bounds = torch.tensor([[0.0], [letters - 1.0]], dtype=torch.float64).expand(2, length)
    return Workload(
        tokens.to(torch.float64),
        model(tokens)[:, None],
        bounds.clone(),
        dict.fromkeys(range(length), letters),
    )


def _levy_rows(n: int, seed: int) -> Workload:
    levy = load_task("levy")
    gen = torch.Generator().manual_seed(seed)
    rows = torch.randperm(levy.train_X.shape[0], generator=gen)[:n]
    return Workload(levy.train_X[rows], levy.train_Y[rows], levy.bounds, None)


def _tfbind8() -> Workload:
    tf8 = load_task("tfbind8")
    return Workload(tf8.train_X, tf8.train_Y, tf8.bounds, tf8.categorical_features)


#: The workloads by ``--workload`` name: a label and a builder ``(size, seed)``.
WORKLOADS: dict[str, tuple[str, Callable[[int | None, int], Workload]]] = {
    "continuous": (
        "continuous {n} x 60 (Levy rows)",
        lambda size, seed: _levy_rows(size or 8000, seed),
    ),
    "tfbind8": ("categorical {n} x 8, 4 letters (TF Bind 8)", lambda size, seed: _tfbind8()),
    "protein": (
        "protein-like {n} x 40, 20 letters",
        lambda size, seed: protein_like(size or 10_000, seed=seed),
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
        ``editing``, ``total``) and GFLOP/s (``surrogate_gflops``,
        ``ascent_gflops``, ``diffusion_gflops``) where the phase ran.
    """
    model = DEMO(config).fit(X, Y, bounds, cats, seed=seed)
    tic = time.perf_counter()
    model.generate(q, seed=seed)
    out = dict(model.fit_seconds)
    out["editing"] = time.perf_counter() - tic
    out["total"] = sum(out[p] for p in PHASES)
    flops = {}
    for phase, net in (("surrogate", model.surrogate), ("diffusion", model.score_net.net)):
        stats = model.fit_stats.get(phase)
        if stats is not None:
            flops[phase] = count_matmul_flops(net, stats.samples)
    if model.synthetic_X is not None:
        flops["ascent"] = count_ascent_flops(model.surrogate, n_distinct(X), config.ascent_steps)
    for phase, f in flops.items():
        if out[phase] > 0:
            out[f"{phase}_gflops"] = f / out[phase] / 1e9
    return out


def time_compile(work: Workload, config: DEMOConfig, epochs: int = 2) -> dict[str, float]:
    """Seconds per epoch of the score network's training loop, eager and compiled.

    The loop is :func:`~botorch_demo.training.train_minibatch` on the score
    network's MLP (``config``'s ``diffusion_*`` fields) at the workload's
    encoded width, regressing random targets, first eagerly and then with the
    network under ``torch.compile``.

    Args:
        work: The workload (its size and encoded width).
        config: Uses the ``diffusion_*`` fields.
        epochs: Timed epochs of each loop, after one warm-up epoch.

    Returns:
        ``eager`` and ``compiled`` seconds per epoch and ``compile`` seconds
        (the compiled loop's first epoch minus an eager one).

    Raises:
        RuntimeError: If ``torch.compile`` fails here (e.g. no C++ compiler).
    """
    encoder = DesignEncoder(work.bounds, work.categorical_features or {}).fit(work.X)
    dim = encoder.encoded_dim
    gen = torch.Generator().manual_seed(0)
    n = work.X.shape[0]
    inputs, targets = torch.randn(n, dim + 3, generator=gen), torch.randn(n, dim, generator=gen)
    out: dict[str, float] = {}
    for mode in ("eager", "compiled"):
        net = configured_mlp(config, "diffusion", dim + 3, dim, generator=gen)
        model = torch.compile(net) if mode == "compiled" else net

        def loss_fn(idx: torch.Tensor, model: torch.nn.Module = model) -> torch.Tensor:
            return (model(inputs[idx]) - targets[idx]).square().mean()

        kw = dict(batch_size=config.diffusion_batch_size, lr=1e-3, progress=False)
        first = train_minibatch(
            loss_fn, net.parameters(), n, epochs=1, generator=gen, device=inputs.device, **kw
        )
        timed = train_minibatch(
            loss_fn, net.parameters(), n, epochs=epochs, generator=gen, device=inputs.device, **kw
        )
        out[mode] = timed.seconds / epochs
        if mode == "compiled":
            out["compile"] = first.seconds - out["eager"]
    return out


def _report(name: str, r: dict[str, float], q: int, peak: float) -> None:
    print(f"\n{name}, K = {q}")
    for phase in (*PHASES, "total"):
        print(f"  {phase:<10} {r[phase]:8.1f} s")
    at_peak = 0.0
    for phase in ("surrogate", "ascent", "diffusion"):
        if f"{phase}_gflops" in r:
            gf = r[f"{phase}_gflops"]
            seconds = r[phase] * gf / peak
            at_peak += seconds
            print(
                f"  {phase:<10} {gf:6.0f} GFLOP/s ({100 * gf / peak:.0f}% of peak; "
                f"{seconds:.1f} s at the peak)"
            )
    print(f"  the three phases' matmuls alone take {at_peak:.1f} s at the measured peak")


def _report_compile(work: Workload, config: DEMOConfig) -> None:
    try:
        c = time_compile(work, config)
    except Exception as err:  # any failure of the compiler stack is the answer
        print(f"  torch.compile unavailable here: {type(err).__name__}: {err}".splitlines()[0])
        return
    gain = c["eager"] - c["compiled"]
    pays = f"pays after {c['compile'] / gain:.0f} epochs" if gain > 0 else "never pays"
    print(
        f"  torch.compile, diffusion loop: eager {c['eager']:.2f} s/epoch, compiled "
        f"{c['compiled']:.2f} s/epoch after {c['compile']:.1f} s of compilation ({pays})"
    )


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="fast")
    parser.add_argument(
        "--workload",
        action="append",
        choices=sorted(WORKLOADS),
        help="workload to time (repeat; default: all three)",
    )
    parser.add_argument(
        "--size", type=int, default=None, help="rows of the continuous and protein workloads"
    )
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument(
        "--compile-check", action="store_true", help="also time torch.compile (see above)"
    )
    parser.add_argument("--q", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args(argv)
    if args.threads:
        set_threads(args.threads)
    unknown = [s.partition("=")[0] for s in args.set if s.partition("=")[0] not in FIELDS]
    if unknown:
        parser.error(f"--set: unknown DEMOConfig field(s) {unknown}")
    try:
        overrides = parse_method_name(f"speed[{','.join(args.set)}]")[1] if args.set else {}
        config = DEMOConfig.preset(args.preset, **{"progress": False, **overrides})
    except (TypeError, ValueError) as err:
        parser.error(str(err))
    native = "native" if native_bf16("cpu") else "emulated"
    peak32 = matmul_peak_gflops()
    # Emulated bfloat16 is so slow that a 2048^3 GEMM takes seconds each.
    peak16 = matmul_peak_gflops(
        n=2048 if native == "native" else 512,
        repeats=20 if native == "native" else 5,
        dtype=torch.bfloat16,
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, preset '{args.preset}'")
    if overrides:
        print(f"fields replaced: {overrides}")
    print(f"measured matmul peak: float32 {peak32:.0f} GFLOP/s, bfloat16 {peak16:.1f} ({native})")
    uses_bf16 = config.mixed_precision == "bf16" or (
        config.mixed_precision == "auto" and native == "native"
    )
    peak = peak16 if uses_bf16 else peak32
    for key in args.workload or list(WORKLOADS):
        label, build = WORKLOADS[key]
        work = build(args.size, args.seed)
        r = time_pipeline(*work, config, q=args.q, seed=args.seed)
        _report(label.format(n=work.X.shape[0]), r, args.q, peak)
        if args.compile_check:
            _report_compile(work, config)


if __name__ == "__main__":
    main()
