from __future__ import annotations

import ase
import ase.build
import numpy as np
import pytest
import torch
from ase.calculators.singlepoint import SinglePointCalculator
from torch_geometric.loader import DataLoader

from geodl.atoms import atoms_to_graph
from tests.atoms.conftest import TYPE_MAP, cu_au_cell


def test_fields_and_shapes() -> None:
    atoms = cu_au_cell()
    g = atoms_to_graph(atoms, TYPE_MAP, 4.0)
    n = len(atoms)
    assert g.species.tolist() == [1] + [0] * (n - 1)
    assert g.pos.shape == (n, 3) and g.cell.shape == (1, 3, 3) and g.pbc.shape == (1, 3)
    assert g.pbc.dtype == torch.bool and bool(g.pbc.all())
    assert g.edge_index.shape[0] == 2 and g.shifts.shape == (g.edge_index.shape[1], 3)
    vec = g.pos[g.edge_index[1]] - g.pos[g.edge_index[0]] + g.shifts @ g.cell[0]
    assert float(vec.norm(dim=1).max()) < 4.0
    assert "energy" not in g and "forces" not in g
    assert g.pos.dtype == torch.get_default_dtype()
    assert atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64).pos.dtype == torch.float64


def test_labels_from_calculator() -> None:
    atoms = cu_au_cell()
    forces = np.arange(3 * len(atoms), dtype=float).reshape(-1, 3)
    stress = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    atoms.calc = SinglePointCalculator(atoms, energy=-7.5, forces=forces, stress=stress)
    g = atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64)
    assert g.energy.tolist() == [-7.5]
    assert np.allclose(g.forces.numpy(), forces)
    assert g.stress.shape == (1, 3, 3)
    assert g.stress[0, 1, 2].item() == 4.0 and g.stress[0, 0, 1].item() == 6.0


def test_molecule_without_cell() -> None:
    g = atoms_to_graph(ase.build.molecule("CH4"), ["H", "C"], 2.0)
    assert not bool(g.pbc.any())
    assert g.cell.abs().max() == 0 and g.shifts.abs().max() == 0
    assert g.edge_index.shape[1] == 2 * 4 + 4 * 3  # C-H both ways, H-H pairs


def test_batching_with_dataloader() -> None:
    graphs = [atoms_to_graph(cu_au_cell((1, 1, k)), TYPE_MAP, 4.0) for k in (1, 2)]
    batch = next(iter(DataLoader(graphs, batch_size=2)))
    assert batch.num_graphs == 2
    assert batch.cell.shape == (2, 3, 3) and batch.pbc.shape == (2, 3)
    assert int(batch.edge_index[:, graphs[0].edge_index.shape[1] :].min()) >= graphs[0].num_nodes
    assert batch.batch.tolist() == [0] * graphs[0].num_nodes + [1] * graphs[1].num_nodes


def test_errors() -> None:
    with pytest.raises(ValueError, match=r"species \['Ag'\] are not in the type_map"):
        atoms_to_graph(ase.Atoms("CuAg", positions=[[0, 0, 0], [2, 0, 0]]), TYPE_MAP, 3.0)
    with pytest.raises(TypeError, match="ase.Atoms"):
        atoms_to_graph("Cu", TYPE_MAP, 3.0)
    with pytest.raises(TypeError, match="type_map"):
        atoms_to_graph(cu_au_cell(), "CuAu", 3.0)
    bad = cu_au_cell()
    bad.cell[2] = bad.cell[0]
    with pytest.raises(ValueError, match="singular"):
        atoms_to_graph(bad, TYPE_MAP, 3.0)
