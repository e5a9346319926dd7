"""The package's layering (docs/architecture.md), checked on the import statements.

symmetry < nn (and training beside it) < geometry < {atoms, pointcloud} < {bench, cli};
data sits beside nn.
A module may import only from its own layer or below, only the public names of another
sub-package (never its ``_private`` modules), and no chain of imports may loop back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "geodl"

#: sub-package -> the geodl sub-packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "symmetry": set(),
    "data": set(),
    "nn": {"symmetry"},
    "training": {"symmetry", "nn"},
    "geometry": {"symmetry", "nn"},
    "atoms": {"symmetry", "nn", "training", "geometry"},
    "pointcloud": {"symmetry", "nn", "training", "geometry"},
    "deploy": {"symmetry", "nn", "training", "geometry", "atoms"},
    "bench": {"symmetry", "nn", "training", "geometry", "data", "atoms", "pointcloud", "deploy"},
    "cli": {
        "symmetry",
        "nn",
        "training",
        "geometry",
        "data",
        "atoms",
        "pointcloud",
        "bench",
        "deploy",
    },
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every geodl module or package named by an import in ``path`` (function-level too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return {n for n in names if n in MODULES and n != "geodl"}


def _subpackage(module: str) -> str:
    return module.split(".")[1]


def _package_of(module: str) -> str:
    """The innermost package holding ``module`` (a package holds itself)."""
    if MODULES[module].name == "__init__.py":
        return module
    return module.rsplit(".", 1)[0]


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_subpackage_imports_only_lower_layers(subpackage: str) -> None:
    bad = []
    for name, path in MODULES.items():
        if name.count(".") < 1 or _subpackage(name) != subpackage:
            continue
        for target in _imports(path):
            other = _subpackage(target)
            # top-level modules (geodl.errors) sit below every layer
            if other in ALLOWED and other != subpackage and other not in ALLOWED[subpackage]:
                bad.append(f"{name} imports {target}")
    assert not bad, "layering violated:\n" + "\n".join(bad)


def test_only_public_names_cross_package_boundaries() -> None:
    """``geodl.a._b`` may be imported only from inside package ``geodl.a``."""
    bad = []
    for name, path in MODULES.items():
        for target in _imports(path):
            leaf = target.rsplit(".", 1)[-1]
            if not leaf.startswith("_"):
                continue
            owner = target.rsplit(".", 1)[0]
            if not (name == owner or name.startswith(owner + ".")):
                bad.append(f"{name} imports private {target}")
    assert not bad, "private modules used across packages:\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components of the module import graph."""
    graph = {name: _imports(path) for name, path in MODULES.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_every_subpackage_is_covered() -> None:
    found = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert found == set(ALLOWED)


def test_top_level_modules_import_no_subpackage() -> None:
    """``geodl.errors`` and friends sit below every layer."""
    bad = [
        f"{name} imports {t}"
        for name, path in MODULES.items()
        if name.count(".") == 1 and path.parent == PKG and name.split(".")[1] not in ALLOWED
        for t in _imports(path)
        if _subpackage(t) in ALLOWED
    ]
    assert not bad, "\n".join(bad)
