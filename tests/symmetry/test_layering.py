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


def _intra_imports(path: Path) -> set[str]:
    """Modules of geodl.symmetry imported anywhere in ``path`` (function bodies too)."""
    return {n for n in _all_imports(path) if n.startswith("geodl.symmetry.")} | {
        f"geodl.symmetry.{a.name}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "geodl.symmetry"
        for a in node.names
        if (PKG / f"{a.name}.py").exists()
    }


def test_no_import_cycle_inside_the_subpackage() -> None:
    graph = {
        f"geodl.symmetry.{p.stem}": _intra_imports(p)
        for p in PKG.glob("*.py")
        if p.stem != "__init__"
    }
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*stack, node, nxt])
            if nxt not in state:
                visit(nxt, [*stack, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])


def test_modules_and_functions_are_short() -> None:
    long = []
    for path in sorted(PKG.glob("*.py")):
        tree = ast.parse(path.read_text())
        n_lines = len(path.read_text().splitlines())
        if n_lines > 500:
            long.append(f"{path.name}: {n_lines} lines")
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > 80:
                    long.append(f"{path.name}:{node.lineno} {node.name}: {size} lines")
    assert not long, "too long:\n" + "\n".join(long)
