"""``model.type: equivariant`` end to end: geodl train (YAML keys through --set,
--max-time, resume, EMA), geodl test, geodl info, the saved file (weights_only), the ASE
calculator in a cell smaller than the receptive field, NVE MD, DDP, and the exit code 2
of invalid options."""

from __future__ import annotations

import json
import math
from pathlib import Path

import ase.build
import numpy as np
import pytest
import torch

from geodl.atoms import AtomisticModel, load_model
from geodl.atoms.ase import GeoDLCalculator, run_md
from geodl.atoms.train import Trainer
from geodl.cli.main import main
from tests.atoms._training import cuau, tiny_config

#: a tiny equivariant model: every part is there (l = 1 features, two layers, products)
TINY_EQ = {
    "type": "equivariant",
    "r_cut": 3.5,
    "channels": 4,
    "layers": 2,
    "correlation": 2,
    "num_radial_basis": 4,
    "radial_mlp": [8],
    "readout_mlp": [4],
}
TINY_SET = [arg for k, v in TINY_EQ.items() for arg in ("--set", f"model.{k}={json.dumps(v)}")]


def _eq_config(out: Path | None, **training: object):  # type: ignore[no-untyped-def]
    cfg = tiny_config(out, **training)
    cfg.model = dict(TINY_EQ)
    return type(cfg).from_dict(cfg.to_dict())


@pytest.mark.slow
def test_cli_train_test_info_calculator_and_md(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    common = ["--data", "bundled:cuau", "--out", str(out), "--max-time", "30"]
    sets = ["--set", "data.max_structures=12", "--set", "training.epochs=2"]
    assert main(["train", *common, *sets, *TINY_SET, "--set", "training.plots=false"]) == 0
    assert "E RMSE" in capsys.readouterr().out
    # the file is a state_dict + config: weights_only loading, the family comes back
    raw = torch.load(out / "model.pt", weights_only=True, map_location="cpu")
    assert raw["config"]["type"] == "equivariant"
    model = load_model(out / "model.pt")
    assert model.config.type == "equivariant" and model.receptive_field == 7.0
    assert float(model.core.atomic.avg_num_neighbors) > 1.0  # fitted from the data

    assert main(["test", "--model", str(out / "model.pt"), "--data", "bundled:cuau"]) == 0
    assert "forces" in capsys.readouterr().out
    info_json = tmp_path / "info.json"
    assert main(["info", "--model", str(out / "model.pt"), "--json", str(info_json)]) == 0
    text = capsys.readouterr().out
    assert "receptive field   7 Å (2 message-passing layers x r_cut)" in text
    assert "layer 1 irreps" in text and "4x0e+4x1o" in text.replace(" ", "")
    assert json.loads(info_json.read_text())["receptive_field"] == 7.0
    assert main(["info", "--model", str(tmp_path / "none.pt")]) == 2

    # calculator: a 1-atom-wide periodic cell, far smaller than layers x r_cut = 7 Å,
    # gives per atom what its 3x3x3 supercell gives
    small = ase.build.bulk("Cu", "fcc", a=3.6) * (1, 1, 2)
    small.symbols[0] = "Au"
    small.rattle(0.05, seed=3)
    # in float64, so that a wrong image (a missed or doubled neighbour) cannot hide in
    # float32 round-off: the forces are ~0.1 eV/Å, the tolerance 1e-9
    small.calc = GeoDLCalculator(model, dtype="float64")
    big = small * (3, 3, 3)
    big.calc = GeoDLCalculator(model, dtype="float64")
    assert np.abs(small.get_forces()).max() > 1e-3  # the comparison below is not 0 == 0
    assert small.get_potential_energy() / 2 == pytest.approx(
        big.get_potential_energy() / 54, abs=1e-10
    )
    np.testing.assert_allclose(small.get_stress(), big.get_stress(), atol=1e-10)
    np.testing.assert_allclose(np.tile(small.get_forces(), (27, 1)), big.get_forces(), atol=1e-9)
    assert small.get_potential_energies().sum() == pytest.approx(
        small.get_potential_energy(), abs=1e-10
    )
    # a short NVE run conserves the energy
    md = run_md(
        big,
        GeoDLCalculator(model, dtype="float64"),
        ensemble="nve",
        steps=20,
        timestep_fs=1.0,
        temperature_K=300.0,
        log_every=5,
        seed=0,
    )
    # float64: measured spread ~1e-9 eV/atom; forces that were not -dE/dx would move
    # the total by ~|F| x 0.1 Å ~ 1e-3 eV over these 20 fs
    assert np.ptp(md.total) / len(big) < 1e-6


def test_resume_continues_the_same_trajectory(tmp_path: Path) -> None:
    data = cuau(6)
    full = Trainer(_eq_config(tmp_path / "a", epochs=2, batch_size=2), log=lambda s: None)
    full_res = full.fit(data)

    class Killed(Exception):
        pass

    def kill_after_1(trainer: Trainer, row: dict) -> None:
        if row["epoch"] == 1:
            raise Killed

    cfg_b = _eq_config(tmp_path / "b", epochs=2, batch_size=2, resume="auto")
    with pytest.raises(Killed):
        Trainer(cfg_b, log=lambda s: None, callbacks=[kill_after_1]).fit(data)
    resumed = Trainer(cfg_b, log=lambda s: None).fit(data)
    assert [r["epoch"] for r in resumed.history] == [1, 2]
    a, b = full_res.model.state_dict(), resumed.model.state_dict()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    assert math.isclose(
        full_res.history[-1]["valid_f_rmse"], resumed.history[-1]["valid_f_rmse"], rel_tol=1e-12
    )
    assert isinstance(resumed.model, AtomisticModel)


def _ddp_worker(rank: int, world: int, init_file: str, out_file: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        cfg = _eq_config(None, epochs=1, batch_size=4, ema_decay=None, grad_clip=None)
        cfg = cfg.override(["model.dtype=float64", "patience=null"])
        res = Trainer(cfg, out=None, log=lambda s: None).fit(cuau(4))
        if rank == 0:
            torch.save({k: v.detach().clone() for k, v in res.model.state_dict().items()}, out_file)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_equal_one_rank(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    out = tmp_path / "ddp.pt"
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), str(out)), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=True)
    cfg = _eq_config(None, epochs=1, batch_size=4, ema_decay=None, grad_clip=None)
    cfg = cfg.override(["model.dtype=float64", "patience=null"])
    ref = Trainer(cfg, out=None, log=lambda s: None).fit(cuau(4)).model.state_dict()
    for k in ref:
        torch.testing.assert_close(ddp[k], ref[k], rtol=1e-10, atol=1e-12, msg=k)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("model.l_max=7", "model.l_max must be one of 0, 1, 2, 3 (an integer), got 7."),
        ("model.channels=0", "model.channels must be >= 1 and <= 4096 (an integer), got 0."),
        ("model.layers=0", "model.layers must be >= 1"),
    ],
)
def test_invalid_options_exit_2_listing_the_valid_choices(
    tmp_path: Path, setting: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "--data", "bundled:cuau", "--out", str(tmp_path / "x")]
    assert main([*args, "--set", "model.type=equivariant", "--set", setting]) == 2
    assert message in capsys.readouterr().err


def test_unknown_model_type_exits_2_listing_the_families(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "--data", "bundled:cuau", "--out", str(tmp_path / "x")]
    assert main([*args, "--set", "model.type=painn"]) == 2
    err = capsys.readouterr().err
    assert "Unknown model.type 'painn'" in err and "se_e2_a (" in err and "equivariant (" in err
