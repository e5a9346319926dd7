"""``geodl compress``: writes a compressed model that the calculator and ``geodl test``
accept, prints the table and the measured errors; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import pytest
import torch

from geodl.atoms import EnergyModel, EnergyModelConfig, atoms_to_graph, load_model, save_model
from geodl.atoms.ase import GeoDLCalculator
from geodl.atoms.data import bundled_dataset
from geodl.cli.main import main


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = EnergyModel(
        EnergyModelConfig(
            type_map=["Cu", "Au"],
            r_cut=4.0,
            r_smooth=0.5,
            embed_widths=(4, 8),
            axis_neurons=2,
            fitting_widths=(8,),
        )
    )
    structures = ase.io.read(bundled_dataset("cuau"), index=":4")
    model.fit_statistics([atoms_to_graph(a, model.type_map, model.r_cut) for a in structures])
    path = tmp_path / "model.pt"
    save_model(model, path)
    return path


def test_compress_writes_a_model_the_tools_accept(
    model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.extxyz"
    ase.io.write(data, ase.io.read(bundled_dataset("cuau"), index=":3"))
    out, report = tmp_path / "small.pt", tmp_path / "report.json"
    argv = ["compress", "--model", str(model_file), "--out", str(out), "--data", str(data)]
    assert main([*argv, "--tolerance", "1e-6", "--json", str(report)]) == 0
    text = capsys.readouterr().out
    assert "table:" in text and "float64: energy max" in text and "forces max" in text
    rec = json.loads(report.read_text())
    assert rec["compression"]["table_error"] <= 1e-6
    assert rec["errors"]["float64"]["force_max"] <= 1e-4
    model = load_model(out)
    assert model.config.compression["intervals"] == rec["compression"]["intervals"]
    atoms = ase.io.read(data, index=0)
    atoms.calc = GeoDLCalculator(out)
    assert atoms.get_forces().shape == (len(atoms), 3)
    assert main(["test", "--model", str(out), "--data", str(data)]) == 0


def test_compress_errors(model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "x.pt"
    assert main(["compress", "--model", str(tmp_path / "none.pt"), "--out", str(out)]) == 2
    assert "--model" in capsys.readouterr().err
    argv = ["compress", "--model", str(model_file), "--out", str(out), "--tolerance", "2"]
    assert main(argv) == 2  # compress_model: the tolerance must be below 1
    assert "tolerance" in capsys.readouterr().err
    assert not out.exists()
