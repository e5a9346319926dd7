"""Extending a trained model's type map keeps what it knew, for any family layout."""

from __future__ import annotations

import ase.build
import pytest
import torch

from geodl.atoms import EnergyModel, atoms_to_graph
from geodl.atoms.model import extend_type_map, finetune_model
from tests.atoms.conftest import small_config


def _perturbed(**kw: object) -> EnergyModel:
    torch.manual_seed(0)
    model = EnergyModel(small_config(**kw))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
        model.energy_shift.copy_(torch.tensor([-1.0, -2.0], dtype=torch.float64))
        model.descriptor.s_mean.copy_(torch.tensor([0.3, 0.7], dtype=torch.float64))
    return model


def _energy(model: EnergyModel, atoms: ase.Atoms) -> float:
    graph = atoms_to_graph(atoms, model.type_map, model.r_cut, torch.float64)
    return float(model(graph, compute_forces=False)["energy"].detach())


@pytest.mark.parametrize("type_one_side", [True, False])
def test_known_species_predict_the_same_after_extension(type_one_side: bool) -> None:
    model = _perturbed(type_one_side=type_one_side)
    atoms = ase.build.bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 1, 1)
    atoms.symbols[[0, 3]] = "Au"
    atoms.rattle(0.05, seed=2)
    extended = extend_type_map(model, ["Ag", "Au", "Cu"])  # new element and a new order
    assert extended.type_map == ["Ag", "Au", "Cu"]
    assert _energy(extended, atoms) == pytest.approx(_energy(model, atoms), abs=1e-12)
    assert extended.energy_shift.tolist() == [0.0, -2.0, -1.0]


def test_dropping_a_species_is_refused() -> None:
    with pytest.raises(ValueError, match=r"drops \['Au'\]"):
        extend_type_map(_perturbed(), ["Cu"])


def test_finetune_keeps_the_architecture_and_fits_new_statistics() -> None:
    model = _perturbed()
    with pytest.raises(ValueError, match="may set only type_map, e0s, dtype, min_distance"):
        finetune_model(model, ["Cu"], {"r_cut": 5.0})
    ag = ase.build.bulk("Ag", "fcc", a=4.1, cubic=True)
    ag.rattle(0.05, seed=0)
    graphs = [atoms_to_graph(ag, ["Cu", "Au", "Ag"], model.r_cut, torch.float64)]
    tuned = finetune_model(model, ["Ag", "Cu"], {"r_cut": model.r_cut}, graphs)
    assert tuned.type_map == ["Cu", "Au", "Ag"] and tuned.training
    mean = tuned.descriptor.s_mean
    assert mean[:2].tolist() == [0.3, 0.7]  # known elements keep theirs
    assert float(mean[2]) > 0  # the new element's comes from the data
    given = finetune_model(model, ["Ag"], {"e0s": {"Cu": 1.0, "Au": 2.0, "Ag": 3.0}})
    assert given.energy_shift.tolist() == [1.0, 2.0, 3.0]
