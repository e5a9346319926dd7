"""``geodl audit TARGET --input SPEC [--output REP] [--json FILE]``.

Runs every group that acts on the input kind and prints a table of verdicts (exact /
approximate / broken) with errors. Exit codes: 0 the audit ran (whatever it found),
2 bad usage, 3 the user's module, factory or model raised. Shares its options with
``geodl check`` (:func:`geodl.cli.check.add_harness_arguments`).
"""

from __future__ import annotations

import argparse
import sys

from geodl.cli._common import EXIT_OK, write_json
from geodl.cli.check import add_harness_arguments, prepare, run_harness


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_harness_arguments(parser)
    parser.add_argument(
        "--plain", action="store_true", help="plain-text table (default: rich table on a terminal)"
    )


def run(args: argparse.Namespace) -> int:
    from geodl.symmetry import audit

    model, spec, inputs = prepare(args)
    result = run_harness(
        "auditing",
        args,
        model,
        lambda: audit(
            model,
            inputs if args.dtype else spec,
            args.output,
            samples=args.samples,
            seed=args.seed,
            approx_tol=args.tolerance,
            kind=spec.kind,
        ),
    )
    if args.plain or not sys.stdout.isatty():
        print(result)
    else:
        result.print()
    if args.json is not None:
        write_json(args.json, result.to_list())
        print(f"wrote {args.json}")
    return EXIT_OK
