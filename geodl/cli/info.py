"""``geodl info --model FILE [--json OUT]`` — what a saved potential is: its family
(``model.type``), species, cutoff and receptive field, dtype, parameter count, reference
energies, output scale, the irreps of each layer (equivariant models) and its config.

Exit codes: 0 described, 2 a missing or unreadable model file, a bad option."""

from __future__ import annotations

import argparse
import json
from typing import Any

from geodl.cli._common import (
    EXIT_OK,
    add_json_option,
    add_model_option,
    write_json,
)
from geodl.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser)
    add_json_option(parser, "also write the details as JSON to FILE")


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
        model = load_model(args.model)
    except InputError as exc:
        raise InputError(f"--model: {exc}") from exc
    info = model.describe()
    print(f"model file        {args.model}")
    print(format_info(info))
    if args.json is not None:
        write_json(args.json, info)
        print(f"wrote {args.json}")
    return EXIT_OK
