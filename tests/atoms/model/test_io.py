from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from geodl.atoms import EnergyModel, atoms_to_graph, load_model, save_model
from tests.atoms.conftest import TYPE_MAP, cu_au_cell


def test_round_trip(tmp_path: Path, make_model: Callable[..., EnergyModel]) -> None:
    model = make_model(type_one_side=False, neighbor_norm=20.0)
    path = tmp_path / "model.pt"
    save_model(model, path)
    payload = torch.load(path, weights_only=True)  # plain data, no pickled classes
    assert set(payload) == {"format", "version", "config", "state_dict"}
    loaded = load_model(path)
    assert loaded.config == model.config and not loaded.training
    g = atoms_to_graph(cu_au_cell(), TYPE_MAP, 4.0, dtype=torch.float64)
    a, b = model(g, compute_stress=True), loaded(g, compute_stress=True)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert torch.equal(loaded.descriptor.s_inv_std, model.descriptor.s_inv_std)


def test_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(ValueError, match="not a geodl model file"):
        load_model(path)
    with pytest.raises(TypeError, match="EnergyModel"):
        save_model(torch.nn.Linear(2, 2), path)  # type: ignore[arg-type]


def test_version_1_files_still_load(tmp_path: Path) -> None:
    """Files written before the model-family registry (version 1: se_e2_a weights directly
    under ``core``, no ``type`` in the config) load into the same model."""
    from tests.atoms.conftest import small_config

    model = EnergyModel(small_config())
    state = {k.replace("core.atomic.", "core."): v for k, v in model.state_dict().items()}
    config = model.config.to_dict()
    del config["type"], config["e0s"]
    path = tmp_path / "old.pt"
    torch.save(
        {"format": "geodl.atoms.EnergyModel", "version": 1, "config": config, "state_dict": state},
        path,
    )
    loaded = load_model(path)
    assert loaded.config == model.config
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
