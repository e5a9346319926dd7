"""``geodl convert`` and training/testing on DeePMD-kit data written by dpdata."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodl.cli.main import main
from tests.cli.test_train import TINY

pytest.importorskip("dpdata", reason="the 'formats' extra (dpdata) is not installed")


def test_convert_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", "bundled:cuau", str(tmp_path / "dp"), "--index", ":6"]) == 0
    assert "wrote 6 structures" in capsys.readouterr().out
    assert main(["convert", str(tmp_path / "dp"), str(tmp_path / "x.extxyz")]) == 0
    assert main(["convert", "bundled:cuau", str(tmp_path / "y"), "--to", "nope"]) == 2
    assert "Unknown data format 'nope'" in capsys.readouterr().err


def test_a_deepmd_multisystem_trains_and_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dpdata-written MultiSystems root (one folder per composition) is training data."""
    assert main(["convert", "bundled:cuau", str(tmp_path / "dp"), "--index", ":16"]) == 0
    out = tmp_path / "run"
    args = ["train", "--data", str(tmp_path / "dp"), "--out", str(out), *TINY]
    code = main([*args, "--set", "epochs=1", "--set", "plots=false"])
    assert code == 0, capsys.readouterr()
    code = main(
        [
            "test",
            "--model",
            str(out / "model.pt"),
            "--data",
            str(tmp_path / "dp"),
            "--data-format",
            "deepmd/npy",
        ]
    )
    assert code == 0
    assert "n_structures = 16" in capsys.readouterr().out
