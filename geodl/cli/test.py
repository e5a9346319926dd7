"""``geodl test --model MODEL --data FILE [--json FILE]`` — errors of a trained potential
on labelled structures: energy MAE/RMSE per atom (eV/atom), force MAE/RMSE (eV/Å), stress
RMSE (eV/Å³) where the data carry stress, number of structures.

Exit codes: 0 the metrics were computed, 2 a missing or unreadable model or data file, a
bad option."""

from __future__ import annotations

import argparse
from pathlib import Path

from geodl.cli._common import (
    EXIT_OK,
    add_checked,
    add_json_option,
    add_model_option,
    positive_int,
    write_json,
)
from geodl.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser)
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="FILE",
        help="labelled structures: any ASE-readable file, a DeePMD folder, a dpdata file "
        "or bundled:NAME",
    )
    parser.add_argument(
        "--data-format",
        default="auto",
        metavar="FMT",
        help="format of --data (auto; extxyz, deepmd/npy, deepmd/raw, ase:FORMAT, vasp/outcar...)",
    )
    add_json_option(parser, "also write the metrics as JSON to FILE")
    parser.add_argument("--energy-key", default="energy", help="energy label (energy)")
    parser.add_argument("--forces-key", default="forces", help="forces label (forces)")
    parser.add_argument("--stress-key", default="stress", help="stress label (stress)")
    add_checked(
        parser,
        "--batch-size",
        type=int,
        default=16,
        help="structures per pass (16)",
        check=positive_int,
    )


def run(args: argparse.Namespace) -> int:
    from geodl.atoms import evaluate, format_metrics, load_model, read_structures

    try:
        model = load_model(args.model)
    except InputError as exc:
        raise InputError(f"--model: {exc}") from exc
    data = read_structures(
        args.data,
        energy_key=args.energy_key,
        forces_key=args.forces_key,
        stress_key=args.stress_key,
        fmt=args.data_format,
    )
    data.check_species(model.type_map, what=f"the model {args.model}")
    metrics = evaluate(model, data, batch_size=args.batch_size)
    metrics.pop("n_atoms", None)
    print(f"model {args.model} on {args.data}")
    print(format_metrics(metrics))
    for key, value in metrics.items():
        print(f"{key} = {value:.6g}" if isinstance(value, float) else f"{key} = {value}")
    if args.json is not None:
        write_json(args.json, metrics)
        print(f"wrote {args.json}")
    return EXIT_OK
