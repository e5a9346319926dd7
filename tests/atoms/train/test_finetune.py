"""``training.init_model``: fine-tuning a trained model on data with a new element."""

from __future__ import annotations

from pathlib import Path

import ase.build
import numpy as np
import pytest
from ase.calculators.emt import EMT

from geodl.atoms import Trainer, read_structures
from geodl.atoms.train import TrainConfig
from tests.atoms._training import TINY_MODEL, cuau, tiny_config


def _cuag(n: int = 6) -> list[ase.Atoms]:
    frames = []
    for k in range(n):
        atoms = ase.build.bulk("Cu", "fcc", a=3.7, cubic=True) * (2, 1, 1)
        atoms.symbols[k % 8] = "Ag"
        atoms.rattle(0.1, seed=k)
        atoms.calc = EMT()
        atoms.get_forces()
        frames.append(atoms)
    return frames


def test_finetune_adds_an_element_and_trains(tmp_path: Path) -> None:
    base = Trainer(tiny_config(tmp_path / "base", epochs=1), log=lambda s: None).fit(cuau(8))
    new = read_structures(_cuag())
    lines: list[str] = []
    cfg = tiny_config(tmp_path / "tuned", epochs=1, init_model=str(base.out / "model.pt"))
    result = Trainer(cfg, log=lines.append).fit(new)
    assert result.model.type_map == [*base.model.type_map, "Ag"]
    assert any("fine-tuning" in line and "'Ag'" in line for line in lines)
    assert np.isfinite(result.valid_metrics["forces_rmse"])


def test_finetune_refuses_a_different_architecture(tmp_path: Path) -> None:
    base = Trainer(tiny_config(tmp_path / "base", epochs=1), log=lambda s: None).fit(cuau(8))
    d = tiny_config(tmp_path / "t", init_model=str(base.out / "model.pt")).to_dict()
    d["model"] = {**TINY_MODEL, "axis_neurons": 3}
    with pytest.raises(ValueError, match=r"model keys \['axis_neurons'\] differ"):
        Trainer(TrainConfig.from_dict(d), log=lambda s: None).fit(read_structures(_cuag(3)))
    d["model"] = {}
    d["training"]["init_model"] = str(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="init_model: no such file"):
        Trainer(TrainConfig.from_dict(d), log=lambda s: None).fit(read_structures(_cuag(3)))
