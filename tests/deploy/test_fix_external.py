"""The Python route (geodl/deploy/_fix_external.py): ``fix external pf/callback`` driven
by a deployed model equals the ASE calculator; misuse is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geodl.atoms import GeoDLCalculator
from geodl.errors import InputError

from .conftest import NKTV2P, TRICLINIC, Deployed, cuau_cell, lammps_missing, write_data

pytestmark = pytest.mark.skipif(bool(lammps_missing()), reason=lammps_missing() or "-")

SETUP = """
units {units}
atom_style atomic
atom_modify map yes
boundary p p p
read_data {data}
pair_style zero {cut}
pair_coeff * *
"""


@pytest.fixture
def lmp():
    from geodl.deploy import open_lammps

    instance = open_lammps("-screen", "none", "-log", "none", "-nocite")
    yield instance
    instance.close()


def test_fix_external_equals_ase(lmp, se_model: Deployed, tmp_path: Path) -> None:
    from geodl.deploy import FixExternalPotential

    atoms = cuau_cell(TRICLINIC)
    lmp.commands_string(
        SETUP.format(units="metal", data=write_data(atoms, tmp_path / "c"), cut=4.5)
    )
    FixExternalPotential(lmp, se_model.pth, ["Cu", "Au"])
    lmp.commands_string(
        "compute pe all pe/atom\nthermo_style custom step pe pxx pyy pzz pxy pxz pyz\nrun 0"
    )
    n = len(atoms)
    ids = np.asarray(lmp.numpy.extract_atom("id"))[:n]
    order = np.argsort(ids)
    forces = np.asarray(lmp.numpy.extract_atom("f"))[:n][order]
    pe_atom = np.asarray(lmp.numpy.extract_compute("pe", 1, 1))[:n][order]
    press = np.array([lmp.get_thermo(k) for k in ("pxx", "pyy", "pzz", "pxy", "pxz", "pyz")])

    atoms.calc = GeoDLCalculator(se_model.model, dtype="float64")
    assert abs(lmp.get_thermo("pe") - atoms.get_potential_energy()) / n <= 1e-8
    np.testing.assert_allclose(forces, atoms.get_forces(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(pe_atom, atoms.get_potential_energies(), rtol=0, atol=1e-8)
    s = atoms.get_stress(voigt=False)
    ref = -np.array([s[0, 0], s[1, 1], s[2, 2], s[0, 1], s[0, 2], s[1, 2]]) * NKTV2P
    np.testing.assert_allclose(press, ref, rtol=0, atol=1e-9 * np.abs(ref).max())


def test_fix_external_runs_md(lmp, se_model: Deployed, tmp_path: Path) -> None:
    from geodl.deploy import FixExternalPotential

    lmp.commands_string(
        SETUP.format(units="metal", data=write_data(cuau_cell(), tmp_path / "c"), cut=4.5)
    )
    FixExternalPotential(lmp, se_model.pth, ["Cu", "Au"])
    lmp.commands_string(
        "velocity all create 300 1\nfix 1 all nve\ntimestep 0.001\n"
        "thermo_style custom step etotal\nrun 0\nvariable e0 equal etotal\n"
    )
    e0 = lmp.get_thermo("etotal")
    lmp.command("run 20")
    assert abs(lmp.get_thermo("etotal") - e0) / 108 < 1e-4


@pytest.mark.parametrize(
    "elements,units,match",
    [
        (["Cu"], "metal", "expected 2 element"),
        (["Cu", "Xx"], "metal", "not in the model's type map"),
        (["Cu", "Au"], "real", "needs 'units metal'"),
    ],
)
def test_fix_external_refuses_misuse(
    lmp, se_model: Deployed, tmp_path: Path, elements: list[str], units: str, match: str
) -> None:
    from geodl.deploy import FixExternalPotential

    lmp.commands_string(
        SETUP.format(units=units, data=write_data(cuau_cell(), tmp_path / "c"), cut=4.5)
    )
    with pytest.raises(InputError, match=match):
        FixExternalPotential(lmp, se_model.pth, elements)
