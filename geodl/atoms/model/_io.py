"""Safe model files: ``state_dict`` + config, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
from typing import Any

import torch

from geodl.atoms.model._model import AtomisticModel
from geodl.atoms.model._registry import model_config_from_dict
from geodl.errors import InputError

__all__ = ["MODEL_FILE_FORMAT", "MODEL_FILE_VERSION", "load_model", "read_torch_file", "save_model"]

MODEL_FILE_FORMAT = "geodl.atoms.EnergyModel"
#: 1: se_e2_a only (``core.descriptor.*``); 2: any family (``core.atomic.*``, ``type``).
MODEL_FILE_VERSION = 2


def save_model(model: AtomisticModel, path: str | os.PathLike[str]) -> None:
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


def read_torch_file(
    path: str | os.PathLike[str], *, what: str = "file", hint: str = "", map_location: Any = "cpu"
) -> Any:
    """``torch.load(path, weights_only=True)`` whose failures name the file and what to do.

    ``weights_only=True`` refuses pickled code: a hostile file cannot run anything.

    Parameters
    ----------
    path : path
        The file (a model, a checkpoint).
    what : str
        What the file is, for the message (``"model file"``, ``"checkpoint"``).
    hint : str
        What to do about a bad file, appended to the message.

    Raises
    ------
    InputError
        The file is missing, unreadable, truncated, corrupt or holds pickled code.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "model.pt"; _ = bad.write_bytes(b"garbage")
    >>> read_torch_file(bad, what="model file", hint="Retrain it.")
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: model file '.../model.pt' is corrupt, ... Retrain it.
    """
    name = os.fspath(path)
    tail = f" {hint}" if hint else ""
    try:
        return torch.load(name, map_location=map_location, weights_only=True)
    except OSError as exc:
        raise InputError(f"cannot read {what} {name!r}: {exc.strerror or exc}.{tail}") from exc
    except Exception as exc:  # UnpicklingError, RuntimeError (bad zip), EOFError, ...
        raise InputError(
            f"{what} {name!r} is corrupt, truncated or not a file written by geodl "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}).{tail}"
        ) from exc


def load_model(path: str | os.PathLike[str], map_location: Any = "cpu") -> AtomisticModel:
    """Load a model written by :func:`save_model` with ``torch.load(weights_only=True)``.

    Files of every earlier version load (their weights are renamed to the current layout).

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
    try:
        model = AtomisticModel(model_config_from_dict(payload["config"]))
        model.load_state_dict(_upgrade_state_dict(payload["state_dict"], version), strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise InputError(
            f"load_model: {os.fspath(path)!r} is a damaged geodl model file "
            f"({type(exc).__name__}: {exc}). {hint}"
        ) from exc
    model.eval()
    return model
