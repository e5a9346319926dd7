"""Safe model files: ``state_dict`` + config, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
from typing import Any

import torch

from geodl.atoms._config import EnergyModelConfig
from geodl.atoms._model import EnergyModel

_FORMAT = "geodl.atoms.EnergyModel"
_VERSION = 1


def save_model(model: EnergyModel, path: str | os.PathLike[str]) -> None:
    """Save ``model`` as ``{"format", "version", "config", "state_dict"}`` (no pickled code).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig, load_model
    >>> m = EnergyModel(EnergyModelConfig(type_map=["H"], embed_widths=(4,), axis_neurons=2,
    ...                                   fitting_widths=(4,)))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.pt"
    >>> save_model(m, path)
    >>> load_model(path).type_map
    ['H']
    """
    if not isinstance(model, EnergyModel):
        raise TypeError(f"save_model: 'model' must be an EnergyModel, got {type(model)}.")
    payload = {
        "format": _FORMAT,
        "version": _VERSION,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    torch.save(payload, path)


def load_model(path: str | os.PathLike[str], map_location: Any = "cpu") -> EnergyModel:
    """Load a model written by :func:`save_model` with ``torch.load(weights_only=True)``.

    Raises
    ------
    ValueError
        If the file is not a geodl energy model file or its weights do not match.
    """
    payload = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(
            f"load_model: {os.fspath(path)!r} is not a geodl EnergyModel file (expected "
            f"format {_FORMAT!r}); save models with geodl.atoms.save_model."
        )
    if int(payload.get("version", 0)) > _VERSION:
        raise ValueError(
            f"load_model: file version {payload['version']} is newer than supported "
            f"({_VERSION}); upgrade geodl."
        )
    model = EnergyModel(EnergyModelConfig.from_dict(payload["config"]))
    model.load_state_dict(payload["state_dict"], strict=True)
    model.eval()
    return model
