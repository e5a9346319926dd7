"""``geodl check TARGET --group GROUP --input SPEC [--output REP] [--samples N] [--json FILE]``.

Checks one symmetry of a user's model. Exit codes: 0 the symmetry holds (exact, or
approximate unless ``--exact``), 1 it is broken, 2 bad usage (unknown group, a group
that does not act on that input, a TARGET that cannot be found, a model that does not
take that input), 3 the user's module, factory or model raised.

TARGET is imported and its factory called by :func:`load_target`: this runs the user's
code (``docs/cli.md``, "Safety"). The options shared with ``geodl audit`` are defined
here (:func:`add_harness_arguments`, :func:`prepare`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from geodl.cli._common import (
    EXIT_BROKEN,
    EXIT_OK,
    add_checked,
    add_json_option,
    add_seed_option,
    non_negative_float,
    positive_int,
    write_json,
)
from geodl.errors import InputError, UserCodeError

T = TypeVar("T")

_TARGET_HELP = (
    "the model: path/to/file.py:NAME or package.module:NAME (a class or a function of no "
    "argument is a factory and is called; a function of the input, a closure or a model "
    "instance is the model), or module:EXPRESSION (e.g. 'mymodels:lambda x: net(x).sum()'). "
    "This imports and runs that code."
)
_SPEC_HELP = (
    "input SPEC: points:N (N x 3 coordinates; points:N,2 for 2D), set:N,F, image:C,H,W, "
    "signal:C,L, sequence:T,F, atoms:N (species, positions; atoms:N,pbc adds a cell), "
    "graph:N,F (x, edge_index, pos)"
)
_REP_HELP = (
    "output representation: invariant (default), equivariant (transforms like the input), "
    "vector, pseudovector, rank2, per-point[:REP], or an e3nn irreps string such as '1x0e + 1x1o'"
)


def _import_file(path: Path, target: str) -> Any:
    mod_name = "_geodl_target_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"TARGET: cannot import {str(path)!r} as a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise UserCodeError(f"importing {str(path)!r} (from TARGET {target!r})", exc) from exc
    return module


def _import_module(where: str) -> Any:
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (where == exc.name or where.startswith(exc.name + ".")):
            raise InputError(
                f"TARGET: cannot import module {where!r}: {exc}. Use path/to/file.py:factory "
                "for a file that is not an installed module."
            ) from exc
        raise UserCodeError(f"importing module {where!r}", exc) from exc
    except Exception as exc:
        raise UserCodeError(f"importing module {where!r}", exc) from exc


def _is_factory(obj: Any) -> bool:
    """Classes and functions callable with no argument are factories; other callables
    (functions of the input, closures, model instances) are the model itself."""
    if inspect.isclass(obj):
        return True
    if not inspect.isfunction(obj):
        return False
    try:
        inspect.signature(obj).bind()
    except TypeError:
        return False
    return True


def _expression(module: Any, where: str, text: str) -> Any:
    """``module:EXPRESSION``: evaluated in the module's namespace; the result is the model."""
    try:
        model = eval(text, dict(vars(module)))  # the user's own expression
    except SyntaxError as exc:
        raise InputError(
            f"TARGET: {text!r} is neither a name in {where!r} nor a valid Python expression "
            f"({exc.msg}); e.g. 'mymodels:lambda x: net(x).sum()'."
        ) from exc
    except Exception as exc:
        raise UserCodeError(f"the expression {text!r} of TARGET {where}:...", exc) from exc
    if not callable(model):
        raise InputError(f"TARGET: {text!r} gave {type(model).__name__}, expected a callable.")
    return model


def _check_no_arguments(factory: Any, name: str, where: str) -> None:
    """A factory is called without arguments: one that needs some is a usage error."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    try:
        signature.bind()
    except TypeError:
        needed = [
            p.name
            for p in signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        raise InputError(
            f"TARGET: {where}:{name} cannot be called without arguments (it needs {needed}); "
            f"give an expression instead, e.g. '{where}:{name}(...)' with the "
            "arguments filled in."
        ) from None


def load_target(target: str, *, model: bool = True) -> Any:
    """Import ``file.py:factory`` or ``package.module:factory`` and call the factory.

    This runs the user's code. Raises :class:`InputError` for a target that cannot be
    found, :class:`UserCodeError` when the user's module or factory raises. With
    ``model=False`` the result need not be callable (an ASE calculator).
    """
    if ":" not in target:
        raise InputError(
            f"TARGET must be 'path/to/file.py:factory', 'package.module:factory' or "
            f"'module:EXPRESSION', got {target!r}. Add ':' and the name of a function that "
            "returns the model."
        )
    where, _, name = target.partition(":")
    name = name.strip()
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise InputError(f"TARGET: file {str(path)!r} does not exist (from {target!r}).")
        module = _import_file(path, target)
    else:
        module = _import_module(where)
    if not name.isidentifier():
        return _expression(module, where, name)
    factory = getattr(module, name, None)
    if factory is None or not callable(factory):
        public = sorted(
            n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_")
        )
        raise InputError(
            f"TARGET: {where!r} has no callable {name!r}; callables there: {public[:20]}."
        )
    if not _is_factory(factory):
        return factory  # a function of the input, a closure or a model instance
    _check_no_arguments(factory, name, where)
    try:
        made = factory()
    except Exception as exc:
        raise UserCodeError(f"the factory {name}() of TARGET {target!r}", exc) from exc
    if model and not callable(made):
        raise InputError(
            f"TARGET: {name}() returned {type(made).__name__}, expected a torch.nn.Module or "
            "a callable."
        )
    return made


def add_harness_arguments(parser: argparse.ArgumentParser, *, target_required: bool = True) -> None:
    """Arguments shared by ``check`` and ``audit``."""
    parser.add_argument(
        "target", metavar="TARGET", nargs=None if target_required else "?", help=_TARGET_HELP
    )
    parser.add_argument("--input", required=target_required, metavar="SPEC", help=_SPEC_HELP)
    parser.add_argument("--output", default="invariant", metavar="REP", help=_REP_HELP)
    add_checked(
        parser,
        "--samples",
        type=int,
        default=8,
        metavar="N",
        help="random group elements for infinite groups (default 8; finite "
        "groups use every element)",
        check=positive_int,
    )
    add_json_option(parser, "write the result(s) as JSON to FILE")
    add_seed_option(parser, "seed of the random input and group elements (default 0)")
    add_checked(
        parser,
        "--tolerance",
        type=float,
        default=None,
        metavar="REL",
        help="also call a relative error up to REL 'approximate' (default: "
        "only boundary-confined errors on grids are approximate)",
        check=non_negative_float,
    )
    parser.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default=None,
        help="dtype of the input and of the check (default: the model's parameters, else float64)",
    )
    parser.add_argument(
        "--batch-axis",
        type=int,
        default=None,
        metavar="N",
        help="the model takes batches: add a batch axis of size 1 at N to every input tensor "
        "and remove it from every output",
    )
    parser.add_argument(
        "--allow-vacuous",
        action="store_true",
        help="do not fail when the check compared nothing (verdict 'vacuous')",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_harness_arguments(parser, target_required=False)
    parser.add_argument(
        "--group",
        default=None,
        metavar="GROUP",
        help="permutation, translation, SO2, O2, SO3, O3, SE3, E3, lattice, shift, C2, flips, "
        "C4, D4, C<N>, D<N>, octahedral, full-octahedral, time-shift (or a product such as "
        "'E3 x permutation'; default 'E3 x permutation' with --calculator)",
    )
    parser.add_argument(
        "--calculator",
        default=None,
        metavar="MODULE:FACTORY",
        help="check an ASE calculator (energy, forces, stress) instead of a TARGET",
    )
    parser.add_argument(
        "--atoms", type=Path, default=None, metavar="FILE", help="the structure for --calculator"
    )
    parser.add_argument(
        "--exact",
        action="store_true",
        help="exit 1 unless the symmetry is exact (approximate fails too)",
    )


def prepare(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Parse the SPEC and REP, load the target (runs the user's code), make the input."""
    from geodl.symmetry import make_inputs, parse_input_spec, validate_rep

    if args.target is None or args.input is None:
        raise InputError("give TARGET and --input SPEC (or --calculator and --atoms).")
    spec = parse_input_spec(args.input)
    validate_rep(args.output)
    model = load_target(args.target)
    if args.batch_axis is not None:
        from geodl.symmetry import BatchAxis

        model = BatchAxis(model, args.batch_axis)
    inputs = make_inputs(spec, seed=args.seed, dtype=_dtype(args))
    return model, spec, inputs


def _dtype(args: argparse.Namespace) -> Any:
    import torch

    return torch.float32 if getattr(args, "dtype", None) == "float32" else torch.float64


def _user_files(model: Any) -> set[str]:
    """Source files of the user's model (its class, or the function itself); torch's own
    modules (``torch.nn:Identity``) do not count."""
    import torch

    owner = model if inspect.isfunction(model) else type(model)
    try:
        found = {os.path.realpath(inspect.getfile(owner))}
    except (TypeError, OSError):
        return set()
    torch_dir = os.path.realpath(os.path.dirname(torch.__file__))
    return {f for f in found if not f.startswith(torch_dir + os.sep)}


def _raised_in(exc: BaseException, files: set[str]) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if os.path.realpath(tb.tb_frame.f_code.co_filename) in files:
            return True
        tb = tb.tb_next
    return False


def run_harness(verb: str, args: argparse.Namespace, model: Any, call: Callable[[], T]) -> T:
    """``call()``, a harness run on the user's model, with its errors classified.

    A ``ValueError``/``TypeError``/``RuntimeError`` means the model does not fit the
    SPEC or REP (exit code 2, as before); any other exception raised inside the model's
    own source is the user's code raising (:class:`UserCodeError`, exit code 3); the rest
    propagates (exit code 4, a bug).
    """
    from geodl.symmetry import ModelError, OutputError

    try:
        return call()
    except UserCodeError:
        raise
    except ModelError as exc:  # raised inside the model while the harness called it
        raise UserCodeError(f"the model of {args.target}", exc.__cause__ or exc) from exc
    except OutputError as exc:
        raise InputError(f"{verb} {args.target} on {args.input}: {exc}") from exc
    except (ValueError, TypeError, RuntimeError) as exc:
        raise InputError(
            f"{verb} {args.target} on {args.input} failed: {type(exc).__name__}: {exc}\n"
            "Check that the model takes one unbatched input of that SPEC and that --output "
            "matches its output."
        ) from exc
    except Exception as exc:
        if _raised_in(exc, _user_files(model)):
            raise UserCodeError(f"the model of {args.target}", exc) from exc
        raise


def exit_code(verdict: str, args: argparse.Namespace) -> int:
    """0 when the verdict passes under the options, else 1 (vacuous says why)."""
    if verdict == "exact" or (verdict == "approximate" and not args.exact):
        return EXIT_OK
    if verdict == "vacuous" and args.allow_vacuous:
        return EXIT_OK
    if verdict == "vacuous":
        sys.stderr.write(
            "geodl check: the check compared nothing (verdict 'vacuous'); use a generic "
            "input and a non-constant output, or pass --allow-vacuous.\n"
        )
    return EXIT_BROKEN


def _calculator_report(args: argparse.Namespace) -> Any:
    from geodl.symmetry import check_calculator

    if args.atoms is None or args.target is not None:
        raise InputError("--calculator needs --atoms FILE and no TARGET.")
    try:
        import ase.io

        atoms = ase.io.read(str(args.atoms))
    except Exception as exc:
        raise InputError(f"--atoms: cannot read {str(args.atoms)!r}: {exc}") from exc
    calc = load_target(args.calculator, model=False)
    args.target, args.input = args.calculator, str(args.atoms)
    return run_harness(
        "checking",
        args,
        calc,
        lambda: check_calculator(
            calc,
            atoms,
            args.group or "E3 x permutation",
            samples=args.samples,
            seed=args.seed,
            approx_tol=args.tolerance,
        ),  # fmt: skip
    )


def _model_report(args: argparse.Namespace) -> Any:
    from geodl.symmetry import check_equivariance, get_group

    if args.group is None:
        raise InputError("--group is required (except with --calculator).")
    model, spec, inputs = prepare(args)
    group = get_group(args.group)
    group.check_acts_on(spec.kind)
    return run_harness(
        "checking",
        args,
        model,
        lambda: check_equivariance(
            model,
            group,
            inputs,
            kind=spec.kind,
            out_rep=args.output,
            samples=args.samples,
            seed=args.seed,
            approx_tol=args.tolerance,
            dtype=_dtype(args) if args.dtype else None,
        ),  # fmt: skip
    )


def run(args: argparse.Namespace) -> int:
    report = _calculator_report(args) if args.calculator else _model_report(args)
    print(report)
    if args.json is not None:
        write_json(args.json, [report.to_dict()])
        print(f"wrote {args.json}")
    return exit_code(report.verdict, args)
