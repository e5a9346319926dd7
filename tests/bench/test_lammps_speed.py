"""``geodl bench lammps-speed``: LAMMPS timings parsed, a quick run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodl.bench import lammps_speed
from tests.deploy.conftest import lammps_missing

LOG = """
Loop time of 0.5 on 2 procs for 10 steps with 1000 atoms

Performance: 1.728 ns/day, 13.889 hours/ns, 20.000 timesteps/s, 20.000 katom-step/s
80.0% CPU use with 2 MPI tasks x 1 OpenMP threads
"""


def test_parse_lammps_timings() -> None:
    row = lammps_speed._parse_lammps(LOG)
    assert row["atoms"] == 1000 and row["ns_per_day"] == 1.728
    assert row["atoms_per_s"] == pytest.approx(20000.0)
    assert row["atoms_per_cpu_s"] == pytest.approx(1000 * 10 / (0.5 * 2 * 0.8))
    assert row["us_per_atom_step"] == pytest.approx(50.0)
    with pytest.raises(RuntimeError, match="no timing"):
        lammps_speed._parse_lammps("ERROR: something")


def test_unknown_family_lists_valid_ones() -> None:
    with pytest.raises(ValueError, match="Valid families: se_e2_a"):
        lammps_speed.run(families=["nope"])


def test_pair_modes_are_checked_and_peak_memory_parsed() -> None:
    with pytest.raises(ValueError, match="Valid pair modes: exchange, shell"):
        lammps_speed.run(families=["equivariant"], pair_modes=["fast"])
    report = "\tMaximum resident set size (kbytes): 2048\n\tExit status: 0\n"
    assert lammps_speed._peak_rss_mb(report) == 2.0
    assert lammps_speed._peak_rss_mb("") is None


@pytest.mark.slow
@pytest.mark.skipif(bool(lammps_missing()), reason=lammps_missing() or "-")
def test_quick_run_writes_rows_and_plot(tmp_path: Path) -> None:
    out = lammps_speed.run(quick=True, plot=str(tmp_path / "curve.png"))
    rows = out["results"]
    lmp = rows["se_e2_a lammps np=1 N=108"]
    ase = rows["se_e2_a ase N=108"]
    assert lmp["atoms_per_s"] > 0 and lmp["ns_per_day"] > 0 and ase["atoms_per_s"] > 0
    assert (tmp_path / "curve.png").stat().st_size > 0
    json.dumps(out)  # JSON-serialisable
