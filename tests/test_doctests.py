"""One doctest runner: the examples in every docstring of every geodl module run and
print what they claim."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import geodl

MODULES = sorted(info.name for info in pkgutil.walk_packages(geodl.__path__, prefix="geodl."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_the_runner_sees_the_examples() -> None:
    """Guard against a runner that silently collects nothing."""
    finder = doctest.DocTestFinder()
    examples = sum(
        len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name))
    )
    assert examples > 250, f"only {examples} docstring examples found"
