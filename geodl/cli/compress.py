"""``geodl compress --model RUN/model.pt --out FILE [--tolerance T] [--r-min Å] [--data FILE]
[--json FILE]`` — tabulate the embedding of an ``se_e2_a`` model (quintic table on a
uniform grid, refined until it matches the network within ``--tolerance``) and write a
compressed model file that ``GeoDLCalculator``, ``geodl test`` and ``geodl deploy``
accept. Prints the grid, the table's error bound and the measured energy and force
differences against the uncompressed model (float64 and the model's own dtype) on
``--data`` or on generated structures at the training density."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geodl.cli._common import (
    EXIT_OK,
    add_checked,
    add_json_option,
    add_model_option,
    check_output_file,
    positive_float,
    positive_int,
    write_json,
)
from geodl.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser, "se_e2_a model file written by geodl train (RUN/model.pt)")
    add_checked(
        parser,
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="compressed model file to write",
        check=check_output_file,
    )
    add_checked(
        parser,
        "--tolerance",
        type=float,
        default=1e-5,
        metavar="T",
        check=positive_float,
        help="bound on the table's deviation from the embedding network, value and d/ds "
        "(default 1e-5)",
    )
    add_checked(
        parser,
        "--r-min",
        type=float,
        default=None,
        metavar="ANGSTROM",
        check=positive_float,
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
    add_checked(
        parser,
        "--max-structures",
        type=int,
        default=8,
        metavar="N",
        check=positive_int,
        help="measure on at most N structures of --data (default 8)",
    )
    add_json_option(parser, "also write the report as JSON to FILE")


def run(args: argparse.Namespace) -> int:
    import ase.io
    import torch

    from geodl.atoms import compress_model, compression_errors, load_model, save_model
    from geodl.atoms.model import probe_structures
    from geodl.geometry import kernel_status

    try:
        model = load_model(args.model)
    except InputError as exc:
        raise InputError(f"--model: {exc}") from exc
    compressed, record = compress_model(model, tolerance=args.tolerance, r_min=args.r_min)
    if args.data is not None:
        structures = _read(ase.io, args.data, args.max_structures)
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_model(compressed, args.out)
    _print_report(args, compressed, record, errors, source, kernel_status()["se_a_table"])
    if args.json is not None:
        report = {"model": str(args.model), "out": str(args.out), "compression": record}
        report["errors"] = errors
        write_json(args.json, report)
        print(f"wrote {args.json}")
    return EXIT_OK


def _read(io: Any, path: Path, count: int) -> list[Any]:
    try:
        return list(io.read(path, index=f":{count}"))
    except (OSError, ValueError, StopIteration) as exc:
        raise InputError(f"--data: cannot read {str(path)!r} ({exc}).") from exc


def _print_report(
    args: argparse.Namespace,
    compressed: Any,
    record: dict[str, Any],
    errors: dict[str, dict[str, float]],
    source: str,
    kernel: str,
) -> None:
    table = compressed.descriptor.table
    print(f"compressed {args.model} -> {args.out}")
    print(
        f"table: {tuple(table.shape)} ({table.numel() * table.element_size() / 2**20:.1f} MiB, "
        f"{str(table.dtype).replace('torch.', '')}); s in [0, {record['s_max']:.4g}] "
        f"(r >= {record['r_min']:.3g} Å), {record['intervals']} intervals; kernel: {kernel}"
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
