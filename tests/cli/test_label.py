"""``geodl label`` / ``geodl explore``: the CLI contracts and exit codes (0 done, 1 nothing
labelled, 2 bad input, 3 the user's factory raised)."""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import pytest
from ase.build import bulk

from geodl.atoms.data import read_structures
from geodl.cli.main import main


@pytest.fixture
def frames_file(tmp_path: Path) -> Path:
    frames = []
    for k in range(3):
        a = bulk("Cu", cubic=True)
        a.rattle(0.05, seed=k)
        frames.append(a)
    path = tmp_path / "in.extxyz"
    ase.io.write(path, frames)
    return path


def test_label_writes_labels_and_failure_record(
    frames_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.extxyz"
    assert main(["label", "--data", str(frames_file), "--reference", "emt", "--out", str(out)]) == 0
    assert "labelled 3 of 3 frames" in capsys.readouterr().out
    assert len(read_structures(out)) == 3
    assert json.loads((tmp_path / "out.extxyz.failures.json").read_text())["n_failed"] == 0


def test_label_exit_codes(
    frames_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["label", "--data", str(frames_file), "--out", str(tmp_path / "o.extxyz")]
    assert main([*base, "--reference", "dft"]) == 2
    err = capsys.readouterr().err
    assert "Unknown reference calculator 'dft'" in err and "gfn2-xtb" in err and "pyscf:" in err
    assert main([*base, "--reference", "emt", "--set", "accuracy=0.1"]) == 2
    assert "unknown option(s) accuracy" in capsys.readouterr().err
    factory = tmp_path / "refs.py"
    factory.write_text("def broken():\n    raise RuntimeError('licence server down')\n")
    assert main([*base, "--reference", f"{factory}:broken"]) == 3
    assert "licence server down" in capsys.readouterr().err
    iron = tmp_path / "fe.extxyz"
    ase.io.write(iron, bulk("Fe", cubic=True))
    code = main(
        ["label", "--data", str(iron), "--reference", "emt", "--out", str(tmp_path / "f.extxyz")]
    )
    assert code == 1  # nothing could be labelled
    assert "No EMT-potential for Fe" in capsys.readouterr().out


def test_explore_exit_codes(
    frames_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [
        "explore",
        "--data",
        str(frames_file),
        "--out",
        str(tmp_path / "run"),
        "--max-time",
        "60",
    ]
    assert main([*base, "--reference", "emt", "--set", "explore.comittee=3"]) == 2
    assert "Did you mean 'committee'" in capsys.readouterr().err
    assert main([*base, "--reference", "nope"]) == 2
    factory = tmp_path / "refs.py"
    factory.write_text("def broken():\n    raise RuntimeError('no licence')\n")
    assert main([*base, "--reference", f"{factory}:broken"]) == 3
    with pytest.raises(SystemExit) as exc:  # --max-time is part of the contract
        main(["explore", "--data", str(frames_file), "--reference", "emt", "--out", "x"])
    assert exc.value.code == 2
