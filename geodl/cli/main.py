"""Entry point of the ``geodl`` console script, and the registry of subcommands.

Each subcommand lives in its own module ``geodl.cli.<name>`` (``-`` becomes ``_``) and
defines two functions::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

Adding a subcommand is that module plus one line in :data:`SUBCOMMANDS`. ``run`` returns
the exit code of a result (0 success, 1 a negative result such as a broken symmetry) and
raises for everything else; :func:`geodl.cli._common.run_command` turns what it raises
into one line on stderr and exit code 2 (usage or input), 3 (the user's code raised) or
4 (a bug in geodl). Modules are imported only when the parser is built, and import heavy
libraries inside ``run``, so ``geodl --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from geodl import __version__
from geodl.cli._common import EXIT_INPUT, add_debug_option, run_checks, run_command

#: subcommand name -> one-line help. Order is the order shown by ``geodl --help``.
SUBCOMMANDS: dict[str, str] = {
    "check": "check one symmetry of a model (exit 0 holds, 1 broken, 2 bad usage, 3 it raised)",
    "audit": "run every symmetry that acts on a kind of input and print a table",
    "train": "train an interatomic potential on ASE-readable data",
    "test": "evaluate a trained potential on labelled structures",
    "info": "describe a saved potential: family, species, cutoff, receptive field, irreps",
    "label": "label structures with a reference calculator (EMT, xTB, PySCF, any ASE calculator)",
    "explore": "active learning: committee, MD, label where the models disagree, retrain",
    "compress": "tabulate a trained se_e2_a model's embedding for fast evaluation",
    "bench": "run a named benchmark, print a table and write JSON",
    "demo": "geodl's main job on bundled data: train, run MD, audit",
    "convert": "convert labelled data between extxyz, DeePMD folders and dpdata formats",
    "deploy": "export a trained potential as TorchScript for LAMMPS (pair_style geodl)",
    "lammps": "build the LAMMPS plugin pair_style geodl for this environment",
}

_EPILOG = (
    "exit codes: 0 success, 1 a symmetry broken or a threshold missed, 2 usage or input "
    "error, 3 your model or code raised, 4 internal error (a bug: rerun with --debug and "
    "report it)"
)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors name the valid choices and exit with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.stderr.write(f"Run '{self.prog} --help' for the valid commands and options.\n")
        raise SystemExit(EXIT_INPUT)


def _module_name(command: str) -> str:
    return "geodl.cli." + command.replace("-", "_")


def build_parser() -> argparse.ArgumentParser:
    """Build the full parser with every registered subcommand."""
    parser = _Parser(
        prog="geodl",
        description="Symmetry-preserving geometric deep learning: check, audit, train, bench.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"geodl {__version__}")
    add_debug_option(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=_EPILOG)
        add_debug_option(p)
        try:
            module = importlib.import_module(_module_name(name))
        except ModuleNotFoundError as exc:
            if exc.name != _module_name(name):
                raise
            p.set_defaults(_missing=name)
            continue
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (also used by the console script).

    Errors in the arguments' syntax (an unknown option, a missing value) exit through
    ``SystemExit(2)`` from argparse; everything after parsing returns its code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    if getattr(args, "_missing", None):
        sys.stderr.write(f"geodl: the '{args._missing}' command is not available in this build.\n")
        return EXIT_INPUT

    def call() -> int:
        run_checks(args)
        return int(args._run(args) or 0)

    return run_command(args.command, call, debug=bool(args.debug))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
