"""Command-line interface: one module per subcommand, registered in :mod:`geodl.cli.main`."""

from geodl.cli.main import SUBCOMMANDS, build_parser, main

__all__ = ["SUBCOMMANDS", "build_parser", "main"]
