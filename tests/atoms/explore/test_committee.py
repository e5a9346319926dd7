"""Committee: the deviation formula, its invariance, the mean calculator equals the mean of
the members' own calculators, batched deviations equal per-frame ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.calculators.calculator import PropertyNotImplementedError

from geodl.atoms.ase import GeoDLCalculator
from geodl.atoms.explore import Committee, CommitteeCalculator, force_deviation
from geodl.atoms.model import EnergyModel
from tests.atoms.conftest import cu_au_cell, fitted_model, small_config


def _committee(k: int = 3) -> Committee:
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        model = EnergyModel(small_config())
        models.append(model)
    return Committee(models)


def test_force_deviation_formula() -> None:
    f = torch.randn(4, 5, 3, dtype=torch.float64)
    expected = torch.sqrt(((f - f.mean(0)) ** 2).sum(-1).mean(0))
    torch.testing.assert_close(force_deviation(f), expected)
    rot = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64)).Q
    torch.testing.assert_close(force_deviation(f @ rot.T), expected)  # invariant
    with pytest.raises(ValueError, match=r"expected forces of shape \(K>=2, N, 3\)"):
        force_deviation(f[:1])


def test_calculator_is_the_members_mean_and_deviation_is_invariant() -> None:
    committee = _committee()
    atoms = cu_au_cell((2, 2, 1))
    atoms.calc = CommitteeCalculator(committee)
    forces, energy = atoms.get_forces(), atoms.get_potential_energy()
    stress = atoms.get_stress()
    dev = atoms.calc.results["max_force_deviation"]
    singles = []
    for m in committee.models:
        b = atoms.copy()
        b.calc = GeoDLCalculator(m)
        singles.append((b.get_potential_energy(), b.get_forces(), b.get_stress()))
    assert energy == pytest.approx(np.mean([s[0] for s in singles]), abs=1e-10)
    np.testing.assert_allclose(forces, np.mean([s[1] for s in singles], axis=0), atol=1e-10)
    np.testing.assert_allclose(stress, np.mean([s[2] for s in singles], axis=0), atol=1e-10)
    expected = force_deviation(torch.tensor(np.array([s[1] for s in singles]))).max()
    assert dev == pytest.approx(float(expected), rel=1e-8) and dev > 0
    moved = atoms.copy()  # rotate (with the cell), translate, permute like atoms
    moved.rotate(33, "z", rotate_cell=True)
    moved.translate([0.3, -1.2, 0.7])
    perm = np.random.default_rng(0).permutation(len(moved))
    moved = moved[perm]
    moved.calc = CommitteeCalculator(committee)
    moved.get_forces()
    assert moved.calc.results["max_force_deviation"] == pytest.approx(dev, rel=1e-8)


def test_batched_max_deviation_equals_per_frame() -> None:
    committee = _committee(2)
    frames = [cu_au_cell(seed=s) for s in range(3)] + [cu_au_cell((2, 2, 1), seed=5)]
    batched = committee.max_deviation(frames, batch_size=3)
    single = [committee.predict(a)["deviation"].max() for a in frames]
    np.testing.assert_allclose(batched, single, rtol=1e-9)


def test_members_must_share_type_map_and_cutoff() -> None:
    a = fitted_model(small_config(), cu_au_cell())
    b = fitted_model(small_config(r_cut=4.5), cu_au_cell())
    with pytest.raises(ValueError, match="member 1 has type_map"):
        Committee([a, b])
    with pytest.raises(ValueError, match="at least two models"):
        Committee([a])
    cluster = bulk("Cu", cubic=True)
    cluster.pbc = False
    cluster.calc = CommitteeCalculator(Committee([a, a]))
    cluster.get_forces()
    assert cluster.calc.results["max_force_deviation"] == 0.0  # identical members agree
    with pytest.raises(PropertyNotImplementedError, match="periodic"):
        cluster.get_stress()
