"""Shared helpers of the symmetry tests: the reference battery of examples/."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "reference_models.py"


def load_reference_models() -> ModuleType:
    name = "geodl_examples_reference_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REFERENCE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def reference_models() -> ModuleType:
    return load_reference_models()
