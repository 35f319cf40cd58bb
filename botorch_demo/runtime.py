"""Where work runs: torch threads and devices, decided in one place.

Torch's default is one thread per core of the machine, counting cores outside
the process's CPU affinity and cores that other processes keep busy; on a
loaded machine its threads then wait on each other. Measured on 2 cores shared
with other jobs (load average about 9.7), TF Bind 8's surrogate phase (``fast``
preset, 5 epochs) took 15.8 s on 1 thread and 138.2 s on 2. So a command-line
run takes the idle cores (:func:`idle_threads`), parallel workers split the
usable cores (:func:`threads_per_worker`), and a SLURM job takes its
allocation (:func:`allocated_threads`).

It also decides the arithmetic: :func:`autocast_dtype` resolves
``DEMOConfig.mixed_precision`` against what the device does natively
(:func:`native_bf16`), and :func:`autocast` opens the matching context.
"""

from __future__ import annotations

import contextlib
import os
import warnings

import torch

from botorch_demo.exceptions import EmulatedPrecisionWarning

#: Device types a run may name.
DEVICE_TYPES = ("cpu", "cuda", "mps")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def idle_threads(cores: int | None = None, load: float | None = None) -> int:
    """Torch threads for a run of its own: the usable cores that are idle now.

    Args:
        cores: Usable cores (default: :func:`usable_cores`).
        load: Load average (default: ``os.getloadavg()[0]``, 0 where unknown).

    Returns:
        ``cores - load`` rounded, between 1 and ``cores``.
    """
    cores = usable_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return max(1, min(cores, round(cores - load)))


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """Torch threads of each of ``workers`` parallel processes: ``max(1, cores // workers)``."""
    cores = usable_cores() if cores is None else cores
    return max(1, cores // max(1, workers))


def allocated_threads(cpus: int | None) -> int | None:
    """Torch threads of a remote job: its CPU allocation (``SLURM_CPUS_PER_TASK`` wins)."""
    slurm = os.environ.get("SLURM_CPUS_PER_TASK")
    if slurm and slurm.isdigit():
        return int(slurm)
    return cpus


def set_threads(threads: int) -> None:
    """Use ``threads`` torch (and OpenMP) threads in this process and its children."""
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)


def resolve_device(
    name: str | torch.device, *, here: bool = True, what: str = "device"
) -> torch.device:
    """Check a device name and return the device.

    Args:
        name: ``"cpu"``, ``"cuda"``, ``"cuda:<i>"``, ``"mps"`` or ``"auto"``
            (``cuda`` when a GPU is visible, else ``cpu``; with Ray or SLURM a job
            sees only the GPUs it was given, so ``"auto"`` follows its allocation).
        here: Also check that the device exists on this machine; ``False`` for
            work that runs elsewhere (only the name is checked).
        what: How messages name the device argument.

    Returns:
        The device.

    Raises:
        ValueError: For a malformed or unsupported name, or (with ``here``) a
            device this machine does not have; the message names it as
            ``what`` (e.g. ``"--device"``).
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    supported = f"use {', '.join(DEVICE_TYPES[:2])}, cuda:<i> or {DEVICE_TYPES[2]}"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"unknown {what} {str(name)!r}; {supported}") from None
    if device.type not in DEVICE_TYPES:
        raise ValueError(f"unsupported {what} {str(name)!r}; {supported}")
    if not here:
        return device
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{what} {str(name)!r}: CUDA is not available on this machine")
        if device.index is not None and device.index >= count:
            raise ValueError(f"{what} {str(name)!r}: only {count} CUDA device(s) here")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{what} {str(name)!r}: MPS is not available on this machine")
    return device


#: Values of ``DEMOConfig.mixed_precision``.
MIXED_PRECISION = ("off", "bf16", "auto")


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices in hardware, checked now.

    CUDA asks the driver (compute capability 8.0 and newer, without emulation);
    a CPU needs the AVX-512 BF16 or AMX instructions, which oneDNN uses for
    bfloat16 matmuls (without them it emulates them, about 100x slower than
    float32 GEMMs on an AVX2 CPU, ``docs/benchmarks.md``). Other devices answer
    ``False``.

    Args:
        device: The device the networks train on.

    Returns:
        Whether bfloat16 matmuls run natively there.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        cpu = torch.cpu
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)
    return False


def autocast_dtype(mixed_precision: str, device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype of a fit: ``DEMOConfig.mixed_precision`` on ``device``.

    Args:
        mixed_precision: ``"off"`` (float32 arithmetic), ``"bf16"`` (bfloat16
            matmuls, warning with :class:`EmulatedPrecisionWarning` when the
            device lacks them natively) or ``"auto"`` (bfloat16 where
            :func:`native_bf16`, else off).
        device: The device the networks train on.

    Returns:
        ``torch.bfloat16``, or ``None`` for full precision.

    Raises:
        ValueError: For an unknown ``mixed_precision``.
    """
    if mixed_precision not in MIXED_PRECISION:
        raise ValueError(
            f"mixed_precision must be one of {MIXED_PRECISION}, got {mixed_precision!r}."
        )
    if mixed_precision == "off":
        return None
    native = native_bf16(device)
    if mixed_precision == "auto":
        return torch.bfloat16 if native else None
    if not native:
        warnings.warn(
            f"mixed_precision='bf16' on {torch.device(device)}, which has no native bfloat16 "
            "matmuls: they are emulated and slower than float32. Use 'auto' to take bfloat16 "
            "only where the hardware has it.",
            EmulatedPrecisionWarning,
            stacklevel=3,
        )
    return torch.bfloat16


def autocast(
    dtype: torch.dtype | None, device: torch.device | str
) -> contextlib.AbstractContextManager[None]:
    """A context that autocasts to ``dtype`` on ``device`` (a no-op for ``None``).

    Parameters stay in their own dtype (float32 master weights); the matmuls
    of the networks run in ``dtype`` and their gradients flow back in the
    parameters' and inputs' dtypes. The context may be entered again and
    again, so a training loop builds it once.
    """
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)
