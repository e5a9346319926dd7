"""Reading labelled structures: label keys, splits, cached graphs, clear errors."""

from __future__ import annotations

from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.emt import EMT

from geodl.atoms.data import AtomsDataset, bundled_dataset, read_structures


def _labelled(n: int = 3) -> list[Atoms]:
    frames = []
    for k in range(n):
        a = bulk("Cu", cubic=True).repeat((2, 1, 1))
        a.rattle(0.05, seed=k)
        a.symbols[0] = "Au"
        a.calc = EMT()
        a.get_stress()
        a.get_forces()
        frames.append(a)
    return frames


def test_reads_extxyz_labels_from_the_singlepoint_calculator(tmp_path: Path) -> None:
    frames = _labelled()
    path = tmp_path / "d.extxyz"
    ase.io.write(path, frames)
    ds = read_structures(path)
    assert len(ds) == 3 and ds.species == ["Cu", "Au"]
    np.testing.assert_allclose(ds.energy[1], frames[1].get_potential_energy())
    np.testing.assert_allclose(ds.forces[2], frames[2].get_forces(), atol=1e-7)
    np.testing.assert_allclose(
        ds.stress[0].ravel()[[0, 4, 8]], frames[0].get_stress()[:3], atol=1e-9
    )
    assert ds.has_stress.all()
    assert "n_structures=3" in repr(ds)


def test_custom_keys_in_info_and_arrays(tmp_path: Path) -> None:
    frames = []
    for a in _labelled(2):
        b = Atoms(a.numbers, a.positions, cell=a.cell, pbc=a.pbc)
        b.info["REF_energy"] = a.get_potential_energy()
        b.arrays["REF_forces"] = a.get_forces()
        b.info["REF_stress"] = a.get_stress(voigt=False).ravel()
        frames.append(b)
    path = tmp_path / "custom.extxyz"
    ase.io.write(path, frames)
    with pytest.raises(
        ValueError,
        match=r"custom.extxyz\[0\]: no energy label under the key "
        r"'energy'.*REF_energy.*data.energy_key",
    ):
        read_structures(path)
    ds = read_structures(
        path, energy_key="REF_energy", forces_key="REF_forces", stress_key="REF_stress"
    )
    np.testing.assert_allclose(ds.energy, [a.info["REF_energy"] for a in frames])
    assert ds.has_stress.all()


def test_compressed_files_and_lists(tmp_path: Path) -> None:
    ds = read_structures(bundled_dataset("cuau"), index=":5")
    assert len(ds) == 5
    assert len(read_structures(_labelled(2))) == 2
    with pytest.raises(ValueError, match="Unknown bundled dataset 'nope'.*cuau"):
        bundled_dataset("nope")


@pytest.mark.parametrize(
    "content, match",
    [
        ("", "empty"),
        ('2\nLattice="a b"\nCu 0 0 0\n', "ASE could not read"),
        ("not an xyz file at all\n", "ASE could not read"),
    ],
)
def test_malformed_and_empty_files(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "bad.extxyz"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        read_structures(path)


def test_missing_file_and_wrong_types(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        read_structures(tmp_path / "missing.extxyz")
    with pytest.raises(TypeError, match="file path, an ase.Atoms or a list"):
        read_structures(42)  # type: ignore[arg-type]


def test_missing_forces_nan_and_shape_errors() -> None:
    a = molecule("H2O")
    a.info["energy"] = 1.0
    with pytest.raises(ValueError, match=r"<atoms>\[0\]: no forces label"):
        read_structures([a])
    a.arrays["forces"] = np.zeros((3, 3))
    a.info["energy"] = float("nan")
    with pytest.raises(ValueError, match=r"<atoms>\[0\].*NaN"):
        read_structures([a])
    a.info["energy"] = 1.0
    a.positions[1, 0] = np.inf
    with pytest.raises(ValueError, match=r"positions contain NaN"):
        read_structures([a])
    b = molecule("H2O")
    b.calc = None
    b.info["energy"] = 1.0
    b.info["F"] = np.zeros((2, 3))
    b.arrays["F"] = np.zeros((3, 3))
    ds = read_structures([b], forces_key="F")
    assert ds.forces[0].shape == (3, 3)
    good = molecule("H2O")
    good.info["energy"] = 0.0
    good.arrays["forces"] = np.zeros((3, 3))
    unlabelled = read_structures([molecule("CH4")], require_labels=False)
    assert np.isnan(unlabelled.energy[0])
    assert read_structures([good]).has_stress.tolist() == [False]


def test_split_subset_and_species_check() -> None:
    ds = read_structures(_labelled(10))
    train, valid, test = ds.split([0.2, 0.1], seed=3)
    assert (len(train), len(valid), len(test)) == (7, 2, 1)
    names = set(train.names) | set(valid.names) | set(test.names)
    assert len(names) == 10
    again = ds.split([0.2, 0.1], seed=3)
    assert again[1].names == valid.names
    with pytest.raises(ValueError, match="too few"):
        read_structures(_labelled(1)).split([0.5])
    with pytest.raises(ValueError, match=r"species \['Au'\] were not seen in training"):
        ds.check_species(["Cu"])


def test_graphs_are_cached_and_carry_labels() -> None:
    import torch

    ds: AtomsDataset = read_structures(_labelled(2))
    g1 = ds.to_graphs(["Cu", "Au"], 3.0, torch.float64)
    g2 = ds.to_graphs(["Cu", "Au"], 3.0, torch.float64)
    assert g1 is g2
    g = g1[0]
    assert g.energy.shape == (1,) and g.forces.shape == (8, 3) and g.stress.shape == (1, 3, 3)
    assert g.pos.dtype == torch.float64 and float(g.stress_weight) == 1.0
    assert int(g.n_atoms) == 8
    assert ds.to_graphs(["Cu", "Au"], 3.0, torch.float32)[0].pos.dtype == torch.float32


def test_ase_db_and_trajectory_files(tmp_path: Path) -> None:
    frames = _labelled(2)
    for name in ("d.db", "d.traj"):
        ase.io.write(tmp_path / name, frames)
        ds = read_structures(tmp_path / name)
        np.testing.assert_allclose(ds.energy, [a.get_potential_energy() for a in frames])
        assert ds.has_stress.all()
