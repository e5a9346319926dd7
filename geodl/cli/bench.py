"""``geodl bench NAME [--seed S] [--json FILE] [--quick] [--set key=value ...]``."""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path
from typing import Any

from geodl.bench import BENCHMARKS
from geodl.cli.check import write_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help="benchmark: " + ", ".join(sorted(BENCHMARKS)),
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="write the results as JSON to FILE"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small, fast version (for smoke tests)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="benchmark-specific option, e.g. --set epochs=10 (repeatable)",
    )
    # options of the benchmarks that train on the user's files (potential-compare)
    parser.add_argument("--data", default=None, metavar="TRAIN", help="training file")
    parser.add_argument("--test", default=None, metavar="TEST", help="test file")
    parser.add_argument("--max-time", type=float, default=None, metavar="S", help="seconds")
    parser.add_argument("--models", default=None, metavar="A,B", help="model types")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["a=1", "b=x"]`` into ``{"a": 1, "b": "x"}`` (values parsed as JSON)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects KEY=VALUE (e.g. --set epochs=10), got {pair!r}.")
        options[key.strip().replace("-", "_")] = _parse_value(value)
    return options


def format_table(result: dict[str, Any]) -> str:
    """Plain-text table of ``result["results"]``: one row per model, one column per metric."""
    rows = result.get("results", {})
    columns: list[str] = []
    for metrics in rows.values():
        for key, value in metrics.items():
            if key not in columns and isinstance(value, (int, float, str, bool)):
                columns.append(key)

    def fmt(v: Any) -> str:
        if isinstance(v, bool) or v is None:
            return str(v)
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    header = ["model", *columns]
    body = [[name, *(fmt(m.get(c, "")) for c in columns)] for name, m in rows.items()]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]
    lines = [f"task: {result.get('task')}   seed: {result.get('seed')}"]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def _check_options(name: str, func: Any, options: dict[str, Any]) -> None:
    """Reject ``--set`` keys the benchmark's ``run`` does not take (unless it takes **kw)."""
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return  # the benchmark validates its own options
    valid = [k for k in params if k not in ("seed", "quick")]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown option(s) for benchmark {name!r}: {', '.join(unknown)}. "
            f"Valid options: {', '.join(valid) or '(none)'}."
        )


def run(args: argparse.Namespace) -> int:
    from geodl.bench import resolve_benchmark

    try:
        options = parse_options(args.set)
        for key in ("data", "test", "max_time", "models"):
            if getattr(args, key, None) is not None:
                options[key] = getattr(args, key)
        func = resolve_benchmark(args.name)
        _check_options(args.name, func, options)
        result = func(seed=args.seed, quick=args.quick, **options)
    except ValueError as exc:  # bad names or option values; other errors are bugs
        sys.stderr.write(f"geodl bench: error: {exc}\n")
        return 2
    print(format_table(result))
    if args.json is not None:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0
