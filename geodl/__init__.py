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


def _e3nn_0_4_compat() -> None:
    """e3nn 0.4.x (the version mace-torch pins) loads its constants with ``torch.load``,
    which torch >= 2.6 restricts to safe types (``weights_only=True``); its file holds
    ``slice`` objects. Allow-list ``slice`` (as MACE does) when, and only when, e3nn 0.4.x
    is installed — nothing else changes, and no module is imported here."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(x) for x in version("e3nn").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return
    if (major, minor) < (0, 5):
        import torch

        if hasattr(torch.serialization, "add_safe_globals"):
            torch.serialization.add_safe_globals([slice])


_e3nn_0_4_compat()

__all__ = ["__version__", "symmetry", "nn", "geometry", "atoms", "pointcloud", "data"]

_SUBPACKAGES = {"symmetry", "nn", "geometry", "atoms", "pointcloud", "data", "bench", "cli"}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"geodl.{name}")
    raise AttributeError(f"module 'geodl' has no attribute {name!r}")
