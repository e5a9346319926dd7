"""Shared command-line handling of the dataset recipes (not part of the geodl package)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the shipped files are package data (datasets/*.extxyz.gz link there)
BUNDLED = HERE.parent / "geodl" / "atoms" / "data" / "bundled"


def main(
    description: str, default_out: str, default_n: int, make: Callable[[int, int], list]
) -> None:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--n",
        type=int,
        default=default_n,
        help=f"number of structures (default {default_n}: the shipped file)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--out",
        type=Path,
        default=BUNDLED / default_out,
        help=f"output file, any ASE format (default geodl/atoms/data/bundled/{default_out})",
    )
    args = parser.parse_args()
    import ase.io

    t0 = time.perf_counter()
    frames = make(args.n, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ase.io.write(args.out, frames, format="extxyz")
    print(f"wrote {len(frames)} structures to {args.out} in {time.perf_counter() - t0:.0f} s")
