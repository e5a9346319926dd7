"""The examples in geodl.symmetry's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "geodl.symmetry",
    "geodl.symmetry._audit",
    "geodl.symmetry._check",
    "geodl.symmetry._declaration",
    "geodl.symmetry._groups",
    "geodl.symmetry._lie",
    "geodl.symmetry._reps",
    "geodl.symmetry._tolerance",
    "geodl.symmetry.strategies",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
