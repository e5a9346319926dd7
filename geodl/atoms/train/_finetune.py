"""The first model of a fine-tuning run (``training.init_model``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from geodl.atoms.data import AtomsDataset, iter_batches
from geodl.atoms.model import DTYPES, finetune_model, load_model
from geodl.atoms.train._config import TrainConfig
from geodl.atoms.train._metrics import refit_energy_shift
from geodl.errors import InputError

__all__ = ["finetune_start"]


def finetune_start(config: TrainConfig, train: AtomsDataset, log: Callable[[str], None]) -> Any:
    """``training.init_model`` with its type map extended to the new data's elements
    (statistics of new elements from the data), and its reference energies refitted on
    the residuals unless ``model.e0s`` is given."""
    t = config.training
    path = Path(str(t.init_model))
    if not path.is_file():
        raise InputError(
            f"training.init_model: no such file {str(path)!r}; give the model.pt of a trained run."
        )
    torch.manual_seed(t.seed)
    base = load_model(path)
    type_map = list(config.model.get("type_map") or base.type_map)
    type_map += sorted(set(train.species) - set(type_map) - set(base.type_map))
    dtype = DTYPES[config.model.get("dtype", base.config.dtype)]
    graphs = train.to_graphs(type_map, base.r_cut, dtype)
    overrides = {**config.model, "type_map": type_map}
    model = finetune_model(base, train.species, overrides, list(iter_batches(graphs, 64)))
    if model.config.e0s == "fit":
        delta = refit_energy_shift(model, graphs)
        log(
            f"fine-tuning {path}: type_map {model.type_map}; reference energies refitted "
            "on the new data (eV): "
            + ", ".join(f"{s} {d:+.4f}" for s, d in zip(model.type_map, delta, strict=True))
        )
    return model
