"""Data formats: DeePMD folders (single and multi-system, with and without virial), dpdata
formats, bundled datasets, round trips through ``geodl convert``, and the virial sign."""

from __future__ import annotations

from pathlib import Path

import ase.build
import numpy as np
import pytest
from ase.calculators.emt import EMT

from geodl.atoms.data import (
    DATA_FORMATS,
    bundled_dataset,
    convert,
    detect_format,
    find_deepmd_systems,
    read_frames,
    read_structures,
    write_frames,
)

pytest.importorskip("dpdata", reason="the 'formats' extra (dpdata) is not installed")


def _emt_frames(n: int = 3) -> list[ase.Atoms]:
    """Labelled, strained, rattled Cu/Au cells of two compositions (stress included)."""
    frames = []
    for k in range(n):
        atoms = ase.build.bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 1, 1)
        atoms.symbols[: 1 + k % 2] = "Au"
        atoms.set_cell(atoms.cell * (1.0 + 0.01 * k), scale_atoms=True)
        atoms.rattle(0.05, seed=k)
        atoms.calc = EMT()
        atoms.get_forces()
        atoms.get_stress()
        frames.append(atoms)
    return frames


def _same(a: list[ase.Atoms], b: list[ase.Atoms]) -> None:
    key = lambda atoms: (atoms.get_chemical_formula(), round(float(atoms.positions.sum()), 6))  # noqa: E731
    a, b = sorted(a, key=key), sorted(b, key=key)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.get_chemical_symbols() == y.get_chemical_symbols()
        np.testing.assert_allclose(x.positions, y.positions, atol=1e-10)
        np.testing.assert_allclose(x.cell.array, y.cell.array, atol=1e-10)
        assert list(x.pbc) == list(y.pbc)
        rx, ry = x.calc.results, y.calc.results
        assert rx["energy"] == pytest.approx(ry["energy"], abs=1e-10)
        np.testing.assert_allclose(rx["forces"], ry["forces"], atol=1e-10)
        if "stress" in rx:
            np.testing.assert_allclose(rx["stress"], ry["stress"], atol=1e-12)


@pytest.mark.parametrize("fmt", ["deepmd/npy", "deepmd/raw"])
def test_periodic_round_trip_keeps_labels_and_stress(tmp_path: Path, fmt: str) -> None:
    frames = _emt_frames()
    write_frames(frames, tmp_path / "dp", fmt)
    systems = find_deepmd_systems(tmp_path / "dp")
    assert len(systems) == 2  # one system per composition (MultiSystems layout)
    assert detect_format(tmp_path / "dp") == fmt
    back, label = read_frames(tmp_path / "dp")
    assert label == str(tmp_path / "dp")
    _same(frames, back)


def test_virial_sign_is_deepmds(tmp_path: Path) -> None:
    """DeePMD stores the virial W = -V sigma (eV); ASE's stress sigma is dE/deps / V."""
    frames = _emt_frames(1)
    write_frames(frames, tmp_path / "dp", "deepmd/npy")
    (system,) = find_deepmd_systems(tmp_path / "dp")
    virial = np.load(system / "set.000" / "virial.npy").reshape(3, 3)
    atoms = frames[0]
    expected = -atoms.get_volume() * atoms.get_stress(voigt=False)
    np.testing.assert_allclose(virial, expected, atol=1e-10)


def test_molecules_round_trip_without_virial(tmp_path: Path) -> None:
    frames, _ = read_frames("bundled:ethanol", index=":4")
    write_frames(frames, tmp_path / "dp", "deepmd/npy")
    (system,) = find_deepmd_systems(tmp_path / "dp")
    assert (system / "nopbc").is_file()
    assert not (system / "set.000" / "virial.npy").exists()
    back = read_structures(tmp_path / "dp")
    assert not back.has_stress.any() and not back.structures[0].pbc.any()
    np.testing.assert_allclose(back.energy, [f.calc.results["energy"] for f in frames])


def test_single_system_folder_and_index(tmp_path: Path) -> None:
    write_frames(_emt_frames(4)[::2], tmp_path / "dp", "deepmd/npy")  # one composition
    (system,) = find_deepmd_systems(tmp_path / "dp")
    frames, _ = read_frames(system, index="1:")
    assert len(frames) == 1


def test_convert_between_extxyz_and_deepmd(tmp_path: Path) -> None:
    assert convert("bundled:cuau", tmp_path / "dp", index=":12") == 12
    assert convert(tmp_path / "dp", tmp_path / "back.extxyz") == 12
    a = read_structures("bundled:cuau", index=":12")
    b = read_structures(tmp_path / "back.extxyz")
    assert sorted(np.round(a.energy, 8)) == sorted(np.round(b.energy, 8))
    assert a.has_stress.sum() == b.has_stress.sum()


def test_bundled_prefix_and_errors(tmp_path: Path) -> None:
    assert read_frames("bundled:argon", index=":1")[0][0].calc is not None
    assert bundled_dataset("argon").is_file()
    with pytest.raises(ValueError, match="Valid names"):
        read_frames("bundled:nope")
    with pytest.raises(ValueError, match="Unknown data format 'nope'. Valid formats: auto"):
        read_frames("bundled:argon", "nope")
    with pytest.raises(ValueError, match="no such file or folder"):
        read_frames(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no DeePMD system"):
        read_frames(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "type.raw").write_text("0 0\n")
    with pytest.raises(ValueError, match="dpdata could not read it"):
        read_frames(bad, "deepmd/npy")
    assert "deepmd/npy" in DATA_FORMATS


def test_an_ase_format_can_be_named(tmp_path: Path) -> None:
    from ase.io import write

    atoms = ase.build.bulk("Cu", cubic=True)
    write(tmp_path / "POSCAR", atoms, format="vasp")
    frames, _ = read_frames(tmp_path / "POSCAR", "ase:vasp")
    assert len(frames) == 1 and frames[0].get_chemical_formula() == "Cu4"
