"""``geodl test``: metrics printed and written as JSON; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch
from ase import Atoms

from geodl.atoms import EnergyModel, EnergyModelConfig, save_model
from geodl.atoms.ase import GeoDLCalculator
from geodl.atoms.data import bundled_dataset
from geodl.cli.main import main


@pytest.fixture
def model_and_data(tmp_path: Path) -> tuple[Path, Path]:
    torch.manual_seed(0)
    model = EnergyModel(
        EnergyModelConfig(
            type_map=["Cu", "Au"],
            r_cut=4.0,
            r_smooth=0.5,
            embed_widths=(4,),
            axis_neurons=2,
            fitting_widths=(8,),
        )
    )
    mpath = tmp_path / "model.pt"
    save_model(model, mpath)
    dpath = tmp_path / "d.extxyz"
    ase.io.write(dpath, ase.io.read(bundled_dataset("cuau"), index=":4"))
    return mpath, dpath


def test_metrics_printed_and_written(
    model_and_data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mpath, dpath = model_and_data
    out = tmp_path / "m.json"
    assert main(["test", "--model", str(mpath), "--data", str(dpath), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    metrics = json.loads(out.read_text())
    assert set(metrics) == {
        "energy_mae_per_atom",
        "energy_rmse_per_atom",
        "forces_mae",
        "forces_rmse",
        "stress_rmse",
        "n_structures",
    }
    assert metrics["n_structures"] == 4
    assert metrics["energy_rmse_per_atom"] >= metrics["energy_mae_per_atom"] > 0
    # independent reference: the same model through the ASE calculator, frame by frame
    calc = GeoDLCalculator(str(mpath))
    de, df = [], []
    for atoms in ase.io.read(dpath, index=":"):
        e_ref, f_ref = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = calc
        de.append((atoms.get_potential_energy() - e_ref) / len(atoms))
        df.append((atoms.get_forces() - f_ref).ravel())
    df_all = np.concatenate(df)
    assert metrics["energy_mae_per_atom"] == pytest.approx(np.abs(de).mean(), rel=1e-4)
    assert metrics["forces_rmse"] == pytest.approx(np.sqrt((df_all**2).mean()), rel=1e-4)
    assert "forces_rmse = " in text and "meV/Å" in text


def test_errors_exit_2(
    model_and_data: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mpath, dpath = model_and_data
    assert main(["test", "--model", str(tmp_path / "no.pt"), "--data", str(dpath)]) == 2
    assert "no such file" in capsys.readouterr().err
    ag = Atoms("AgCu", positions=[[0, 0, 0], [2.5, 0, 0]])
    ag.info["energy"] = 0.0
    ag.arrays["forces"] = np.zeros((2, 3))
    apath = tmp_path / "ag.extxyz"
    ase.io.write(apath, ag)
    assert main(["test", "--model", str(mpath), "--data", str(apath)]) == 2
    err = capsys.readouterr().err
    assert "ag.extxyz[0]: species ['Ag'] were not seen in training" in err
    unlabelled = tmp_path / "u.extxyz"
    ase.io.write(unlabelled, Atoms("Cu2", positions=[[0, 0, 0], [2.5, 0, 0]]))
    assert main(["test", "--model", str(mpath), "--data", str(unlabelled)]) == 2
    assert "no energy label" in capsys.readouterr().err
    assert main(["test", "--model", str(mpath), "--data", str(dpath), "--batch-size", "0"]) == 2
    assert "--batch-size must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["test", "--data", str(dpath)])
    assert exc.value.code == 2
