"""``geodl deploy`` (geodl/deploy/_export.py): metadata stored in the file, agreement
with the model, float32, refusals of bad inputs and bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geodl import __version__
from geodl.atoms import AtomisticModel, EquivariantConfig, save_model
from geodl.deploy import FORMAT_VERSION, DeployedPotential, deploy, load_deployed
from geodl.deploy._layers import simulate_exchange
from geodl.errors import InputError
from geodl.geometry import neighbor_list

from ._toy_mp import ToyLayeredConfig, ToyMPConfig, toy_mp_registered
from .conftest import E0S, TYPE_MAP, cuau_cell, small_se_model


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
    assert module.mp_layers == 0 == meta["mp_layers"] and meta["mp_widths"] == []


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


def _equivariant(dtype: str = "float64") -> AtomisticModel:
    torch.manual_seed(0)
    model = AtomisticModel(
        EquivariantConfig(
            type_map=TYPE_MAP, r_cut=3.0, channels=8, radial_mlp=(16,), layers=3, dtype=dtype,
            e0s=E0S, correlation=2,
        )
    )  # fmt: skip
    with torch.no_grad():
        model.core.energy_scale.fill_(1.3)  # the scale and E0s belong to the right layers
    return model.eval()


def test_per_layer_path_equals_the_one_shot_model_on_a_periodic_cell(tmp_path: Path) -> None:
    """Three domains exchanging features through mp_forward / mp_backward give the
    energies, per-atom energies and edge gradients of forward() and of the ASE route."""
    model = _equivariant()
    meta = deploy(model, tmp_path / "eq.pth")
    assert meta["mp_layers"] == 3 and meta["mp_widths"] == [8, 32, 32, 8]
    module = load_deployed(tmp_path / "eq.pth")
    atoms, species, vec, edge_index = _graph(model.r_cut)
    owner = torch.arange(len(atoms)) % 3
    energy, atomic, grad = module(species, vec, edge_index, len(atoms))
    e_mp, a_mp, g_mp = simulate_exchange(module, species, vec, edge_index, owner)
    assert abs(float(e_mp - energy)) < 1e-10
    torch.testing.assert_close(a_mp, atomic, atol=1e-12, rtol=0)
    torch.testing.assert_close(g_mp, grad, atol=1e-12, rtol=0)
    from geodl.atoms import GeoDLCalculator

    atoms.calc = GeoDLCalculator(model)
    torch.testing.assert_close(a_mp, torch.tensor(atoms.get_potential_energies()))


def test_per_layer_path_keeps_only_the_first_nlocal_rows() -> None:
    """mp_forward gives rows of the first nlocal nodes; mp_backward gradients for every
    node and no feature gradient for layer 0."""
    module = torch.jit.script(DeployedPotential(_equivariant()))
    _, species, vec, edge_index = _graph(3.0)
    keep = edge_index[0] < 10
    ei, v = edge_index[:, keep], vec[keep]
    h1, e0 = module.mp_forward(0, torch.zeros(0), species, v, ei, 10)
    assert h1.shape == (10, 32) and e0.shape == (10,) and h1.dtype == torch.float64
    h_all = torch.zeros(len(species), 32, dtype=torch.float64)
    h_all[:10] = h1
    g_h, g_e, e1 = module.mp_backward(1, h_all, species, v, ei, 10, torch.ones(10, 32))
    assert g_h.shape == (len(species), 32) and g_e.shape == v.shape
    _, e1_fwd = module.mp_forward(1, h_all, species, v, ei, 10)
    torch.testing.assert_close(e1, e1_fwd, rtol=0, atol=1e-12)
    g_h0, _, e0_bwd = module.mp_backward(0, torch.zeros(0), species, v, ei, 10, torch.ones(10, 32))
    assert g_h0.numel() == 0
    torch.testing.assert_close(e0_bwd, e0, rtol=0, atol=1e-12)


def test_local_and_opaque_models_have_no_per_layer_path(tmp_path: Path) -> None:
    module = torch.jit.script(DeployedPotential(_model()))
    _, species, vec, edge_index = _graph(4.0)
    with pytest.raises(Exception, match="has no per-layer path"):
        module.mp_forward(0, torch.zeros(0), species, vec, edge_index, len(species))
    with toy_mp_registered():
        meta = deploy(AtomisticModel(ToyMPConfig(type_map=TYPE_MAP, r_cut=3.0)), tmp_path / "t.pth")
    assert meta["mp_layers"] == 0 and meta["receptive_field"] == 6.0


def test_deploy_refuses_a_per_layer_path_that_differs(tmp_path: Path) -> None:
    """A layer reaching two edges deep cannot be evaluated by exchanging features once
    per layer: the deploy check finds it."""
    with toy_mp_registered():
        good = AtomisticModel(ToyLayeredConfig(type_map=TYPE_MAP, r_cut=3.0, dtype="float64"))
        assert deploy(good, tmp_path / "good.pth")["mp_layers"] == 2
        bad = AtomisticModel(
            ToyLayeredConfig(type_map=TYPE_MAP, r_cut=3.0, dtype="float64", hops=2)
        )
        with pytest.raises(RuntimeError, match="per-layer path of the 'toy_mp_layered' model"):
            deploy(bad, tmp_path / "bad.pth")
