from __future__ import annotations

import ase
import ase.build
import numpy as np
import pytest
import torch
from ase.neighborlist import neighbor_list as ase_neighbor_list
from hypothesis import given, settings
from hypothesis import strategies as st

from geodl.atoms import neighbor_list


def _pairs(edge_index: torch.Tensor, shifts: torch.Tensor) -> set[tuple[int, ...]]:
    return {
        (int(i), int(j), *map(int, s.round().tolist()))
        for i, j, s in zip(edge_index[0], edge_index[1], shifts, strict=True)
    }


def _ase_pairs(atoms: ase.Atoms, cutoff: float) -> set[tuple[int, ...]]:
    i, j, s = ase_neighbor_list("ijS", atoms, cutoff)
    return {(int(a), int(b), *map(int, c)) for a, b, c in zip(i, j, s, strict=True)}


@pytest.mark.parametrize("pbc", [(True, True, True), (True, False, True), (False, False, False)])
def test_matches_ase_small_cell(pbc: tuple[bool, bool, bool]) -> None:
    atoms = ase.build.bulk("Cu", "fcc", a=3.6) * (2, 1, 1)  # far smaller than 2 r_c
    atoms.rattle(0.1, seed=0)
    atoms.pbc = pbc
    pos = torch.tensor(atoms.positions)
    cell = torch.tensor(atoms.cell.array)
    edge_index, shifts = neighbor_list(pos, 5.0, cell, pbc)
    assert _pairs(edge_index, shifts) == _ase_pairs(atoms, 5.0)
    vec = pos[edge_index[1]] - pos[edge_index[0]] + shifts @ cell
    assert float(vec.norm(dim=1).max()) < 5.0
    assert edge_index.dtype == torch.long and shifts.dtype == pos.dtype


def test_slab_with_zero_vacuum_vector() -> None:
    atoms = ase.build.fcc111("Cu", size=(2, 2, 3), vacuum=None, a=3.6)
    atoms.cell[2] = [0.0, 0.0, 0.0]
    atoms.pbc = (True, True, False)
    edge_index, shifts = neighbor_list(
        torch.tensor(atoms.positions), 4.0, torch.tensor(atoms.cell.array), atoms.pbc
    )
    assert bool((shifts[:, 2] == 0).all())
    assert _pairs(edge_index, shifts) == _ase_pairs(atoms, 4.0)


def test_isolated_atoms_and_empty() -> None:
    pos = torch.tensor([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    edge_index, shifts = neighbor_list(pos, 3.0)
    assert edge_index.shape == (2, 0) and shifts.shape == (0, 3)
    edge_index, shifts = neighbor_list(torch.zeros(0, 3), 3.0)
    assert edge_index.shape == (2, 0)


def test_full_list_sorted_by_centre() -> None:
    pos = torch.tensor(ase.build.molecule("C6H6").positions)
    edge_index, _ = neighbor_list(pos, 2.5)
    assert bool((edge_index[0][1:] >= edge_index[0][:-1]).all())
    pairs = set(map(tuple, edge_index.T.tolist()))
    assert pairs == {(j, i) for i, j in pairs}


def test_errors() -> None:
    pos = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="needs a 'cell'"):
        neighbor_list(pos, 3.0, None, True)
    with pytest.raises(ValueError, match="singular"):
        neighbor_list(pos, 3.0, torch.zeros(3, 3), True)
    with pytest.raises(ValueError, match="NaN or infinite"):
        neighbor_list(torch.tensor([[0.0, float("nan"), 0.0]]), 3.0)
    with pytest.raises(ValueError, match="shape"):
        neighbor_list(torch.zeros(4), 3.0)
    with pytest.raises(ValueError, match="cutoff"):
        neighbor_list(pos, -1.0)
    with pytest.raises(ValueError, match="pbc"):
        neighbor_list(pos, 1.0, torch.eye(3), (True, True))


@settings(max_examples=15)
@given(
    seed=st.integers(0, 10_000),
    pbc=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    cutoff=st.floats(1.5, 4.5),
)
def test_property_matches_ase_on_random_triclinic_cells(
    seed: int, pbc: tuple[bool, bool, bool], cutoff: float
) -> None:
    rng = np.random.default_rng(seed)
    cell = np.diag(rng.uniform(2.0, 6.0, 3)) + rng.uniform(-1.0, 1.0, (3, 3))
    n = int(rng.integers(1, 7))
    atoms = ase.Atoms(f"Cu{n}", scaled_positions=rng.uniform(0, 1, (n, 3)), cell=cell, pbc=pbc)
    edge_index, shifts = neighbor_list(
        torch.tensor(atoms.positions), cutoff, torch.tensor(cell), pbc
    )
    assert _pairs(edge_index, shifts) == _ase_pairs(atoms, cutoff)


def test_native_half_list_expansion_equals_vesin_full_list() -> None:
    import ase.build
    import numpy as np
    from vesin import NeighborList

    from geodl.geometry import neighbor_list

    atoms = ase.build.bulk("Cu", "fcc", a=3.6) * (2, 2, 2)
    atoms.rattle(0.1, seed=0)
    pos = torch.tensor(atoms.positions)
    edge_index, shifts, closest = neighbor_list(
        pos, 5.0, torch.tensor(atoms.cell.array), True, with_min_distance=True
    )
    assert bool((edge_index[0][1:] >= edge_index[0][:-1]).all())  # sorted by centre
    i, j, s, d = NeighborList(cutoff=5.0, full_list=True).compute(
        points=atoms.positions, box=atoms.cell.array, periodic=True, quantities="ijSd"
    )
    mine = sorted(zip(*edge_index.tolist(), *shifts.long().T.tolist(), strict=True))
    ref = sorted(zip(i.tolist(), j.tolist(), *np.asarray(s).T.tolist(), strict=True))
    assert mine == ref
    assert closest == pytest.approx(float(d.min()))
