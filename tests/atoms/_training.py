"""Helpers shared by the training-side tests (tiny data, tiny models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geodl.atoms.data import AtomsDataset, bundled_dataset, read_structures
from geodl.atoms.train import TrainConfig

TINY_MODEL: dict[str, Any] = {
    "r_cut": 4.0,
    "r_smooth": 0.5,
    "embed_widths": [4, 8],
    "axis_neurons": 2,
    "fitting_widths": [12],
}


def cuau(n: int = 12) -> AtomsDataset:
    """The first ``n`` structures of the bundled Cu/Au EMT set."""
    return read_structures(bundled_dataset("cuau"), index=f":{n}")


def tiny_config(out: str | Path | None = None, **training: Any) -> TrainConfig:
    t: dict[str, Any] = {
        "epochs": 2,
        "batch_size": 4,
        "progress": False,
        "plots": False,
        "resume": False,
    }
    t.update(training)
    d: dict[str, Any] = {"model": dict(TINY_MODEL), "training": t}
    if out is not None:
        d["out"] = str(out)
    return TrainConfig.from_dict(d)
