"""``geodl compress --model RUN/model.pt --out FILE [--tolerance T] [--r-min Å] [--data FILE]
[--json FILE]`` — tabulate the embedding of an ``se_e2_a`` model (quintic table on a
uniform grid, refined until it matches the network within ``--tolerance``) and write a
compressed model file that ``GeoDLCalculator``, ``geodl test`` and ``geodl deploy``
accept. Prints the grid, the table's error bound and the measured energy and force
differences against the uncompressed model (float64 and the model's own dtype) on
``--data`` or on generated structures at the training density."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="MODEL",
        help="se_e2_a model file written by geodl train (RUN/model.pt)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="compressed model file to write"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=1e-5,
        metavar="T",
        help="bound on the table's deviation from the embedding network, value and "
        "d/ds (default 1e-5)",
    )
    parser.add_argument(
        "--r-min",
        type=float,
        default=None,
        metavar="ANGSTROM",
        help="shortest distance the table covers (default: the model's min_distance)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="FILE",
        help="structures (ASE-readable) on which to measure the errors (default: "
        "generated cells at the training density)",
    )
    parser.add_argument(
        "--max-structures",
        type=int,
        default=8,
        metavar="N",
        help="measure on at most N structures of --data (default 8)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the report as JSON"
    )


def run(args: argparse.Namespace) -> int:
    import ase.io
    import torch

    from geodl.atoms import compress_model, compression_errors, load_model, save_model
    from geodl.atoms.model import probe_structures
    from geodl.geometry import kernel_status

    try:
        if not args.model.is_file():
            raise ValueError(
                f"--model: no such file {str(args.model)!r}; pass RUN/model.pt of a geodl "
                "train run."
            )
        if args.max_structures < 1:
            raise ValueError(f"--max-structures must be >= 1, got {args.max_structures}.")
        model = load_model(args.model)
        compressed, record = compress_model(model, tolerance=args.tolerance, r_min=args.r_min)
        if args.data is not None:
            structures = ase.io.read(args.data, index=f":{args.max_structures}")
            source = f"{len(structures)} structures of {args.data}"
        else:
            structures = probe_structures(model, count=3)
            source = "3 generated fcc cells (108 atoms) at the training density"
        errors = {
            "float64": compression_errors(model, compressed, structures, torch.float64),
            model.config.dtype: compression_errors(
                model, compressed, structures, model.energy_shift.dtype
            ),
        }
    except (ValueError, TypeError, OSError) as exc:
        sys.stderr.write(f"geodl compress: error: {exc}\n")
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(compressed, args.out)
    table = compressed.descriptor.table
    print(f"compressed {args.model} -> {args.out}")
    print(
        f"table: {tuple(table.shape)} ({table.numel() * table.element_size() / 2**20:.1f} MiB, "
        f"{table.dtype}); s in [0, {record['s_max']:.4g}] (r >= {record['r_min']:.3g} Å), "
        f"{record['intervals']} intervals; kernel: {kernel_status()['se_a_table']}"
    )
    print(
        f"table error bound (measured between nodes): |dG| <= {record['table_error']:.2e}, "
        f"|dG/ds| <= {record['table_derivative_error']:.2e} (tolerance {record['tolerance']:.1e})"
    )
    print(f"error vs the uncompressed model on {source}:")
    for dtype, err in errors.items():
        print(
            f"  {dtype}: energy max |dE|/atom = {err['energy_per_atom_max']:.2e} eV, "
            f"forces max |dF| = {err['force_max']:.2e} eV/Å"
        )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"model": str(args.model), "out": str(args.out), "compression": record}
        report["errors"] = errors
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
