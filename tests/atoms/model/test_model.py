from __future__ import annotations

from collections.abc import Callable

import ase
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.loader import DataLoader

from geodl.atoms import EnergyModel, EnergyModelConfig, atoms_to_graph, neighbor_list
from tests.atoms.conftest import TYPE_MAP, cu_au_cell, random_cluster, small_config

MakeModel = Callable[..., EnergyModel]


def _energy(model: EnergyModel, atoms: ase.Atoms) -> float:
    g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
    return float(model(g, compute_forces=False)["energy"][0].detach())


def _fd_forces(model: EnergyModel, atoms: ase.Atoms, h: float = 1e-5) -> np.ndarray:
    out = np.zeros((len(atoms), 3))
    for i in range(len(atoms)):
        for k in range(3):
            a = atoms.copy()
            a.positions[i, k] += h
            ep = _energy(model, a)
            a.positions[i, k] -= 2 * h
            out[i, k] = -(ep - _energy(model, a)) / (2 * h)
    return out


def _strained(atoms: ase.Atoms, eps: np.ndarray) -> ase.Atoms:
    a = atoms.copy()
    a.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=False)
    a.positions = atoms.positions @ (np.eye(3) + eps)
    return a


def _fd_strain_derivative(model: EnergyModel, atoms: ase.Atoms, h: float = 1e-5) -> np.ndarray:
    out = np.zeros((3, 3))
    for k in range(3):
        for l in range(3):
            eps = np.zeros((3, 3))
            eps[k, l] += h / 2
            eps[l, k] += h / 2
            out[k, l] = (
                _energy(model, _strained(atoms, eps)) - _energy(model, _strained(atoms, -eps))
            ) / (2 * h)
    return out


@pytest.mark.parametrize("kind", ["periodic", "cluster", "mixed"])
def test_forces_are_minus_energy_gradient(make_model: MakeModel, kind: str) -> None:
    atoms = random_cluster(5) if kind == "cluster" else cu_au_cell()
    if kind == "mixed":
        atoms.pbc = (True, False, True)
    model = make_model(atoms)
    g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
    forces = model(g)["forces"].detach().numpy()
    fd = _fd_forces(model, atoms)
    assert np.abs(forces).max() > 1e-3  # a non-trivial check
    np.testing.assert_allclose(forces, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())


def test_stress_is_strain_derivative_periodic(make_model: MakeModel) -> None:
    atoms = cu_au_cell()
    model = make_model(atoms)
    g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
    out = model(g, compute_stress=True)
    de = _fd_strain_derivative(model, atoms)
    stress = out["stress"][0].detach().numpy()
    np.testing.assert_allclose(stress, de / atoms.get_volume(), rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(out["virial"][0].detach().numpy(), -de, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(stress, stress.T, atol=1e-12)


def test_virial_of_a_molecule(make_model: MakeModel) -> None:
    atoms = random_cluster(5)
    model = make_model(atoms)
    g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
    out = model(g, compute_stress=True)
    de = _fd_strain_derivative(model, atoms)
    np.testing.assert_allclose(out["virial"][0].detach().numpy(), -de, rtol=1e-6, atol=1e-9)
    assert out["stress"].abs().max() == 0  # no volume: stress is defined as zero


def test_continuous_as_neighbour_crosses_cutoff(make_model: MakeModel) -> None:
    base = random_cluster(4, seed=2)
    model = make_model(base)
    # distance from the extra atom to its nearest neighbour sweeps across r_c
    nearest = base.positions[np.argmax(base.positions[:, 0])]
    direction = np.array([1.0, 0.0, 0.0])
    energies, forces = [], []
    for d in (model.r_cut - 1e-6, model.r_cut + 1e-6):
        atoms = base + ase.Atom("Cu", nearest + d * direction)
        others = np.linalg.norm(base.positions - atoms.positions[-1], axis=1)
        assert others.min() == pytest.approx(d)
        g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
        out = model(g)
        energies.append(float(out["energy"][0].detach()))
        forces.append(out["forces"].detach().numpy())
    assert energies[0] == pytest.approx(energies[1], abs=1e-9)
    np.testing.assert_allclose(forces[0], forces[1], atol=1e-6)


def test_batch_equals_single(make_model: MakeModel) -> None:
    structures = [cu_au_cell(), random_cluster(5), cu_au_cell((1, 2, 1), seed=3)]
    model = make_model(structures[0])
    graphs = [atoms_to_graph(a, TYPE_MAP, model.r_cut, dtype=torch.float64) for a in structures]
    batch = next(iter(DataLoader(graphs, batch_size=3)))
    out = model(batch, compute_stress=True)
    start = 0
    for k, g in enumerate(graphs):
        single = model(g, compute_stress=True)
        n = g.num_nodes
        assert out["energy"][k].item() == pytest.approx(single["energy"][0].item(), rel=1e-12)
        assert torch.allclose(out["forces"][start : start + n], single["forces"], atol=1e-12)
        assert torch.allclose(out["stress"][k], single["stress"][0], atol=1e-12)
        start += n


def test_float32_matches_float64(make_model: MakeModel) -> None:
    atoms = cu_au_cell()
    m64 = make_model(atoms)
    m32 = EnergyModel(small_config(dtype="float32"))
    m32.load_state_dict({k: v.float() for k, v in m64.state_dict().items()})
    out64 = m64(atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64))
    out32 = m32(atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float32))
    assert out32["energy"].dtype == torch.float32 and out32["forces"].dtype == torch.float32
    assert out32["energy"].item() == pytest.approx(out64["energy"].item(), rel=1e-5)
    scale = float(out64["forces"].abs().max())
    assert torch.allclose(out32["forces"].double(), out64["forces"], atol=1e-4 * scale)


def test_manual_rotation_of_periodic_cell(make_model: MakeModel) -> None:
    atoms = cu_au_cell()
    model = make_model(atoms)
    f = model.energy_function()
    species = atoms_to_graph(atoms, TYPE_MAP, 4.0).species
    pos = torch.tensor(atoms.positions)
    cell = torch.tensor(atoms.cell.array)
    q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    e0 = f(species, pos, cell)
    e1 = f(species, pos @ q.T + 0.7, cell @ q.T)
    assert e1.item() == pytest.approx(e0.item(), rel=1e-12)


def test_training_mode_forces_are_differentiable(make_model: MakeModel) -> None:
    atoms = cu_au_cell()
    model = make_model(atoms).train()
    g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
    out = model(g, compute_stress=True)
    loss = out["forces"].pow(2).sum() + out["stress"].pow(2).sum()
    loss.backward()
    grads = [p.grad for p in model.descriptor.parameters()]
    assert all(gr is not None for gr in grads)
    assert sum(float(gr.abs().sum()) for gr in grads) > 0


def test_scripted_equals_eager(make_model: MakeModel) -> None:
    from geodl.atoms.model._model import _graph_tensors

    atoms = cu_au_cell()
    model = make_model(atoms).eval()
    scripted = model.scripted()
    g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
    args = _graph_tensors(g)
    eager = model.compute(*args, True, True)
    compiled = scripted(*args, True, True)
    assert set(eager) == set(compiled)
    for key in eager:
        assert torch.allclose(eager[key], compiled[key], rtol=1e-12, atol=1e-14), key


def test_fit_statistics_energy_shift_and_norm() -> None:
    model = EnergyModel(small_config())
    structures = [cu_au_cell((1, 1, 1), seed=s) for s in range(2)] + [
        cu_au_cell((2, 1, 1), seed=5),
        random_cluster(4, seed=1),
    ]
    structures[1].symbols[0] = "Cu"
    true_shift = {"Cu": -3.5, "Au": -1.25}
    graphs = []
    for a in structures:
        g = atoms_to_graph(a, TYPE_MAP, 4.0, dtype=torch.float64)
        g.energy = torch.tensor([sum(true_shift[s] for s in a.get_chemical_symbols())])
        g.forces = torch.full((len(a), 3), 0.5, dtype=torch.float64)
        graphs.append(g)
    stats = model.fit_statistics(graphs)
    assert stats["energy_shift"]["Cu"] == pytest.approx(-3.5, abs=1e-10)
    assert stats["energy_shift"]["Au"] == pytest.approx(-1.25, abs=1e-10)
    assert model.energy_scale.item() == pytest.approx(0.5)
    edges = sum(g.edge_index.shape[1] for g in graphs)
    atoms = sum(g.num_nodes for g in graphs)
    assert model.descriptor.neighbor_norm.item() == pytest.approx(edges / atoms)
    assert torch.isfinite(model.descriptor.s_inv_std).all()


def test_fit_statistics_keeps_fixed_neighbor_norm() -> None:
    model = EnergyModel(small_config(neighbor_norm=30.0))
    model.fit_statistics([atoms_to_graph(cu_au_cell(), TYPE_MAP, 4.0)])
    assert model.descriptor.neighbor_norm.item() == 30.0
    with pytest.raises(ValueError, match="empty"):
        model.fit_statistics([])


def test_isolated_atom_energy_is_its_shift() -> None:
    model = EnergyModel(small_config())
    model.core.energy_shift.copy_(torch.tensor([-1.0, -2.0]))
    atoms = ase.Atoms("AuCu", positions=[[0, 0, 0], [20, 0, 0]])
    out = model(atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64))
    isolated = model.fitting(
        torch.zeros(1, model.descriptor.out_features, dtype=torch.float64), torch.tensor([0])
    )
    assert out["forces"].abs().max() == 0
    expected = -3.0 + model.energy_scale * (
        isolated
        + model.fitting(
            torch.zeros(1, model.descriptor.out_features, dtype=torch.float64), torch.tensor([1])
        )
    )
    assert out["energy"].item() == pytest.approx(expected.item(), rel=1e-12)


# ----------------------------------------------------------------- bad input
def test_bad_inputs_raise_clear_errors(make_model: MakeModel) -> None:
    model = make_model()
    f = model.energy_function()
    pos = torch.tensor([[0.0, 0.0, 0.0], [1.5, 0.0, 0.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="type index 2.*type_map"):
        f(torch.tensor([0, 2]), pos)
    with pytest.raises(ValueError, match="NaN or infinite"):
        f(torch.tensor([0, 1]), pos * float("inf"))
    with pytest.raises(ValueError, match="closer than min_distance"):
        f(torch.tensor([0, 1]), pos * 0.1)
    with pytest.raises(ValueError, match="singular"):
        f(torch.tensor([0, 1]), pos, torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match="integer"):
        f(torch.tensor([0.0, 1.0]), pos)
    g = atoms_to_graph(cu_au_cell(), TYPE_MAP, 4.0, dtype=torch.float64)
    g.pos[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model(g)
    del g.species
    with pytest.raises(ValueError, match="species"):
        model(g)


def test_min_distance_can_be_disabled() -> None:
    model = EnergyModel(small_config(min_distance=0.0))
    pos = torch.tensor([[0.0, 0.0, 0.0], [0.05, 0.0, 0.0]], dtype=torch.float64)
    assert torch.isfinite(model.energy_function()(torch.tensor([0, 1]), pos))


# ------------------------------------------------------------------- config
def test_config_round_trip_and_errors() -> None:
    cfg = small_config(type_one_side=False)
    assert EnergyModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown keys \\['rcut'\\]"):
        EnergyModelConfig.from_dict({**cfg.to_dict(), "rcut": 3.0})
    with pytest.raises(ValueError, match="Valid dtypes"):
        small_config(dtype="float16")
    with pytest.raises(ValueError, match="duplicates"):
        small_config(type_map=["Cu", "Cu"])
    with pytest.raises(TypeError, match="type_map"):
        small_config(type_map="CuAu")
    with pytest.raises(ValueError, match="r_smooth"):
        small_config(r_smooth=4.0)
    with pytest.raises(TypeError, match="EnergyModelConfig"):
        EnergyModel({"type_map": ["Cu"]})  # type: ignore[arg-type]


def test_repr_and_type_pairs() -> None:
    model = EnergyModel(small_config(type_one_side=False))
    text = repr(model)
    assert "AtomisticModel(" in text and "type_map=['Cu', 'Au']" in text
    assert "dtype=float64" in text and "ResidualMLP(" in text
    assert len(model.descriptor.embeddings) == 4
    assert model.type_map == TYPE_MAP and model.config.r_cut == 4.0


def test_neighbor_list_helper_used_by_energy_function() -> None:
    pos = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    edge_index, _ = neighbor_list(pos, 2.0)
    assert edge_index.shape[1] == 2


def test_one_atom_cell_much_smaller_than_cutoff(make_model: MakeModel) -> None:
    """Only periodic images as neighbours: zero force, stress = strain derivative."""
    atoms = ase.Atoms(
        "Cu",
        positions=[[0.1, 0.2, 0.3]],
        cell=[[2.6, 0.1, 0], [0, 2.4, 0.2], [0.3, 0, 2.5]],
        pbc=True,
    )
    model = make_model(atoms)
    g = atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=torch.float64)
    out = model(g, compute_stress=True)
    assert g.edge_index.shape[1] >= 18  # images of the same atom, up to 1.6 cells away
    assert out["forces"].abs().max() < 1e-12
    de = _fd_strain_derivative(model, atoms)
    np.testing.assert_allclose(
        out["stress"][0].detach().numpy(), de / atoms.get_volume(), rtol=1e-6, atol=1e-10
    )


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), flip=st.booleans())
def test_property_random_isometry_and_permutation(seed: int, flip: bool) -> None:
    gen = torch.Generator().manual_seed(seed)
    atoms = cu_au_cell((2, 2, 1), seed=seed % 7)
    model = EnergyModel(small_config())
    f = model.energy_function()
    g = atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=gen, dtype=torch.float64))
    if flip:
        q = -q
    shift = torch.randn(3, generator=gen, dtype=torch.float64)
    perm = torch.randperm(len(atoms), generator=gen)
    e0 = f(g.species, g.pos, g.cell[0])
    e1 = f(g.species[perm], g.pos[perm] @ q.T + shift, g.cell[0] @ q.T)
    assert abs(e1.item() - e0.item()) <= 1e-12 * max(1.0, abs(e0.item()))
