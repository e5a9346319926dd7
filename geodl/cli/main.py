"""Entry point of the ``geodl`` console script.

Each subcommand lives in its own module ``geodl.cli.<name>`` (``-`` becomes ``_``) and
defines two functions::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

``run`` returns the process exit code. Modules are imported only when their subcommand
runs, so ``geodl --help`` stays fast. Exit codes: 0 success, 1 a negative result (e.g. a
broken symmetry), 2 bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from geodl import __version__

#: subcommand name -> one-line help. Order is the order shown by ``geodl --help``.
SUBCOMMANDS: dict[str, str] = {
    "check": "check one symmetry of a model (exit 0 holds, 1 broken, 2 bad usage)",
    "audit": "run every symmetry that acts on a kind of input and print a table",
    "train": "train an interatomic potential on ASE-readable data",
    "test": "evaluate a trained potential on labelled structures",
    "info": "describe a saved potential: family, species, cutoff, receptive field, irreps",
    "bench": "run a named benchmark, print a table and write JSON",
    "demo": "geodl's main job on bundled data: train, run MD, audit",
}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors name the valid choices and exit with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.stderr.write(f"Run '{self.prog} --help' for the valid commands and options.\n")
        raise SystemExit(2)


def _module_name(command: str) -> str:
    return "geodl.cli." + command.replace("-", "_")


def build_parser() -> argparse.ArgumentParser:
    """Build the full parser with every registered subcommand."""
    parser = _Parser(
        prog="geodl",
        description="Symmetry-preserving geometric deep learning: check, audit, train, bench.",
    )
    parser.add_argument("--version", action="version", version=f"geodl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
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
    """Run the CLI; returns the exit code (also used by the console script)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if getattr(args, "_missing", None):
        sys.stderr.write(f"geodl: the '{args._missing}' command is not available in this build.\n")
        return 2
    return int(args._run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
