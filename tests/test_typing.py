"""Type checks in the test command: mypy on the package, configured in pyproject.toml
(``[tool.mypy]``: every function annotated, untyped bodies checked too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_type_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert "No module named mypy" not in proc.stderr, (
        "mypy is missing: it is part of the [test] extra (pip install -e '.[test]')."
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found" in proc.stdout
