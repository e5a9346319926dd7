"""``label_structures``: labels equal the reference's, keys ``geodl train`` reads, failures
recorded with reasons (never a NaN label), resume after a real ``kill -9``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from geodl.atoms.data import read_structures
from geodl.atoms.explore import label_structures
from geodl.errors import InputError

QUIET = {"progress": False, "log": lambda line: None}


def _frames(n: int = 4) -> list[Atoms]:
    frames = []
    for k in range(n):
        a = bulk("Cu", "fcc", a=3.6, cubic=True)
        a.symbols[k % 4] = "Au"
        a.rattle(0.05, seed=k)
        a.info["tag"] = k
        frames.append(a)
    cluster = Atoms("Cu3", positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5, 0]])
    cluster.info["tag"] = n
    return frames + [cluster]


def test_labels_equal_the_reference_and_train_reads_them(tmp_path: Path) -> None:
    frames = _frames()
    out = tmp_path / "l.extxyz"
    report = label_structures(frames, "emt", out, **QUIET)
    assert (report.n_frames, report.n_labelled, report.n_failed) == (5, 5, 0)
    data = read_structures(out)  # the keys geodl train reads
    assert data.has_stress.tolist() == [True] * 4 + [False]  # stress only for periodic frames
    for k, atoms in enumerate(frames):
        ref = atoms.copy()
        ref.calc = EMT()
        assert data.energy[k] == pytest.approx(ref.get_potential_energy(), abs=1e-10)
        np.testing.assert_allclose(data.forces[k], ref.get_forces(), atol=1e-7)  # %.8f
    back = ase.io.read(out, ":")
    assert [a.info["tag"] for a in back] == [0, 1, 2, 3, 4]  # input order, info kept
    assert [a.info["source_index"] for a in back] == [0, 1, 2, 3, 4]
    record = json.loads((tmp_path / "l.extxyz.failures.json").read_text())
    assert record["failures"] == [] and record["n_labelled"] == 5
    assert not (tmp_path / "l.extxyz.journal").exists()
    again = label_structures(frames, "emt", out, **QUIET)  # complete: nothing recomputed
    assert again.n_resumed == 5


def test_failures_are_recorded_never_nan(tmp_path: Path) -> None:
    module = tmp_path / "nan_ref.py"
    module.write_text(
        "import numpy as np\nfrom ase.calculators.emt import EMT\n"
        "class NaNForEvenTags(EMT):\n"
        "    def calculate(self, atoms=None, properties=('energy',), system_changes=None):\n"
        "        super().calculate(atoms, properties, system_changes or [])\n"
        "        if self.atoms.info['tag'] % 2 == 0:\n"
        "            self.results['forces'] = self.results['forces'] * np.nan\n"
        "def make():\n    return NaNForEvenTags()\n"
    )
    frames = _frames()
    iron = bulk("Fe", cubic=True)
    iron.info["tag"] = 99
    report = label_structures(frames + [iron], "emt", tmp_path / "a.extxyz", **QUIET)
    assert report.n_failed == 1
    assert report.failures[0] == {
        "index": 5,
        "formula": "Fe2",
        "reason": "NotImplementedError: No EMT-potential for Fe",
    }
    report = label_structures(frames, f"{module}:make", tmp_path / "b.extxyz", **QUIET)
    assert [f["index"] for f in report.failures] == [0, 2, 4]
    assert all("non-finite" in f["reason"] for f in report.failures)
    data = read_structures(tmp_path / "b.extxyz")  # would raise on a NaN label
    assert len(data) == 2
    saved = json.loads((tmp_path / "b.extxyz.failures.json").read_text())
    assert saved["n_failed"] == 3 and saved["failures"] == report.failures


def test_torn_journal_line_is_dropped_and_the_run_resumes(tmp_path: Path) -> None:
    frames = _frames()
    out = tmp_path / "r.extxyz"
    label_structures(frames[:2], "emt", tmp_path / "first.extxyz", **QUIET)
    # a journal as a killed run leaves it: header, two frames, half a line
    full = label_structures(frames, "emt", out, **QUIET)
    assert full.n_labelled == 5
    journal = tmp_path / "r2.extxyz.journal"
    from geodl.atoms.explore._label import _fingerprint  # the journal's own header

    header = {
        "format": "geodl.label.journal",
        "version": 1,
        "reference": "emt",
        "options": {},
        "input": _fingerprint(frames),
        "n_frames": 5,
    }
    e0 = read_structures(out)
    rec = {"index": 1, "energy": float(e0.energy[1]), "forces": e0.forces[1].tolist()}
    journal.write_text(json.dumps(header) + "\n" + json.dumps(rec) + "\n" + '{"index": 2, "ene')
    report = label_structures(frames, "emt", tmp_path / "r2.extxyz", **QUIET)
    assert report.n_resumed == 1 and report.n_labelled == 5
    np.testing.assert_allclose(read_structures(tmp_path / "r2.extxyz").energy, e0.energy)


def test_resume_refuses_other_inputs(tmp_path: Path) -> None:
    frames = _frames()
    out = tmp_path / "x.extxyz"
    label_structures(frames, "emt", out, **QUIET)
    with pytest.raises(InputError, match="was not written by labelling this input with 'lj'"):
        label_structures(frames, "lj", out, **QUIET)
    (tmp_path / "y.extxyz.journal").write_text(
        json.dumps(
            {
                "format": "geodl.label.journal",
                "reference": "lj",
                "options": {},
                "input": "0",
                "n_frames": 1,
            }
        )
        + "\n"
    )
    with pytest.raises(InputError, match="unfinished run with a different reference"):
        label_structures(frames, "emt", tmp_path / "y.extxyz", **QUIET)
    with pytest.raises(InputError, match="--workers must be a positive integer"):
        label_structures(frames, "emt", out, workers=0, **QUIET)
    with pytest.raises(InputError, match="no such file"):
        label_structures(tmp_path / "absent.extxyz", "emt", out, **QUIET)


SLOW = """
import os, time
from ase.calculators.emt import EMT
class Slow(EMT):
    def calculate(self, atoms=None, properties=('energy',), system_changes=None):
        super().calculate(atoms, properties, system_changes or [])
        with open(os.environ['CALLS'], 'a') as fh:
            fh.write(f"{os.environ['PHASE']} {self.atoms.info['tag']}\\n")
        time.sleep(0.2)
def make():
    return Slow()
"""


def test_a_killed_parallel_run_resumes_and_never_labels_a_frame_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frames = []
    for k in range(20):
        a = Atoms("Cu3", positions=[[0, 0, 0], [2.5, 0, 0], [0, 2.5 + 0.01 * k, 0]])
        a.info["tag"] = k
        frames.append(a)
    data, out = tmp_path / "in.extxyz", tmp_path / "out.extxyz"
    ase.io.write(data, frames)
    (tmp_path / "slow.py").write_text(SLOW)
    reference = f"{tmp_path / 'slow.py'}:make"
    calls = tmp_path / "calls.txt"
    cmd = [
        sys.executable,
        "-m",
        "geodl.cli.main",
        "label",
        "--data",
        str(data),
        "--reference",
        reference,
        "--out",
        str(out),
        "--no-progress",
        "--workers",
        "2",
    ]
    env = {**os.environ, "CALLS": str(calls), "PHASE": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    journal = tmp_path / "out.extxyz.journal"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 6:  # header + 5 frames
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    done_before = {
        json.loads(line)["index"]
        for line in journal.read_text().splitlines()[1:]
        if line.endswith("}")
    }
    assert len(done_before) >= 5
    monkeypatch.setenv("CALLS", str(calls))  # the same command, here in this process
    monkeypatch.setenv("PHASE", "2")
    report = label_structures(data, reference, out, **QUIET)
    assert report.n_resumed == len(done_before)
    second = {int(line.split()[1]) for line in calls.read_text().splitlines() if line[0] == "2"}
    assert not second & done_before  # finished frames were not computed again
    labelled = ase.io.read(out, ":")
    assert [a.info["tag"] for a in labelled] == list(range(20))
    for atoms in labelled:  # labels of both runs (two worker processes, then one) are EMT's
        ref = Atoms(atoms.numbers, atoms.positions, calculator=EMT())
        assert atoms.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-9)
    assert not journal.exists()


def test_scf_failures_of_quantum_references_are_recorded(tmp_path: Path) -> None:
    pytest.importorskip("tblite")
    from ase.build import molecule

    water = molecule("H2O")
    report = label_structures(
        [water], "gfn2-xtb", tmp_path / "x.extxyz", options={"max_iterations": 1}, **QUIET
    )
    assert report.failures[0]["reason"] == "CalculationFailed: SCF not converged in 1 cycles"
    pytest.importorskip("pyscf")
    report = label_structures(
        [water, molecule("H2")], "pyscf:hf/sto-3g", tmp_path / "p.extxyz", **QUIET
    )
    assert report.n_labelled == 2 and read_structures(tmp_path / "p.extxyz").energy[1] < -30
    report = label_structures(
        [water], "pyscf:hf/sto-3g", tmp_path / "q.extxyz", options={"max_cycle": 1}, **QUIET
    )
    assert "SCF not converged" in report.failures[0]["reason"]


def test_mmff94_labels_molecules_by_their_perceived_topology(tmp_path: Path) -> None:
    pytest.importorskip("rdkit")
    from geodl.atoms.ase import MMFF94Calculator, molecule_from_smiles

    atoms, mol = molecule_from_smiles("CCO")
    atoms.rattle(0.05, seed=1)
    report = label_structures([atoms], "mmff94", tmp_path / "m.extxyz", **QUIET)
    atoms.calc = MMFF94Calculator(mol)
    assert report.n_labelled == 1
    assert read_structures(tmp_path / "m.extxyz").energy[0] == pytest.approx(
        atoms.get_potential_energy(), abs=1e-8
    )
