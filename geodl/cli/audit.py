"""``geodl audit TARGET --input SPEC [--output REP] [--json FILE]``.

Runs every group that acts on the input kind and prints a table of verdicts (exact /
approximate / broken) with errors. Exit codes: 0 the audit ran (whatever it found),
2 bad usage.
"""

from __future__ import annotations

import argparse
import sys

from geodl.cli.check import UsageError, add_common, prepare, write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument(
        "--plain", action="store_true", help="plain-text table (default: rich table on a terminal)"
    )


def run(args: argparse.Namespace) -> int:
    from geodl.symmetry import audit

    try:
        model, spec, inputs = prepare(args)
    except (UsageError, ValueError) as exc:
        sys.stderr.write(f"geodl audit: error: {exc}\n")
        return 2
    try:
        result = audit(
            model,
            inputs,
            args.output,
            kind=spec.kind,
            samples=args.samples,
            seed=args.seed,
            approx_tol=args.tolerance,
        )
    except (ValueError, TypeError, RuntimeError) as exc:
        sys.stderr.write(
            f"geodl audit: error: auditing {args.target} on {args.input} failed: "
            f"{type(exc).__name__}: {exc}\nCheck that the model takes one unbatched input "
            "of that SPEC and that --output matches its output.\n"
        )
        return 2
    result.spec = str(spec)
    if args.plain or not sys.stdout.isatty():
        print(result)
    else:
        result.print()
    if args.json is not None:
        write_json(args.json, result.to_list())
        print(f"wrote {args.json}")
    return 0
