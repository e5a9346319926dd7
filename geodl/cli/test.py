"""``geodl test --model MODEL --data FILE [--json FILE]`` — errors of a trained potential
on labelled structures: energy MAE/RMSE per atom (eV/atom), force MAE/RMSE (eV/Å), stress
RMSE (eV/Å³) where the data carry stress, number of structures."""

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
        help="model file written by geodl train (out/model.pt)",
    )
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
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the metrics as JSON to FILE",
    )
    parser.add_argument("--energy-key", default="energy", help="energy label (energy)")
    parser.add_argument("--forces-key", default="forces", help="forces label (forces)")
    parser.add_argument("--stress-key", default="stress", help="stress label (stress)")
    parser.add_argument("--batch-size", type=int, default=16, help="structures per pass (16)")


def run(args: argparse.Namespace) -> int:
    from geodl.atoms import evaluate, format_metrics, load_model, read_structures

    try:
        if args.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}.")
        if not args.model.is_file():
            raise ValueError(
                f"--model: no such file {str(args.model)!r}; pass out/model.pt "
                "of a geodl train run."
            )
        model = load_model(args.model)
        data = read_structures(
            args.data,
            energy_key=args.energy_key,
            forces_key=args.forces_key,
            stress_key=args.stress_key,
            fmt=args.data_format,
        )
        data.check_species(model.type_map, what=f"the model {args.model}")
        metrics = evaluate(model, data, batch_size=args.batch_size)
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"geodl test: error: {exc}\n")
        return 2
    metrics.pop("n_atoms", None)
    print(f"model {args.model} on {args.data}")
    print(format_metrics(metrics))
    for key, value in metrics.items():
        print(f"{key} = {value:.6g}" if isinstance(value, float) else f"{key} = {value}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(metrics, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
