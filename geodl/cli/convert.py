"""``geodl convert IN OUT [--from FMT] [--to FMT] [--index SLICE]`` — convert labelled
structures between extxyz (any ASE format), DeePMD-kit system folders (``deepmd/npy``,
``deepmd/raw``; one system per composition under OUT) and every format dpdata reads.
Units and the stress/virial sign are handled (:math:`\\sigma = -W/V`).

Exit codes: 0 converted, 2 an unknown format, an unreadable input, a missing extra."""

from __future__ import annotations

import argparse
from pathlib import Path

from geodl.cli._common import EXIT_OK
from geodl.errors import InputError, MissingExtraError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="IN", help="file, DeePMD folder or bundled:NAME")
    parser.add_argument("dest", type=Path, metavar="OUT", help="file or folder to write")
    parser.add_argument(
        "--from",
        dest="from_fmt",
        default="auto",
        metavar="FMT",
        help="format of IN (auto; extxyz, deepmd/npy, deepmd/raw, ase:FORMAT, vasp/outcar, ...)",
    )
    parser.add_argument(
        "--to",
        dest="to_fmt",
        default="auto",
        metavar="FMT",
        help="format of OUT (auto: deepmd/npy for a path without suffix, else from the suffix)",
    )
    parser.add_argument(
        "--index", default=":", metavar="SLICE", help="frames of IN to convert (ASE syntax, ':')"
    )


def run(args: argparse.Namespace) -> int:
    from geodl.atoms.data import convert

    try:
        n = convert(args.source, args.dest, args.from_fmt, args.to_fmt, args.index)
    except ImportError as exc:  # a reader's optional dependency: the user's to install
        if isinstance(exc, MissingExtraError):
            raise
        raise InputError(f"{type(exc).__name__}: {exc}") from exc
    print(f"wrote {n} structures to {args.dest}")
    return EXIT_OK
