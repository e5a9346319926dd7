"""Saving and loading point-cloud classifiers as ``state_dict`` + config (no pickles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from geodl.pointcloud._models import InvariantPointClassifier, PointNetBaseline

__all__ = ["save_classifier", "load_classifier", "CLASSIFIERS"]

#: class name -> class, for :func:`load_classifier`.
CLASSIFIERS: dict[str, type[nn.Module]] = {
    "PointNetBaseline": PointNetBaseline,
    "InvariantPointClassifier": InvariantPointClassifier,
}


def save_classifier(model: nn.Module, path: str | Path) -> None:
    """Save ``model`` as ``{"class", "config", "state_dict"}`` with ``torch.save``.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "m.pt")
    >>> save_classifier(PointNetBaseline(3, hidden=(8,), head=()), path)
    >>> type(load_classifier(path)).__name__
    'PointNetBaseline'
    """
    name = type(model).__name__
    if name not in CLASSIFIERS:
        raise TypeError(f"save_classifier: expected one of {', '.join(CLASSIFIERS)}, got {name}.")
    torch.save(
        {"class": name, "config": dict(_config_of(model)), "state_dict": model.state_dict()},
        Path(path),
    )


def load_classifier(path: str | Path) -> nn.Module:
    """Rebuild a classifier saved by :func:`save_classifier` (``weights_only=True``)."""
    blob = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(blob, dict) or blob.get("class") not in CLASSIFIERS:
        raise ValueError(
            f"load_classifier: {path} is not a geodl point-cloud classifier file (expected a "
            f"'class' among {', '.join(CLASSIFIERS)})."
        )
    model = CLASSIFIERS[blob["class"]](**blob["config"])
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model


def _config_of(model: nn.Module) -> dict[str, Any]:
    """The ``config`` dict every classifier of :data:`CLASSIFIERS` keeps."""
    config = model.__dict__.get("config")
    if not isinstance(config, dict):
        raise TypeError(f"save_classifier: {type(model).__name__} has no 'config' dict.")
    return config
