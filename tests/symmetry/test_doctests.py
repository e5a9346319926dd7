"""The examples in geodl.symmetry's docstrings run and print what they say (every module
of the subpackage, found automatically)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import geodl.symmetry

MODULES = ["geodl.symmetry"] + sorted(
    f"geodl.symmetry.{m.name}" for m in pkgutil.iter_modules(geodl.symmetry.__path__)
)


def test_modules_with_examples_are_found() -> None:
    assert {"geodl.symmetry._check", "geodl.symmetry._groups", "geodl.symmetry._reps"} <= set(
        MODULES
    )


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
