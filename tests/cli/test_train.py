"""``geodl train``: the CLI contract, outputs in --out, clear errors with exit code 2."""

from __future__ import annotations

from pathlib import Path

import ase.io
import pytest

from geodl.atoms.data import bundled_dataset
from geodl.cli.main import main

TINY = [
    "--set",
    "model.r_cut=4.0",
    "--set",
    "model.embed_widths=[4,8]",
    "--set",
    "model.axis_neurons=2",
    "--set",
    "model.fitting_widths=[12]",
    "--set",
    "progress=false",
]


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    frames = ase.io.read(bundled_dataset("cuau"), index=":10")
    path = tmp_path / "small.extxyz"
    ase.io.write(path, frames)
    return path


def test_train_writes_model_checkpoint_log_and_plots(
    small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    config = tmp_path / "c.yaml"
    config.write_text("training:\n  epochs: 2\n  batch_size: 3\n")
    code = main(
        [
            "train",
            str(config),
            "--data",
            str(small_file),
            "--out",
            str(out),
            "--max-time",
            "60",
            *TINY,
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    for name in (
        "model.pt",
        "checkpoint.pt",
        "log.csv",
        "config.yaml",
        "learning_curves.png",
        "parity.png",
    ):
        assert (out / name).is_file(), name
    assert "E RMSE" in text and "forces RMSE" in text
    saved = (out / "config.yaml").read_text()
    assert "max_time: 60.0" in saved and "batch_size: 3" in saved
    # run again: the finished run is not trained again (issue #16)
    code = main(
        [
            "train",
            str(config),
            "--data",
            str(small_file),
            "--out",
            str(out),
            "--max-time",
            "60",
            *TINY,
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "is complete" in text and "resumed" not in text


def test_train_bad_usage_exits_2(
    small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--out", str(tmp_path / "x")]) == 2
    assert "data.train is not set" in capsys.readouterr().err
    assert main(["train", "--data", str(small_file), "--set", "trainig.lr=1"]) == 2
    err = capsys.readouterr().err
    assert "Unknown config key 'trainig.lr'" in err and "Valid keys" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epoch: 3\n")
    assert main(["train", str(bad), "--data", str(small_file)]) == 2
    assert "unknown key 'training.epoch'. Did you mean 'epochs'" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "missing.xyz")]) == 2
    assert "no such file" in capsys.readouterr().err
    empty = tmp_path / "empty.extxyz"
    empty.write_text("")
    assert main(["train", "--data", str(empty), "--out", str(tmp_path / "e")]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["train", "--data", str(small_file), "--max-time", "-1"]) == 2
