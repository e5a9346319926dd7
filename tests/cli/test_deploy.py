"""``geodl deploy``: writes the TorchScript file and prints the LAMMPS input lines."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geodl.atoms import AtomisticModel, EnergyModelConfig, save_model
from geodl.cli.main import main
from geodl.deploy import load_deployed


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    cfg = EnergyModelConfig(
        type_map=["Cu", "Au"],
        r_cut=4.0,
        r_smooth=3.0,
        embed_widths=(4,),
        axis_neurons=2,
        fitting_widths=(8,),
    )
    save_model(AtomisticModel(cfg), tmp_path / "model.pt")
    return tmp_path / "model.pt"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_deploy_writes_file_and_input_lines(
    model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], dtype: str
) -> None:
    out = tmp_path / "model.pth"
    assert main(["deploy", "--model", str(model_file), "--out", str(out), "--dtype", dtype]) == 0
    text = capsys.readouterr().out
    assert f"pair_coeff * * {out} Cu Au" in text and "pair_style geodl" in text
    assert load_deployed(out).dtype == dtype


def test_deploy_missing_model_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["deploy", "--model", str(tmp_path / "no.pt"), "--out", str(tmp_path / "m.pth")])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_deploy_bad_dtype_exits_2(model_file: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["deploy", "--model", str(model_file), "--out", "x.pth", "--dtype", "float16"])
    assert info.value.code == 2
