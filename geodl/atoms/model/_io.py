"""Safe model files: ``state_dict`` + config, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
from typing import IO, Any

import torch

from geodl.atoms.model._model import AtomisticModel
from geodl.atoms.model._registry import model_config_from_dict
from geodl.atoms.model._size import model_size
from geodl.errors import InputError
from geodl.training import read_torch_file

__all__ = [
    "MODEL_FILE_FORMAT",
    "MODEL_FILE_VERSION",
    "load_model",
    "model_from_state",
    "read_torch_file",
    "save_model",
]

MODEL_FILE_FORMAT = "geodl.atoms.EnergyModel"
#: 1: se_e2_a only (``core.descriptor.*``); 2: any family (``core.atomic.*``, ``type``).
MODEL_FILE_VERSION = 2


def save_model(model: AtomisticModel, path: str | os.PathLike[str] | IO[bytes]) -> None:
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
    if not isinstance(model, AtomisticModel):
        raise TypeError(
            f"save_model: 'model' must be an AtomisticModel (EnergyModel), got {type(model)}."
        )
    payload = {
        "format": MODEL_FILE_FORMAT,
        "version": MODEL_FILE_VERSION,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    torch.save(payload, path)


def _upgrade_state_dict(state: dict[str, Any], version: int) -> dict[str, Any]:
    """Rename the weights of older files to the current layout."""
    if version >= 2:
        return state
    # version 1: the se_e2_a parts sat directly under ``core``.
    out = {}
    for key, value in state.items():
        for part in ("core.descriptor.", "core.fitting."):
            if key.startswith(part):
                key = "core.atomic." + key[len("core.") :]
        out[key] = value
    return out


def load_model(path: str | os.PathLike[str], map_location: Any = "cpu") -> AtomisticModel:
    """Load a model written by :func:`save_model` with ``torch.load(weights_only=True)``.

    Files of every earlier version load (their weights are renamed to the current layout).
    A model file is data: nothing in it is executed, and its config is checked against its
    weights before the model is allocated (a small file cannot request a huge model).

    Raises
    ------
    InputError
        (a ``ValueError``) If the file is missing, corrupt, not a geodl model file, newer
        than this geodl, or its weights do not match its config.
    """
    hint = "Pass a model.pt written by geodl train or geodl.atoms.save_model."
    payload = read_torch_file(path, what="model file", hint=hint, map_location=map_location)
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FILE_FORMAT:
        raise InputError(
            f"load_model: {os.fspath(path)!r} is not a geodl model file (expected format "
            f"{MODEL_FILE_FORMAT!r}); save models with geodl.atoms.save_model."
        )
    version = payload.get("version", 0)
    if not isinstance(version, int) or version > MODEL_FILE_VERSION:
        raise InputError(
            f"load_model: file version {version!r} is newer than supported "
            f"({MODEL_FILE_VERSION}); upgrade geodl."
        )
    where = f"load_model: {os.fspath(path)!r} is a damaged geodl model file"
    model = model_from_state(payload.get("config"), payload.get("state_dict"), where, version)
    model.eval()
    return model


def model_from_state(
    config: Any, state: Any, where: str = "model", version: int = MODEL_FILE_VERSION
) -> AtomisticModel:
    """A model built from a stored config dict and ``state_dict`` (a model file's or a
    checkpoint's), refusing a config that needs more parameters than ``state`` holds
    before anything is allocated.

    Raises
    ------
    InputError
        The config is invalid, asks for more parameters than stored, or the weights do
        not fit it.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> m = EnergyModel(EnergyModelConfig(type_map=["H"], embed_widths=(4,), axis_neurons=2,
    ...                                   fitting_widths=(4,)))
    >>> model_from_state(m.config.to_dict(), m.state_dict()).type_map
    ['H']
    >>> model_from_state({**m.config.to_dict(), "fitting_widths": [4096]}, m.state_dict())
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: model: its config asks for ... parameters but ... holds ...
    """
    fix = "Pass a model.pt written by geodl train or geodl.atoms.save_model."
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{where}: no weights ('state_dict') stored. {fix}")
    try:
        model_config = model_config_from_dict(config)
        needed = model_size(model_config).parameters
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{where} (its model config: {type(exc).__name__}: {exc}). {fix}") from exc
    stored = sum(v.numel() for v in state.values())
    if needed > stored:
        raise InputError(
            f"{where}: its config asks for {needed:,} parameters but the file holds "
            f"{stored:,} values; the file is damaged or not written by geodl."
        )
    model = AtomisticModel(model_config)
    try:
        model.load_state_dict(_upgrade_state_dict(state, version), strict=True)
    except RuntimeError as exc:
        raise InputError(f"{where}: its weights do not match its config ({exc}).") from exc
    return model
