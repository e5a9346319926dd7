"""``geodl deploy --model RUN/model.pt --out model.pth [--dtype float64|float32]`` — a
self-contained TorchScript file for ``pair_style geodl`` in LAMMPS (docs/lammps.md).

Exit codes: 0 written, 2 a missing or unreadable model file, an unwritable output, a bad
option."""

from __future__ import annotations

import argparse
from pathlib import Path

from geodl.cli._common import (
    EXIT_OK,
    add_checked,
    add_model_option,
    check_output_file,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser)
    add_checked(
        parser,
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="output file (model.pth)",
        check=check_output_file,
    )
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="precision of the deployed model (float64)",
    )


def run(args: argparse.Namespace) -> int:
    from geodl.deploy import deploy

    meta = deploy(args.model, args.out, dtype=args.dtype)
    species = " ".join(meta["type_map"])
    print(
        f"wrote {meta['path']}: {meta['model_type']} model, {meta['dtype']}, species "
        f"{species}, r_cut {meta['r_cut']:g} A, receptive field {meta['receptive_field']:g} A, "
        f"format {meta['geodl_format_version']}"
    )
    print("LAMMPS input (units metal):")
    if meta.get("mp_layers"):
        print(
            f"  pair_style geodl   # {meta['mp_layers']} message-passing layers: node features "
            "exchanged between layers ('pair_style geodl shell': one ghost shell instead)"
        )
    else:
        print("  pair_style geodl")
    print(f"  pair_coeff * * {meta['path']} {species}   # one element per atom type, or NULL")
    return EXIT_OK
