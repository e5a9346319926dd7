"""``geodl info --model FILE [--json OUT]`` — what a saved potential is: its family
(``model.type``), species, cutoff and receptive field, dtype, parameter count, reference
energies, output scale, the irreps of each layer (equivariant models) and its config."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        metavar="FILE",
        help="model file written by geodl train (out/model.pt)",
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="OUT", help="also write the details as JSON"
    )


def format_info(info: dict[str, Any]) -> str:
    """Plain-text listing of :meth:`AtomisticModel.describe`."""
    lines = [
        f"model type        {info['type']}",
        f"species           {', '.join(info['type_map'])}",
        f"cutoff            {info['r_cut']:g} Å",
        f"receptive field   {info['receptive_field']:g} Å"
        + (
            f" ({info['receptive_field'] / info['r_cut']:g} message-passing layers x r_cut)"
            if info["receptive_field"] != info["r_cut"]
            else " (= r_cut: a local model)"
        ),
        f"dtype             {info['dtype']}",
        f"parameters        {info['parameters']}",
        "reference energies "
        + ", ".join(f"{k} {v:.6g}" for k, v in info["energy_shift"].items())
        + " eV",
        f"output scale      {info['energy_scale']:.6g}",
    ]
    for t, irreps in enumerate(info.get("irreps_per_layer", [])):
        lines.append(f"layer {t + 1} irreps    {irreps}")
    if "avg_num_neighbors" in info:
        lines.append(f"avg. neighbours   {info['avg_num_neighbors']:.4g}")
    lines.append("config            " + json.dumps(info["config"]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from geodl.atoms import load_model

    try:
        if not args.model.is_file():
            raise ValueError(
                f"--model: no such file {str(args.model)!r}; pass out/model.pt of a geodl "
                "train run."
            )
        info = load_model(args.model).describe()
    except (ValueError, TypeError, OSError) as exc:
        sys.stderr.write(f"geodl info: error: {exc}\n")
        return 2
    print(f"model file        {args.model}")
    print(format_info(info))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(info, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0
