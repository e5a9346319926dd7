"""``geodl check TARGET --group GROUP --input SPEC [--output REP] [--samples N] [--json FILE]``.

Checks one symmetry of a user's model. Exit codes: 0 the symmetry holds (exact, or
approximate unless ``--exact``), 1 it is broken, 2 bad usage (unknown group, a group
that does not act on that input, a TARGET that cannot be imported or called).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

_TARGET_HELP = (
    "the model: path/to/file.py:factory or package.module:factory; the factory is called "
    "with no arguments and returns a torch.nn.Module (or a callable) taking one unbatched input"
)
_SPEC_HELP = (
    "input SPEC: points:N (N x 3 coordinates; points:N,2 for 2D), set:N,F, image:C,H,W, "
    "signal:C,L, sequence:T,F, atoms:N (species, positions; atoms:N,pbc adds a cell)"
)
_REP_HELP = (
    "output representation: invariant (default), equivariant (transforms like the input), "
    "vector, pseudovector, rank2, per-point[:REP], or an e3nn irreps string such as '1x0e + 1x1o'"
)


class UsageError(Exception):
    """Bad usage: printed on stderr, exit code 2."""


def load_target(target: str) -> Any:
    """Import ``file.py:factory`` or ``package.module:factory`` and call the factory."""
    if ":" not in target:
        raise UsageError(
            f"TARGET must be 'path/to/file.py:factory' or 'package.module:factory', got "
            f"{target!r}. Add ':' and the name of a function that returns the model."
        )
    where, _, name = target.rpartition(":")
    if not name.isidentifier():
        raise UsageError(f"TARGET: {name!r} is not a valid Python name (in {target!r}).")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise UsageError(f"TARGET: file {str(path)!r} does not exist (from {target!r}).")
        mod_name = "_geodl_target_" + "".join(c if c.isalnum() else "_" for c in path.stem)
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise UsageError(f"TARGET: cannot import {str(path)!r} as a Python file.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(mod_name, None)
            raise UsageError(
                f"TARGET: importing {str(path)!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
    else:
        try:
            module = importlib.import_module(where)
        except Exception as exc:
            raise UsageError(
                f"TARGET: cannot import module {where!r}: {type(exc).__name__}: {exc}. "
                "Use path/to/file.py:factory for a file that is not an installed module."
            ) from exc
    factory = getattr(module, name, None)
    if factory is None or not callable(factory):
        import inspect

        public = sorted(
            n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")
        )
        raise UsageError(
            f"TARGET: {where!r} has no callable {name!r}; callables there: {public[:20]}."
        )
    try:
        model = factory()
    except Exception as exc:
        raise UsageError(
            f"TARGET: calling {name}() failed: {type(exc).__name__}: {exc}. The factory must "
            "take no arguments and return the model."
        ) from exc
    if not callable(model):
        raise UsageError(
            f"TARGET: {name}() returned {type(model).__name__}, expected a torch.nn.Module or "
            "a callable."
        )
    return model


def add_common(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``check`` and ``audit``."""
    parser.add_argument("target", metavar="TARGET", help=_TARGET_HELP)
    parser.add_argument("--input", required=True, metavar="SPEC", help=_SPEC_HELP)
    parser.add_argument("--output", default="invariant", metavar="REP", help=_REP_HELP)
    parser.add_argument(
        "--samples",
        type=int,
        default=8,
        metavar="N",
        help="random group elements for infinite groups (default 8; finite "
        "groups use every element)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the result(s) as JSON to FILE",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the random input and group elements (default 0)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=None,
        metavar="REL",
        help="also call a relative error up to REL 'approximate' (default: "
        "only boundary-confined errors on grids are approximate)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument(
        "--group",
        required=True,
        metavar="GROUP",
        help="permutation, translation, SO2, O2, SO3, O3, SE3, E3, shift, C4, "
        "D4, time-shift (or a product such as 'E3 x permutation')",
    )
    parser.add_argument(
        "--exact",
        action="store_true",
        help="exit 1 unless the symmetry is exact (approximate fails too)",
    )


def write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def usage_error(command: str, message: object) -> int:
    """Print ``geodl COMMAND: error: MESSAGE`` on stderr; return exit code 2."""
    sys.stderr.write(f"geodl {command}: error: {message}\n")
    return 2


def model_failed(command: str, verb: str, args: argparse.Namespace, exc: Exception) -> int:
    """Report a model that raised while being checked; return exit code 2."""
    return usage_error(
        command,
        f"{verb} {args.target} on {args.input} failed: {type(exc).__name__}: {exc}\n"
        "Check that the model takes one unbatched input of that SPEC and that --output "
        "matches its output.",
    )


def prepare(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Load the target and make the input; UsageError on bad usage."""
    from geodl.symmetry import make_inputs, parse_input_spec, validate_rep

    if args.samples < 1:
        raise UsageError(f"--samples must be >= 1, got {args.samples}.")
    if args.tolerance is not None and not args.tolerance >= 0:
        raise UsageError(f"--tolerance must be >= 0, got {args.tolerance}.")
    try:
        spec = parse_input_spec(args.input)
        validate_rep(args.output)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    model = load_target(args.target)
    return model, spec, make_inputs(spec, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    from geodl.symmetry import check_equivariance, get_group

    try:
        model, spec, inputs = prepare(args)
        group = get_group(args.group)
        group.check_acts_on(spec.kind)
    except (UsageError, ValueError) as exc:
        return usage_error("check", exc)
    try:
        report = check_equivariance(
            model,
            group,
            inputs,
            kind=spec.kind,
            out_rep=args.output,
            samples=args.samples,
            seed=args.seed,
            approx_tol=args.tolerance,
        )
    except (ValueError, TypeError, RuntimeError) as exc:
        return model_failed("check", "checking", args, exc)
    print(report)
    if args.json is not None:
        write_json(args.json, [report.to_dict()])
        print(f"wrote {args.json}")
    if report.verdict == "exact" or (report.verdict == "approximate" and not args.exact):
        return 0
    return 1
