"""Reference calculators: MMFF94 through ASE (finite-difference forces, minimum), EMT, LJ."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.fd import calculate_numerical_forces

from geodl.atoms.ase import (
    KCAL_PER_MOL,
    MMFF94Calculator,
    molecule_from_smiles,
    reference_calculator,
)


@pytest.mark.parametrize("smiles", ["CCO", "CC(=O)Oc1ccccc1C(=O)O"])
def test_mmff94_forces_match_finite_differences(smiles: str) -> None:
    atoms, mol = molecule_from_smiles(smiles)
    atoms.calc = MMFF94Calculator(mol)
    assert np.abs(atoms.get_forces()).max() < 1e-2  # optimised geometry: a minimum
    e_min = atoms.get_potential_energy()
    atoms.rattle(0.05, seed=3)
    assert atoms.get_potential_energy() > e_min
    f = atoms.get_forces()
    np.testing.assert_allclose(f, calculate_numerical_forces(atoms, eps=1e-4), atol=2e-4)
    assert np.abs(f).max() > 0.1


def test_mmff94_matches_rdkit_and_is_invariant() -> None:
    from rdkit.Chem import AllChem

    atoms, mol = molecule_from_smiles("CCO")
    atoms.rattle(0.05, seed=1)
    atoms.calc = MMFF94Calculator(mol)
    props = AllChem.MMFFGetMoleculeProperties(mol)
    ff = AllChem.MMFFGetMoleculeForceField(mol, props)
    ref = ff.CalcEnergy(atoms.positions.ravel().tolist()) * KCAL_PER_MOL
    assert atoms.get_potential_energy() == pytest.approx(ref)
    e = atoms.get_potential_energy()
    atoms.rotate(37, "x", center="COM")
    atoms.translate([1.0, -2.0, 0.5])
    assert atoms.get_potential_energy() == pytest.approx(e, abs=1e-8)


def test_reference_registry_and_errors() -> None:
    from ase.build import bulk

    a = bulk("Ar", "fcc", a=5.26, cubic=True)
    a.calc = reference_calculator("lj-argon")
    assert -0.1 < a.get_potential_energy() / len(a) < -0.05  # cohesive energy of LJ argon
    valid = "emt, gfn1-xtb, gfn2-xtb, lj, lj-argon, mmff94, pyscf:<functional>/<basis>"
    with pytest.raises(ValueError, match=f"Unknown reference calculator 'dft'.*{valid}"):
        reference_calculator("dft")
    with pytest.raises(ValueError, match="needs mol="):
        reference_calculator("mmff94")
    with pytest.raises(ValueError, match="could not parse"):
        molecule_from_smiles("C1CC(")
    atoms, mol = molecule_from_smiles("CCO")
    with pytest.raises(ValueError, match="variant"):
        MMFF94Calculator(mol, variant="UFF")
    atoms.numbers[0] = 7
    atoms.calc = MMFF94Calculator(mol)
    with pytest.raises(ValueError, match="do not follow the RDKit molecule"):
        atoms.get_potential_energy()
