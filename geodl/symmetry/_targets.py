"""Load the model to check from a TARGET string: ``file.py:NAME``, ``package.module:NAME``
or ``module:EXPRESSION`` (a lambda, a closure, a call), as the CLI takes it.

Loading a TARGET imports and runs the user's code (as ``python file.py`` would).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from geodl.symmetry._outputs import ModelError

_FORMS = "'path/to/file.py:factory', 'package.module:factory' or 'module:EXPRESSION'"


def _import(where: str, target: str) -> ModuleType:
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"TARGET: file {str(path)!r} does not exist (from {target!r}).")
        mod_name = "_geodl_target_" + "".join(c if c.isalnum() else "_" for c in path.stem)
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"TARGET: cannot import {str(path)!r} as a Python file.")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(mod_name, None)
            raise ValueError(
                f"TARGET: importing {str(path)!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return module
    try:
        return importlib.import_module(where)
    except Exception as exc:
        raise ValueError(
            f"TARGET: cannot import module {where!r}: {type(exc).__name__}: {exc}. "
            "Use path/to/file.py:factory for a file that is not an installed module."
        ) from exc


def _is_factory(obj: Any) -> bool:
    """Classes and functions callable with no argument are factories; other callables
    (functions of the input, closures, model instances) are the model itself."""
    if inspect.isclass(obj):
        return True
    if not inspect.isfunction(obj):
        return False
    try:
        params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError):
        return False
    required = [
        p
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    return not required


def load_target(target: str, *, model: bool = True) -> Any:
    """The model named by ``target``.

    ``MODULE:NAME`` takes ``NAME`` from the module: a class or a function of no argument
    is a factory and is called; a function of the input (or a closure, or a model
    instance) is the model. ``MODULE:EXPRESSION`` evaluates the expression in the
    module's namespace (e.g. ``mymodels:lambda x: net(x).sum()`` or
    ``mymodels:make(3)``) and uses the result as the model.

    With ``model=False`` the result need not be callable (e.g. an ASE calculator).
    Raises ValueError for a TARGET that cannot be loaded and :class:`ModelError` when
    the factory raised.

    Examples
    --------
    >>> import torch
    >>> f = load_target("torch:lambda x: x.norm()")
    >>> round(float(f(torch.ones(4))), 6)
    2.0
    """
    where, sep, name = target.partition(":")
    if len(where) == 1 and name[:1] in "/\\\\":  # a Windows drive letter
        drive, _, rest = name.partition(":")
        where, sep, name = f"{where}:{drive}", ":" if rest else "", rest
    if not sep or not where or not name.strip():
        raise ValueError(
            f"TARGET must be {_FORMS}, got {target!r}. Add ':' and the name of a function "
            "that returns the model (or an expression)."
        )
    module = _import(where, target)
    name = name.strip()
    if name.isidentifier():
        obj = getattr(module, name, None)
        if obj is None or not callable(obj):
            public = sorted(
                n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
            )
            raise ValueError(
                f"TARGET: {where!r} has no callable {name!r}; callables there: {public[:20]}."
            )
    else:
        try:
            obj = eval(name, dict(vars(module)))  # the user's own expression
        except Exception as exc:
            raise ValueError(
                f"TARGET: the expression {name!r} failed in {where!r}: {type(exc).__name__}: "
                f"{exc}. Write a valid Python expression, e.g. 'lambda x: model(x).sum()'."
            ) from exc
        return _checked(obj, name, model)
    if _is_factory(obj):
        try:
            obj = obj()
        except Exception as exc:
            raise ModelError(
                f"TARGET: calling {name}() raised {type(exc).__name__}: {exc}. The factory "
                "must take no arguments and return the model."
            ) from exc
    return _checked(obj, name, model)


def _checked(obj: Any, name: str, model: bool) -> Any:
    if model and not callable(obj):
        raise ValueError(
            f"TARGET: {name} gave {type(obj).__name__}, expected a torch.nn.Module or a callable."
        )
    return obj
