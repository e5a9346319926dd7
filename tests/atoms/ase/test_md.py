"""MD through ASE with a geodl model: NVE conserves the total energy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.calculators.emt import EMT

from geodl.atoms import EnergyModel, EnergyModelConfig, atoms_to_graph
from geodl.atoms.ase import GeoDLCalculator, energy_drift, run_md


def test_energy_drift_is_the_slope_per_atom() -> None:
    t = np.linspace(0, 2, 11)
    assert energy_drift(t, 4.0 * t + 1.0, n_atoms=4) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="two frames"):
        energy_drift(t[:1], t[:1], 1)


def test_nve_with_a_geodl_model_conserves_energy() -> None:
    torch.manual_seed(0)
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1))
    atoms.symbols[[0, 3]] = "Au"
    cfg = EnergyModelConfig(
        type_map=["Cu", "Au"],
        r_cut=4.0,
        r_smooth=2.0,
        embed_widths=(4, 8),
        axis_neurons=2,
        fitting_widths=(12,),
        dtype="float64",
    )
    model = EnergyModel(cfg)
    ref = atoms.copy()
    ref.rattle(0.1, seed=1)
    ref.calc = EMT()
    graph = atoms_to_graph(ref, cfg.type_map, cfg.r_cut)
    graph.forces = torch.as_tensor(ref.get_forces())
    model.fit_statistics([graph])
    res = run_md(
        atoms,
        GeoDLCalculator(model),
        ensemble="nve",
        steps=100,
        timestep_fs=1.0,
        temperature_K=300.0,
        log_every=5,
        seed=0,
    )
    assert len(res.time_ps) == 21
    assert res.time_ps[-1] == pytest.approx(0.1)
    assert res.kinetic.std() > 1e-4  # atoms move and exchange energy
    assert abs(res.drift_per_atom_per_ps) < 1e-3  # eV/atom/ps
    assert np.ptp(res.total) / len(atoms) < 1e-3
    assert "drift" in res.summary()


def test_langevin_and_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    atoms = bulk("Cu", cubic=True)
    res = run_md(
        atoms,
        EMT(),
        ensemble="langevin",
        steps=5,
        timestep_fs=2.0,
        temperature_K=500,
        trajectory=str(tmp_path / "md.traj"),
    )
    assert len(res.time_ps) == 6 and (tmp_path / "md.traj").is_file()
    with pytest.raises(ValueError, match="unknown ensemble 'npt'. Valid ensembles: nve"):
        run_md(atoms, EMT(), ensemble="npt")
    with pytest.raises(ValueError, match="no calculator"):
        run_md(bulk("Au"), steps=1)
