"""``geodl label --data IN --reference NAME --out OUT.extxyz [--workers K] [--set KEY=VALUE
...]`` — reference energies, forces and (periodic frames) stress of every frame, written
as extended XYZ with the keys ``geodl train`` reads.

References: ``emt``, ``lj``, ``mmff94``, ``gfn2-xtb``, ``gfn1-xtb``,
``pyscf:<functional>/<basis>`` and ``<module>:<factory>`` (any ASE calculator). ``--set``
passes options to the reference (``--set accuracy=0.1`` for xTB). Frames the reference
fails on are listed with the reason in ``OUT.failures.json``; a killed run resumes from
``OUT.journal``.

Exit codes: 0 done, 1 no frame could be labelled, 2 bad input (an unknown reference or
option, a missing file or extra), 3 the user's factory raised.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geodl.cli._common import (
    EXIT_BROKEN,
    EXIT_OK,
    add_checked,
    check_output_file,
    positive_int,
)
from geodl.errors import InputError

REFERENCE_HELP = (
    "emt, lj, mmff94, gfn2-xtb, gfn1-xtb, pyscf:<functional>/<basis> (e.g. pyscf:pbe/def2-svp) "
    "or <module>:<factory> returning an ASE calculator"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        required=True,
        metavar="IN",
        help="frames: any ASE-readable file, a DeePMD folder, a dpdata file or bundled:NAME",
    )
    parser.add_argument("--reference", required=True, metavar="NAME", help=REFERENCE_HELP)
    add_checked(
        parser,
        "--out",
        type=Path,
        required=True,
        metavar="OUT.extxyz",
        help="labelled frames (and OUT.failures.json)",
        check=check_output_file,
    )
    add_checked(
        parser,
        "--workers",
        type=int,
        default=1,
        metavar="K",
        help="processes labelling in parallel (1)",
        check=positive_int,
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option of the reference calculator, e.g. --set max_iterations=500 (repeatable)",
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar with frames/s and ETA (default: on a terminal)",
    )


def parse_options(pairs: list[str], prefix: str = "reference.") -> dict[str, Any]:
    """``["accuracy=0.1"]`` -> ``{"accuracy": 0.1}`` (values parsed as YAML; a leading
    ``reference.`` is dropped).

    Examples
    --------
    >>> parse_options(["accuracy=0.1", "reference.guess=eeq"])
    {'accuracy': 0.1, 'guess': 'eeq'}
    """
    import yaml

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--set expects KEY=VALUE (e.g. --set accuracy=0.1), got {pair!r}.")
        key = key[len(prefix) :] if key.startswith(prefix) else key
        try:
            options[key] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            options[key] = text
    return options


def run(args: argparse.Namespace) -> int:
    from geodl.atoms.explore import label_structures

    report = label_structures(
        args.data,
        args.reference,
        args.out,
        workers=args.workers,
        options=parse_options(args.set),
        progress=args.progress,
    )
    if report.n_failed:
        print(f"{report.n_failed} frame(s) failed; reasons in {report.failures_path}")
        for f in report.failures[:5]:
            print(f"  frame {f['index']} ({f['formula']}): {f['reason']}")
    return EXIT_BROKEN if report.n_labelled == 0 else EXIT_OK
