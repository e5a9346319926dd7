"""``geodl deploy`` (geodl/deploy/_export.py): metadata stored in the file, agreement
with the model, float32, refusals of bad inputs and bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geodl import __version__
from geodl.atoms import AtomisticModel, save_model
from geodl.deploy import FORMAT_VERSION, DeployedPotential, deploy, load_deployed
from geodl.errors import InputError
from geodl.geometry import neighbor_list

from ._toy_mp import ToyMPConfig, toy_mp_registered
from .conftest import TYPE_MAP, cuau_cell, small_se_model


def _model(**kw: object) -> AtomisticModel:
    return small_se_model(r_cut=4.0, embed_widths=(4, 8), axis_neurons=2, fitting_widths=(8,), **kw)


def _graph(r_cut: float):
    atoms = cuau_cell(repeat=2)
    pos = torch.tensor(atoms.positions)
    cell = torch.tensor(atoms.cell.array)
    edge_index, shifts = neighbor_list(pos, r_cut, cell, (True, True, True))
    vec = pos[edge_index[1]] - pos[edge_index[0]] + shifts.to(pos.dtype) @ cell
    species = torch.tensor([TYPE_MAP.index(s) for s in atoms.get_chemical_symbols()])
    return atoms, species, vec, edge_index


def test_metadata_is_stored_in_the_file(tmp_path: Path) -> None:
    model = _model()
    save_model(model, tmp_path / "model.pt")
    meta = deploy(tmp_path / "model.pt", tmp_path / "model.pth")
    module = load_deployed(tmp_path / "model.pth")
    assert list(module.type_map) == TYPE_MAP == meta["type_map"]
    assert module.r_cut == 4.0 and module.receptive_field == 4.0
    assert module.geodl_format_version == FORMAT_VERSION
    assert module.geodl_version == __version__
    assert module.model_type == "se_e2_a" and module.dtype == "float64"


def test_deployed_file_equals_the_model_forces_and_virial(tmp_path: Path) -> None:
    model = _model()
    deploy(model, tmp_path / "model.pth")
    module = load_deployed(tmp_path / "model.pth")
    atoms, species, vec, edge_index = _graph(model.r_cut)
    n = len(atoms)
    energy, atomic, grad = module(species, vec, edge_index, n)
    forces = torch.zeros(n, 3, dtype=torch.float64)
    forces.index_add_(0, edge_index[0], grad).index_add_(0, edge_index[1], -grad)
    from geodl.atoms import GeoDLCalculator

    atoms.calc = GeoDLCalculator(model)
    assert abs(float(energy) - atoms.get_potential_energy()) < 1e-10
    torch.testing.assert_close(atomic, torch.tensor(atoms.get_potential_energies()))
    torch.testing.assert_close(forces, torch.tensor(atoms.get_forces()), atol=1e-10, rtol=0)
    virial = -(vec.T @ grad)
    stress = torch.tensor(atoms.get_stress(voigt=False)) * atoms.get_volume()
    torch.testing.assert_close(virial, -stress, atol=1e-10, rtol=0)


def test_ghost_nodes_feed_the_graph_but_do_not_count(tmp_path: Path) -> None:
    """Energies of nodes past nlocal are left out; their edges still matter."""
    model = _model()
    module = torch.jit.script(DeployedPotential(model))
    _, species, vec, edge_index = _graph(model.r_cut)
    e_all, atomic_all, _ = module(species, vec, edge_index, len(species))
    e_half, atomic_half, _ = module(species, vec, edge_index, 5)
    torch.testing.assert_close(atomic_half, atomic_all[:5])
    torch.testing.assert_close(e_half, atomic_all[:5].sum())


def test_float32_deployment_is_close_to_float64(tmp_path: Path) -> None:
    model = _model()
    deploy(model, tmp_path / "f32.pth", dtype="float32")
    deploy(model, tmp_path / "f64.pth")
    m32, m64 = load_deployed(tmp_path / "f32.pth"), load_deployed(tmp_path / "f64.pth")
    assert m32.dtype == "float32" and model.energy_shift.dtype == torch.float64  # untouched
    _, species, vec, edge_index = _graph(model.r_cut)
    e32, _, g32 = m32(species, vec, edge_index, len(species))
    e64, _, g64 = m64(species, vec, edge_index, len(species))
    assert e32.dtype == torch.float64  # outputs are float64 for the engine
    assert abs(float(e32 - e64)) / len(species) < 1e-5
    torch.testing.assert_close(g32, g64, atol=1e-4, rtol=1e-3)


def test_message_passing_family_deploys_with_its_receptive_field(tmp_path: Path) -> None:
    with toy_mp_registered():
        model = AtomisticModel(ToyMPConfig(type_map=TYPE_MAP, r_cut=3.0, layers=3))
        meta = deploy(model, tmp_path / "mp.pth")
    assert meta["model_type"] == "toy_mp"
    assert meta["r_cut"] == 3.0 and meta["receptive_field"] == 9.0


def test_deploy_refuses_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no model file"):
        deploy(tmp_path / "missing.pt", tmp_path / "out.pth")
    with pytest.raises(InputError, match="Valid dtypes: float64, float32"):
        deploy(_model(), tmp_path / "out.pth", dtype="float16")
    with pytest.raises(InputError, match="must be an AtomisticModel"):
        deploy(torch.nn.Linear(2, 2), tmp_path / "out.pth")  # type: ignore[arg-type]


def test_load_deployed_refuses_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no file"):
        load_deployed(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a zip file")
    with pytest.raises(InputError, match="cannot read"):
        load_deployed(tmp_path / "junk.pth")
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(tmp_path / "linear.pth"))
    with pytest.raises(InputError, match="not a geodl deployment"):
        load_deployed(tmp_path / "linear.pth")
    deploy(_model(), tmp_path / "model.pth")
    module = load_deployed(tmp_path / "model.pth")
    module.geodl_format_version = FORMAT_VERSION + 1
    module.save(str(tmp_path / "newer.pth"))
    with pytest.raises(InputError, match="newer than this geodl reads"):
        load_deployed(tmp_path / "newer.pth")
