"""``geodl audit TARGET --input SPEC [--output REP] [--json FILE]``.

Runs every group that acts on the input kind and prints a table of verdicts (exact /
approximate / broken) with errors. Exit codes: 0 the audit ran (whatever it found),
2 bad usage.
"""

from __future__ import annotations

import argparse
import sys

from geodl.cli.check import (
    UsageError,
    add_common,
    model_failed,
    prepare,
    usage_error,
    write_json,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument(
        "--plain", action="store_true", help="plain-text table (default: rich table on a terminal)"
    )


def run(args: argparse.Namespace) -> int:
    from geodl.symmetry import audit

    try:
        model, spec, _ = prepare(args)
    except (UsageError, ValueError) as exc:
        return usage_error("audit", exc)
    try:
        result = audit(
            model,
            spec,
            args.output,
            samples=args.samples,
            seed=args.seed,
            approx_tol=args.tolerance,
        )
    except (ValueError, TypeError, RuntimeError) as exc:
        return model_failed("audit", "auditing", args, exc)
    if args.plain or not sys.stdout.isatty():
        print(result)
    else:
        result.print()
    if args.json is not None:
        write_json(args.json, result.to_list())
        print(f"wrote {args.json}")
    return 0
