"""``geodl deploy --model RUN/model.pt --out model.pth [--dtype float64|float32]`` — a
self-contained TorchScript file for ``pair_style geodl`` in LAMMPS (docs/lammps.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="MODEL",
        help="model file written by geodl train (RUN/model.pt)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="output file (model.pth)"
    )
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="precision of the deployed model (float64)",
    )


def run(args: argparse.Namespace) -> int:
    from geodl.deploy import deploy

    try:
        meta = deploy(args.model, args.out, dtype=args.dtype)
    except (ValueError, TypeError, OSError) as exc:
        sys.stderr.write(f"geodl deploy: error: {exc}\n")
        return 2
    species = " ".join(meta["type_map"])
    print(
        f"wrote {meta['path']}: {meta['model_type']} model, {meta['dtype']}, species "
        f"{species}, r_cut {meta['r_cut']:g} A, receptive field {meta['receptive_field']:g} A, "
        f"format {meta['geodl_format_version']}"
    )
    print("LAMMPS input (units metal):")
    print("  pair_style geodl")
    print(f"  pair_coeff * * {meta['path']} {species}   # one element per atom type, or NULL")
    return 0
