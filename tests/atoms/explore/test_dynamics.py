"""Exploration MD: sampled frames with deviations; blow-ups end the trajectory with a
reason instead of raising; NPT moves the cell; species swaps keep the composition."""

from __future__ import annotations

import numpy as np
import torch
from ase import Atoms
from ase.build import bulk

from geodl.atoms.explore import (
    Committee,
    CommitteeCalculator,
    default_timestep,
    explore_md,
    swap_species,
)
from geodl.atoms.model import EnergyModel
from tests.atoms.conftest import cu_au_cell, small_config


def _calc() -> CommitteeCalculator:
    models = []
    for seed in range(2):
        torch.manual_seed(seed)
        models.append(EnergyModel(small_config(min_distance=0.0)))
    return CommitteeCalculator(Committee(models))


def test_samples_frames_with_their_deviation() -> None:
    calc = _calc()
    start = cu_au_cell((2, 2, 1))
    start.info["charge"] = 0
    traj = explore_md(
        start, calc, temperature_K=300, steps=20, timestep_fs=1.0, sample_every=5, seed=1
    )
    assert traj.blowup is None and len(traj.frames) == 4 and traj.deviations.shape == (4,)
    assert np.all(traj.deviations > 0) and np.isfinite(traj.deviations).all()
    assert traj.frames[0].info == {"charge": 0}
    assert not np.allclose(traj.frames[0].positions, traj.frames[-1].positions)
    assert default_timestep(start) == 2.0


def test_blowups_end_the_trajectory_with_a_reason() -> None:
    calc = _calc()
    traj = explore_md(
        cu_au_cell(),
        calc,
        temperature_K=300,
        steps=20,
        timestep_fs=1.0,
        sample_every=5,
        abort_deviation=0.0,
    )
    assert traj.blowup == "deviation" and traj.blowup_deviation > 0
    assert len(traj.frames) == 1 and traj.deviations.tolist() == [traj.blowup_deviation]
    squeezed = Atoms("Cu2", positions=[[0, 0, 0], [0.5, 0, 0]])  # far below 0.5 * 2 r_cov
    traj = explore_md(squeezed, calc, temperature_K=300, steps=10, timestep_fs=1.0, sample_every=5)
    assert traj.blowup == "overlap"
    strict = []
    for seed in range(2):
        torch.manual_seed(seed)
        strict.append(EnergyModel(small_config(min_distance=2.0)))  # the model's own check
    traj = explore_md(
        squeezed,
        CommitteeCalculator(Committee(strict)),
        temperature_K=300,
        steps=10,
        timestep_fs=1.0,
        sample_every=5,
        min_distance_ratio=0.0,
    )
    assert traj.blowup == "error" and "ValueError" in traj.error


def test_npt_changes_the_cell_of_periodic_frames() -> None:
    calc = _calc()
    start = cu_au_cell((2, 2, 2))
    traj = explore_md(
        start,
        calc,
        temperature_K=300,
        steps=20,
        timestep_fs=2.0,
        sample_every=10,
        pressure_GPa=5.0,
    )
    assert traj.blowup is None
    assert not np.allclose(traj.frames[-1].cell.array, start.cell.array)
    nvt = explore_md(start, calc, temperature_K=300, steps=10, timestep_fs=2.0, sample_every=10)
    np.testing.assert_allclose(nvt.frames[-1].cell.array, start.cell.array)


def test_swap_species_keeps_composition_and_changes_ordering() -> None:
    atoms = bulk("Cu", cubic=True).repeat(2)
    atoms.numbers[::3] = 79
    atoms.info["kind"] = "bulk"
    swapped = swap_species(atoms, 0.5, np.random.default_rng(1))
    assert sorted(swapped.numbers) == sorted(atoms.numbers)
    assert (swapped.numbers != atoms.numbers).sum() >= 2
    np.testing.assert_array_equal(swapped.positions, atoms.positions)
    assert swapped.info["kind"] == "bulk" and (atoms.numbers[::3] == 79).all()  # a copy
    same = swap_species(bulk("Cu", cubic=True), 1.0, np.random.default_rng(1))
    assert (same.numbers == 29).all()
    assert (swap_species(atoms, 0.0, np.random.default_rng(1)).numbers == atoms.numbers).all()
