"""GeoDLCalculator: physics (finite differences), caching, per-atom energies, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress

from geodl.atoms import EnergyModel, EnergyModelConfig, atoms_to_graph, save_model
from geodl.atoms.ase import GeoDLCalculator


def _model(dtype: str = "float64") -> EnergyModel:
    torch.manual_seed(0)
    cfg = EnergyModelConfig(
        type_map=["Cu", "Au"],
        r_cut=4.0,
        r_smooth=2.5,
        embed_widths=(4, 8),
        axis_neurons=2,
        fitting_widths=(12,),
        dtype=dtype,
    )
    model = EnergyModel(cfg)
    model.fit_statistics([atoms_to_graph(_alloy(), cfg.type_map, cfg.r_cut)])
    return model


def _alloy(seed: int = 0) -> Atoms:
    a = bulk("Cu", "fcc", a=3.7, cubic=True)
    a.rattle(0.1, seed=seed)
    a.symbols[1] = "Au"
    return a


def test_forces_and_stress_match_finite_differences() -> None:
    atoms = _alloy()
    atoms.calc = GeoDLCalculator(_model())
    f = atoms.get_forces()
    np.testing.assert_allclose(f, calculate_numerical_forces(atoms, eps=1e-5), atol=1e-7)
    s = atoms.get_stress()
    np.testing.assert_allclose(s, calculate_numerical_stress(atoms, eps=1e-6), atol=1e-7)
    assert np.abs(f).max() > 1e-3 and np.abs(s).max() > 1e-5  # not trivially zero


def test_per_atom_energies_sum_to_the_energy() -> None:
    atoms = _alloy()
    atoms.calc = GeoDLCalculator(_model())
    e = atoms.get_potential_energies()
    assert e.shape == (4,)
    assert np.isclose(e.sum(), atoms.get_potential_energy())


def test_cache_recomputes_when_positions_numbers_cell_or_pbc_change() -> None:
    calc = GeoDLCalculator(_model())
    calls = []
    original = calc.calculate

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return original(*args, **kwargs)

    calc.calculate = counting  # type: ignore[method-assign]
    atoms = _alloy()
    atoms.calc = calc
    e0 = atoms.get_potential_energy()
    atoms.get_forces()
    atoms.get_stress()
    assert len(calls) == 1  # forces and stress came with the energy
    atoms.positions[0, 0] += 0.05
    e1 = atoms.get_potential_energy()
    assert len(calls) == 2 and e1 != e0
    atoms.numbers[2] = 79
    e2 = atoms.get_potential_energy()
    assert len(calls) == 3 and e2 != e1
    atoms.set_cell(atoms.cell * 1.01, scale_atoms=False)
    e3 = atoms.get_potential_energy()
    assert len(calls) == 4 and e3 != e2
    atoms.pbc = [True, True, False]
    e4 = atoms.get_potential_energy()
    assert len(calls) == 5 and e4 != e3
    with pytest.raises(PropertyNotImplementedError, match="periodic in all three"):
        atoms.get_stress()


def test_implemented_properties_is_per_instance_and_model_untouched(tmp_path: Path) -> None:
    model = _model("float32")
    a, b = GeoDLCalculator(model), GeoDLCalculator(model, dtype="float64")
    a.implemented_properties.append("dipole")
    assert "dipole" not in b.implemented_properties
    assert "implemented_properties" in vars(a)
    assert model.energy_shift.dtype == torch.float32  # the float64 copy did not alter it
    assert "GeoDLCalculator(type_map=['Cu', 'Au']" in repr(b) and "float64" in repr(b)
    path = tmp_path / "m.pt"
    save_model(model, path)
    atoms = _alloy()
    atoms.calc = GeoDLCalculator(str(path))
    e_file = atoms.get_potential_energy()
    atoms.calc = GeoDLCalculator(model)
    assert e_file == pytest.approx(atoms.get_potential_energy(), rel=1e-6)


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="no model file"):
        GeoDLCalculator("missing/model.pt")
    with pytest.raises(TypeError, match="EnergyModel or a path"):
        GeoDLCalculator(3)
    with pytest.raises(ValueError, match="dtype must be"):
        GeoDLCalculator(_model(), dtype="float16")
    atoms = Atoms("CuAg", positions=[[0, 0, 0], [2.5, 0, 0]])
    atoms.calc = GeoDLCalculator(_model())
    with pytest.raises(ValueError, match=r"species \['Ag'\] were not seen in training"):
        atoms.get_potential_energy()


def test_results_follow_the_callers_atom_order() -> None:
    """The calculator orders atoms by species internally; results come back in the
    caller's order (same as a structure given already ordered)."""
    import ase.build
    import numpy as np

    from geodl.atoms import EnergyModel, EnergyModelConfig

    torch.manual_seed(0)
    model = EnergyModel(
        EnergyModelConfig(
            type_map=["Cu", "Au"],
            r_cut=4.0,
            r_smooth=3.0,
            embed_widths=(4,),
            axis_neurons=2,
            fitting_widths=(8,),
            dtype="float64",
        )
    )
    atoms = ase.build.bulk("Cu", "fcc", a=3.7, cubic=True) * (2, 1, 1)
    atoms.symbols[[1, 4, 6]] = "Au"
    atoms.rattle(0.1, seed=1)
    atoms.calc = GeoDLCalculator(model)
    forces, energies = atoms.get_forces(), atoms.get_potential_energies()
    order = np.argsort(atoms.numbers == 79, kind="stable")
    ordered = atoms[order]
    ordered.calc = GeoDLCalculator(model)
    np.testing.assert_allclose(ordered.get_forces(), forces[order], atol=1e-12)
    np.testing.assert_allclose(ordered.get_potential_energies(), energies[order], atol=1e-12)
    assert ordered.get_potential_energy() == pytest.approx(atoms.get_potential_energy())
