"""xTB (tblite) and PySCF references: analytic forces against finite differences, charge
and spin from ``atoms.info``, failures as ASE's CalculationFailed; the registry's errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from ase.calculators.calculator import CalculationFailed
from ase.calculators.fd import calculate_numerical_forces

from geodl.atoms.ase import (
    PySCFCalculator,
    charge_and_spin,
    check_reference,
    reference_calculator,
    reference_names,
)
from geodl.errors import InputError, UserCodeError

needs_tblite = pytest.mark.skipif(
    importlib.util.find_spec("tblite") is None, reason="tblite not installed"
)


@needs_tblite
@pytest.mark.parametrize("name", ["gfn2-xtb", "gfn1-xtb"])
def test_xtb_forces_match_finite_differences(name: str) -> None:
    atoms = molecule("H2O")
    atoms.rattle(0.05, seed=2)
    atoms.calc = reference_calculator(name, atoms)
    f = atoms.get_forces()
    np.testing.assert_allclose(f, calculate_numerical_forces(atoms, eps=1e-4), atol=2e-4)
    assert np.abs(f).max() > 0.05
    e = atoms.get_potential_energy()
    atoms.rotate(40, "y", center="COM")
    atoms.calc = reference_calculator(name, atoms)
    assert atoms.get_potential_energy() == pytest.approx(e, abs=1e-6)


@needs_tblite
def test_xtb_reads_charge_and_spin_from_info() -> None:
    oh = molecule("OH")
    assert charge_and_spin(oh) == (0, 1)  # a radical: one unpaired electron by default
    oh.calc = reference_calculator("gfn2-xtb", oh)
    e_radical = oh.get_potential_energy()
    anion = oh.copy()
    anion.info["charge"] = -1
    assert charge_and_spin(anion) == (-1, 0)
    anion.calc = reference_calculator("gfn2-xtb", anion)
    assert anion.get_potential_energy() < e_radical - 1.0  # OH- is bound: the charge was used
    bad = oh.copy()
    bad.info["spin"] = 0
    with pytest.raises(ValueError, match="does not fit 9 electrons"):
        charge_and_spin(bad)
    bad.info = {"charge": 0.5}
    with pytest.raises(ValueError, match="must be an integer"):
        charge_and_spin(bad)


@needs_tblite
def test_xtb_scf_failure_and_missing_element_raise() -> None:
    atoms = molecule("H2O")
    atoms.calc = reference_calculator("gfn2-xtb", atoms, max_iterations=1)
    with pytest.raises(CalculationFailed, match="SCF not converged"):
        atoms.get_potential_energy()
    heavy = Atoms("Og2", positions=[[0, 0, 0], [0, 0, 3.0]])
    heavy.calc = reference_calculator("gfn2-xtb", heavy)
    with pytest.raises(Exception, match="Z >86"):
        heavy.get_potential_energy()


def test_pyscf_forces_are_analytic_gradients() -> None:
    pytest.importorskip("pyscf")
    atoms = molecule("H2O")
    atoms.rattle(0.03, seed=0)
    atoms.calc = reference_calculator("pyscf:hf/sto-3g")
    f = atoms.get_forces()
    eps = 1e-3
    for i, a in [(0, 2), (1, 1)]:  # two components by central differences
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[i, a] += eps
        minus.positions[i, a] -= eps
        plus.calc, minus.calc = PySCFCalculator("hf", "sto-3g"), PySCFCalculator("hf", "sto-3g")
        fd = -(plus.get_potential_energy() - minus.get_potential_energy()) / (2 * eps)
        assert f[i, a] == pytest.approx(fd, abs=1e-4)


def test_pyscf_failures() -> None:
    pytest.importorskip("pyscf")
    atoms = molecule("H2O")
    atoms.calc = PySCFCalculator("hf", "sto-3g", max_cycle=1)
    with pytest.raises(CalculationFailed, match="SCF not converged"):
        atoms.get_potential_energy()
    periodic = molecule("H2O", vacuum=3.0, pbc=True)
    periodic.calc = PySCFCalculator("hf", "sto-3g")
    with pytest.raises(CalculationFailed, match="molecules only"):
        periodic.get_potential_energy()


def test_registry_lists_names_and_rejects_bad_ones() -> None:
    assert reference_names()[:6] == ["emt", "gfn1-xtb", "gfn2-xtb", "lj", "lj-argon", "mmff94"]
    with pytest.raises(InputError, match=r"Unknown reference calculator 'dft'.*pyscf:<functional>"):
        check_reference("dft")
    with pytest.raises(InputError, match="expected pyscf:<functional>/<basis>"):
        check_reference("pyscf:pbe")
    pytest.importorskip("pyscf")
    with pytest.raises(InputError, match="unknown functional 'nonsense'"):
        check_reference("pyscf:nonsense/sto-3g")
    with pytest.raises(InputError, match="unknown basis 'no-such-basis'"):
        check_reference("pyscf:pbe/no-such-basis")
    with pytest.raises(InputError, match="unknown option.*max_iter. Valid options: max_cycle"):
        check_reference("pyscf:pbe/sto-3g", {"max_iter": 3})
    with pytest.raises(InputError, match="'emt': unknown option.*Valid options: none"):
        check_reference("emt", {"accuracy": 1})


def test_user_factory_through_the_registry(tmp_path: Path) -> None:
    module = tmp_path / "my_refs.py"
    module.write_text(
        "from ase.calculators.emt import EMT\n"
        "def good(scale=1.0):\n    return EMT()\n"
        "def broken():\n    raise RuntimeError('no licence')\n"
        "def not_a_calculator():\n    return 42\n"
    )
    calc = reference_calculator(f"{module}:good")
    assert reference_calculator(f"{module}:good") is calc  # made once per process
    assert check_reference(f"{module}:good", {"scale": 2.0}) == f"{module}:good"
    with pytest.raises(UserCodeError, match="raised RuntimeError: no licence"):
        check_reference(f"{module}:broken")
    with pytest.raises(InputError, match="not an ASE calculator"):
        check_reference(f"{module}:not_a_calculator")
    with pytest.raises(InputError, match="has no callable 'missing'"):
        check_reference(f"{module}:missing")
    with pytest.raises(InputError, match="cannot import module 'no_such_module_xyz'"):
        check_reference("no_such_module_xyz:make")
    with pytest.raises(InputError, match="no such file"):
        check_reference(f"{tmp_path}/absent.py:make")
