"""``geodl bench NAME [--seed S] [--json FILE] [--quick] [--set key=value ...]``.

Exit codes: 0 the benchmark ran, 2 an unknown name, option or value.
``--task``, ``--sizes``, ``--seeds`` and ``--plot`` are shorthands for ``--set task=...``
etc. (``geodl bench symmetry-curve`` takes them; other benchmarks reject them).
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geodl.bench import BENCHMARKS
from geodl.cli._common import (
    EXIT_OK,
    add_checked,
    add_json_option,
    add_seed_option,
    check_threads,
    parse_set_options,
    positive_float,
    write_json,
)
from geodl.errors import InputError

#: ``parse_options(["a=1"]) == {"a": 1}`` (the ``--set`` parser, kept under its old name)
parse_options = parse_set_options


def _source(value: Any, option: str) -> str:
    """A data source: an existing file or folder, or ``bundled:NAME`` (checked here)."""
    from geodl.atoms.data import resolve_source

    path = resolve_source(str(value))  # raises for an unknown bundled name, listing them
    if not path.exists():
        raise InputError(
            f"{option}: no such file or folder {str(value)!r}; give labelled structures "
            "(extxyz, a DeePMD folder, ...) or bundled:NAME."
        )
    return str(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help="benchmark: " + ", ".join(sorted(BENCHMARKS)),
    )
    add_seed_option(parser, "random seed (default 0)")
    add_json_option(parser, "write the results as JSON to FILE")
    parser.add_argument(
        "--quick", action="store_true", help="a small, fast version (for smoke tests)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="benchmark-specific option, e.g. --set epochs=10 (repeatable); "
        "threads=0 keeps torch's default",
    )
    curve = parser.add_argument_group("learning curves (symmetry-curve)")
    curve.add_argument("--task", default=None, help="task, e.g. molecule, pointcloud, image")
    curve.add_argument(
        "--sizes", type=int, nargs="+", default=None, metavar="N", help="training-set sizes"
    )
    curve.add_argument("--seeds", type=int, default=None, metavar="K", help="seeds per size")
    curve.add_argument(
        "--plot", type=Path, default=None, metavar="PNG", help="write the curves to PNG"
    )
    add_checked(
        parser,
        "--data",
        check=_source,
        default=None,
        metavar="TRAIN",
        help="training data: a file ASE reads, a DeePMD folder or bundled:NAME",
    )
    add_checked(
        parser,
        "--test",
        check=_source,
        default=None,
        metavar="TEST",
        help="held-out test data (same forms as --data)",
    )
    add_checked(
        parser,
        "--max-time",
        type=float,
        check=positive_float,
        default=None,
        metavar="S",
        help="training wall time per model (seconds)",
    )
    parser.add_argument(
        "--models", default=None, metavar="A,B", help="model types, comma-separated"
    )


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


def check_options(name: str, func: Callable[..., Any], options: dict[str, Any]) -> None:
    """Reject ``--set`` keys the benchmark's ``run`` does not take (unless it takes **kw),
    and thread counts that are not integers >= 0."""
    if "threads" in options:
        options["threads"] = check_threads(options["threads"], "--set threads")
    params = inspect.signature(func).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return  # the benchmark validates its own options
    valid = [k for k in params if k not in ("seed", "quick")]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise InputError(
            f"unknown option(s) for benchmark {name!r}: {', '.join(unknown)}. "
            f"Valid options: {', '.join(valid) or '(none)'}."
        )


def run(args: argparse.Namespace) -> int:
    from geodl.bench import resolve_benchmark

    options = parse_set_options(args.set)
    for key in ("task", "sizes", "seeds", "plot", "data", "test", "max_time", "models"):
        value = getattr(args, key, None)
        if value is not None:
            options[key] = str(value) if isinstance(value, Path) else value
    func = resolve_benchmark(args.name)
    check_options(args.name, func, options)
    result = func(seed=args.seed, quick=args.quick, **options)
    print(format_table(result))
    if result.get("plot"):
        print(f"wrote {result['plot']}")
    if args.json is not None:
        write_json(args.json, result)
        print(f"wrote {args.json}")
    return EXIT_OK
