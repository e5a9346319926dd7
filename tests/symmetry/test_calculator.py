"""check_calculator: an ASE calculator's energy, forces and stress, each with a report."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk, molecule
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from hypothesis import given, settings

from geodl.symmetry import check_calculator, get_group, make_context
from geodl.symmetry.strategies import seeds


class _TiltedEMT(Calculator):
    """EMT plus k * sum z^2 (a planted break of rotations, forces consistent)."""

    implemented_properties = ["energy", "forces", "stress"]

    def __init__(self, k: float) -> None:
        super().__init__()
        self.k, self.emt = k, EMT()

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):  # type: ignore[no-untyped-def]
        super().calculate(atoms, properties, system_changes)
        a = self.atoms.copy()
        a.calc = self.emt
        z = a.positions[:, 2] - a.positions[:, 2].mean()
        forces = a.get_forces()
        forces[:, 2] -= 2 * self.k * z
        self.results = {
            "energy": a.get_potential_energy() + self.k * float((z**2).sum()),
            "forces": forces,
            "stress": a.get_stress(),
        }


def _cu() -> object:
    atoms = bulk("Cu", cubic=True) * (2, 1, 1)
    atoms.rattle(0.05, seed=0)
    return atoms


def test_emt_is_exact_output_by_output() -> None:
    r = check_calculator(EMT(), _cu(), samples=4)
    assert r.verdict == "exact" and r.group == "E3*permutation*lattice"
    assert set(r.outputs) == {"energy", "forces", "stress"}
    assert r.outputs["forces"].out_rep == "per-point:vector"
    assert r.outputs["stress"].out_rep == "rank2"
    assert all(o.verdict == "exact" and o.errors for o in r.outputs.values())
    water = molecule("H2O")
    water.rattle(0.05, seed=1)
    m = check_calculator(EMT(), water, samples=4)  # not periodic: no stress, no lattice
    assert m.verdict == "exact" and set(m.outputs) == {"energy", "forces"}
    assert m.group == "E3*permutation"


def test_planted_break_is_found_in_energy_and_forces() -> None:
    r = check_calculator(_TiltedEMT(1e-3), _cu(), samples=4)
    assert r.verdict == "broken"
    assert r.outputs["energy"].verdict == r.outputs["forces"].verdict == "broken"
    assert r.outputs["stress"].verdict == "exact"
    # translations keep it (the tilt is about the centre) but lattice translations do not
    shifted = check_calculator(_TiltedEMT(1e-3), _cu(), "translation", lattice=False, samples=2)
    assert shifted.verdict == "exact"
    assert check_calculator(_TiltedEMT(1e-3), _cu(), "translation", samples=2).verdict == "broken"


def test_lattice_translations_need_a_periodic_model() -> None:
    # a model that ignores the cell is not invariant under lattice translations
    from geodl.symmetry import check_invariance

    atoms = _cu()
    inputs = (
        torch.as_tensor(atoms.numbers),
        torch.as_tensor(atoms.positions),
        torch.as_tensor(atoms.cell.array),
    )
    free = lambda s, p, c: torch.exp(-torch.cdist(p, p)).sum()  # noqa: E731
    assert check_invariance(free, "lattice", inputs).verdict == "broken"
    with pytest.raises(ValueError, match="properties"):
        check_calculator(EMT(), atoms, properties=("dipole",))


@settings(max_examples=10, deadline=None)
@given(seed=seeds())
def test_lattice_action_is_a_homomorphism(seed: int) -> None:
    atoms = _cu()
    x = (
        torch.as_tensor(atoms.numbers),
        torch.as_tensor(atoms.positions),
        torch.as_tensor(atoms.cell.array),
    )
    G = get_group("E3 x permutation x lattice")
    ctx = make_context("atoms", x)
    a, b = G.sample(2, torch.Generator().manual_seed(seed), ctx=ctx)
    ab, a_b = (a @ b).act(x, "atoms"), a.act(b.act(x, "atoms"), "atoms")
    assert all(
        torch.allclose(u.double(), v.double(), atol=1e-10) for u, v in zip(ab, a_b, strict=True)
    )
    back = (~a).act(a.act(x, "atoms"), "atoms")
    assert all(
        torch.allclose(u.double(), v.double(), atol=1e-10) for u, v in zip(back, x, strict=True)
    )
    assert not G.identity(ctx=ctx).lattice is not None or G.identity(ctx=ctx).is_identity()
    assert np.isfinite(float(a.det))
