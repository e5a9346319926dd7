"""The package's layering (docs/architecture.md), checked on the import statements.

symmetry < nn < {atoms, pointcloud} < {bench, cli}; data sits beside nn. A module may
import only from its own layer or below.
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
    "atoms": {"symmetry", "nn"},
    "pointcloud": {"symmetry", "nn", "atoms"},
    "bench": {"symmetry", "nn", "data", "atoms", "pointcloud"},
    "cli": {"symmetry", "nn", "data", "atoms", "pointcloud", "bench"},
}


def _geodl_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {n.split(".")[1] for n in names if n.startswith("geodl.") and n.count(".") >= 1}


@pytest.mark.parametrize("subpackage", sorted(ALLOWED))
def test_subpackage_imports_only_lower_layers(subpackage: str) -> None:
    bad = []
    for path in sorted((PKG / subpackage).rglob("*.py")):
        for name in _geodl_imports(path) - ALLOWED[subpackage] - {subpackage}:
            bad.append(f"{path.relative_to(PKG.parent)} imports geodl.{name}")
    assert not bad, "layering violated:\n" + "\n".join(bad)


def test_every_subpackage_is_covered() -> None:
    found = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    assert found == set(ALLOWED)
