"""Harness verdicts (geodl.symmetry, float64) for the DeepPot-SE energy model."""

from __future__ import annotations

from collections.abc import Callable

import ase
import ase.build
import pytest
import torch
from torch import Tensor

from geodl.atoms import EnergyModel, atoms_to_graph, neighbor_list
from geodl.symmetry import (
    check_equivariance,
    check_forces,
    check_invariance,
    get_group,
    product,
    verify_declarations,
)
from tests.atoms.conftest import TYPE_MAP, cu_au_cell, random_cluster

MakeModel = Callable[..., EnergyModel]


def _inputs(atoms: ase.Atoms) -> tuple[Tensor, ...]:
    g = atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64)
    if atoms.pbc.any():
        return g.species, g.pos, g.cell[0]
    return g.species, g.pos


STRUCTURES = {"periodic": cu_au_cell, "cluster": lambda: random_cluster(6)}


def _expected(atoms: ase.Atoms, group: str) -> str:
    # only atoms of equal species are exchanged: with all species different (the
    # two-atom Cu-Au cell) a permutation check compares nothing
    distinct = len(set(atoms.numbers)) == len(atoms)
    return "vacuous" if group == "permutation" and distinct else "exact"


@pytest.mark.parametrize("structure", sorted(STRUCTURES))
@pytest.mark.parametrize("group", ["E3", "O3", "translation", "permutation"])
def test_energy_invariant(make_model: MakeModel, structure: str, group: str) -> None:
    atoms = STRUCTURES[structure]()
    f = make_model(atoms).energy_function()
    report = check_invariance(f, group, _inputs(atoms), kind="atoms")
    assert report.verdict == _expected(atoms, group), str(report)
    assert report.dtype == torch.float64 or "float64" in str(report.dtype)


def test_energy_invariant_under_product_group(make_model: MakeModel) -> None:
    atoms = cu_au_cell((2, 2, 1))
    f = make_model(atoms).energy_function()
    group = product(get_group("E3"), get_group("permutation"))
    assert check_invariance(f, group, _inputs(atoms), kind="atoms").verdict == "exact"


@pytest.mark.parametrize("structure", sorted(STRUCTURES))
def test_forces_equivariant(make_model: MakeModel, structure: str) -> None:
    atoms = STRUCTURES[structure]()
    f = make_model(atoms).energy_function()
    for group in ("E3", "permutation"):
        report = check_forces(f, group, _inputs(atoms), kind="atoms")
        assert report.verdict == _expected(atoms, group), str(report)


def test_stress_is_rank2(make_model: MakeModel) -> None:
    atoms = cu_au_cell()
    model = make_model(atoms)

    def stress(species: Tensor, pos: Tensor, cell: Tensor) -> Tensor:
        edge_index, shifts = neighbor_list(pos, model.r_cut, cell, True)
        batch = torch.zeros(len(pos), dtype=torch.long)
        out = model.compute(species, pos, edge_index, shifts, cell[None], batch, 1, False, True)
        return out["stress"][0]

    report = check_equivariance(stress, "O3", _inputs(atoms), kind="atoms", out_rep="rank2")
    assert report.verdict == "exact", str(report)
    assert float(stress(*_inputs(atoms)).abs().max()) > 1e-6  # not trivially zero


def test_declarations_verified(make_model: MakeModel) -> None:
    atoms = cu_au_cell((2, 2, 1))  # equal species present: the permutation compares something
    f = make_model(atoms).energy_function()
    reports = verify_declarations(f, _inputs(atoms))
    assert len(reports) == len(f.declared_symmetries()) == 2
    assert all(r.matches_declaration for r in reports), [str(r) for r in reports]


def test_harness_sees_a_broken_energy(make_model: MakeModel) -> None:
    """Control: adding an external field breaks rotations, and the harness notices."""
    atoms = random_cluster(6)
    f = make_model(atoms).energy_function()

    def with_field(species: Tensor, pos: Tensor) -> Tensor:
        return f(species, pos) + 0.1 * pos[:, 2].sum()

    assert check_invariance(with_field, "SO3", _inputs(atoms), kind="atoms").verdict == "broken"
