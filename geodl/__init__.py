"""geodl — symmetry-preserving geometric deep learning.

Layers (bottom to top):

* :mod:`geodl.symmetry` — groups, their actions on data, representations, and the
  invariance/equivariance checks and audit (the test harness).
* :mod:`geodl.nn` — building blocks and classic model families (MLP, CNN, ResNet,
  RNN/LSTM, DeepSets), each declaring the group it respects.
* :mod:`geodl.geometry` — neighbour lists, edge vectors, switching functions and
  descriptors shared by atoms and point clouds.
* :mod:`geodl.atoms` — interatomic potentials of the DeepPot-SE kind, training through
  ASE and an ASE calculator.
* :mod:`geodl.pointcloud` — rotation-, translation- and permutation-invariant point-cloud
  classification.

Sub-packages are imported lazily, so ``import geodl`` is cheap and has no side effects.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "symmetry", "nn", "geometry", "atoms", "pointcloud", "data"]

_SUBPACKAGES = {"symmetry", "nn", "geometry", "atoms", "pointcloud", "data", "bench", "cli"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"geodl.{name}")
    raise AttributeError(f"module 'geodl' has no attribute {name!r}")
