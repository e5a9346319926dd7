"""geodl.symmetry is the bottom layer and loads cheaply (its pytest plugin runs everywhere)."""

from __future__ import annotations

import ast
from pathlib import Path

import geodl.symmetry

PKG = Path(geodl.symmetry.__file__).parent


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _all_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_symmetry_imports_no_other_geodl_subpackage() -> None:
    for path in PKG.glob("*.py"):
        for name in _all_imports(path):
            if name.startswith("geodl."):
                assert name.startswith("geodl.symmetry"), f"{path.name} imports {name}"


def test_heavy_optional_libraries_are_imported_lazily() -> None:
    for path in PKG.glob("*.py"):
        if path.name == "strategies.py":  # imported only by users of hypothesis
            continue
        top = _top_level_imports(path)
        for heavy in ("e3nn", "hypothesis", "rich"):
            assert not any(n == heavy or n.startswith(heavy + ".") for n in top), (
                f"{path.name} imports {heavy} at module level"
            )


def test_plugin_imports_only_pytest_at_top() -> None:
    top = _top_level_imports(PKG / "pytest_plugin.py")
    assert top <= {"__future__", "typing", "pytest"}
