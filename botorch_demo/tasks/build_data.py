"""Build the compact TF Bind 8 file shipped in ``botorch_demo/data/tfbind8.npz``.

The file holds design-bench's full TF Bind 8 (SIX6_REF_R1) dataset, 65,792 rows:
``x`` as uint8 tokens (``65792 x 8``) and ``y`` as float32 scores (``65792 x 1``),
in design-bench's row order. It is built from a design-bench data folder, one
holding ``tf_bind_8-SIX6_REF_R1/tf_bind_8-{x,y}-0.npy`` (int32 tokens 0..3 for
A, C, G, T and float32 scores; see ``docs/tasks.md``), with::

    python -m botorch_demo.tasks.build_data \\
        <design_bench_data folder> botorch_demo/data/tfbind8.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from botorch_demo.tasks.design_bench_io import read_design_bench_folder
from botorch_demo.tasks.registry import get_spec


def build_tfbind8_npz(design_bench_dir: str | Path, out_path: str | Path) -> Path:
    """Write the compact TF Bind 8 file from a design-bench data folder.

    Args:
        design_bench_dir: Folder holding ``tf_bind_8-SIX6_REF_R1/tf_bind_8-*.npy``.
        out_path: Where to write the ``.npz``.

    Returns:
        The path written.

    Raises:
        ValueError: If the tokens are not in ``0..3`` or the shapes are unexpected.
    """
    spec = get_spec("tfbind8")
    assert spec.folder is not None and spec.num_categories is not None
    x, y = read_design_bench_folder(Path(design_bench_dir) / spec.folder, spec.prefix)
    if x.ndim != 2 or x.shape[1] != spec.dim:
        raise ValueError(f"Expected n x {spec.dim} tokens, got {x.shape}.")
    if x.min() < 0 or x.max() >= spec.num_categories:
        raise ValueError("TF Bind 8 tokens must be in 0..3.")
    out_path = Path(out_path)
    np.savez_compressed(out_path, x=x.astype(np.uint8), y=y.astype(np.float32))
    return out_path


def main() -> None:
    """Command-line entry point: ``build_data <design_bench_data dir> <out.npz>``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("design_bench_dir", type=Path)
    parser.add_argument("out_path", type=Path)
    args = parser.parse_args()
    print(build_tfbind8_npz(args.design_bench_dir, args.out_path))


if __name__ == "__main__":
    main()
