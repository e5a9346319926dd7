"""Trainer: loss decreases, checkpoint/resume continues the same trajectory, atomic
checkpoints survive crashes, budgets and early stopping, DDP equals full batch."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from geodl.atoms.train import PotentialLoss, Trainer, atomic_save, evaluate
from tests.atoms._training import cuau, tiny_config


def _params(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_training_reduces_errors_and_writes_outputs(tmp_path: Path) -> None:
    data = cuau(12)
    train, valid = data.split([0.25])
    cfg = tiny_config(tmp_path, epochs=6, lr=5e-3, plots=True, ema_decay=None)
    lines: list[str] = []
    trainer = Trainer(cfg, log=lines.append)
    assert "Trainer(epochs=6" in repr(trainer)
    result = trainer.fit(train, valid)
    first, last = result.history[0], result.history[-1]
    assert last["train_f_rmse"] < first["train_f_rmse"]
    assert min(r["valid_f_rmse"] for r in result.history) < first["valid_f_rmse"]
    for name in ("model.pt", "checkpoint.pt", "log.csv", "learning_curves.png", "parity.png"):
        assert (tmp_path / name).is_file(), name
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 1 + len(result.history)
    assert any("E RMSE" in line for line in lines)
    assert result.stop_reason == "epochs"
    assert set(result.valid_metrics) >= {"energy_mae_per_atom", "forces_rmse", "n_structures"}


def test_resume_continues_the_same_trajectory(tmp_path: Path) -> None:
    data = cuau(8)
    cfg_a = tiny_config(tmp_path / "a", epochs=4, batch_size=2, lr=3e-3)
    full = Trainer(cfg_a, log=lambda s: None).fit(data)

    class Killed(Exception):
        pass

    def kill_after_2(trainer: Trainer, row: dict) -> None:
        if row["epoch"] == 2:
            raise Killed

    cfg_b = tiny_config(tmp_path / "b", epochs=4, batch_size=2, lr=3e-3, resume="auto")
    with pytest.raises(Killed):
        Trainer(cfg_b, log=lambda s: None, callbacks=[kill_after_2]).fit(data)
    torch.manual_seed(123)  # the resumed run must not depend on the caller's RNG state
    np.random.seed(123)
    lines: list[str] = []
    resumed = Trainer(cfg_b, log=lines.append).fit(data)
    assert any("resumed" in line and "epoch 2" in line for line in lines)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]
    a, b = _params(full.model), _params(resumed.model)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    for ra, rb in zip(full.history, resumed.history, strict=False):
        assert math.isclose(ra["valid_f_rmse"], rb["valid_f_rmse"], rel_tol=1e-12)


def test_resume_refuses_a_different_model_section(tmp_path: Path) -> None:
    data = cuau(4)
    Trainer(tiny_config(tmp_path, epochs=1), log=lambda s: None).fit(data)
    cfg = tiny_config(tmp_path, epochs=2, resume="auto").override(["model.r_cut=3.5"])
    with pytest.raises(ValueError, match="different 'model' section"):
        Trainer(cfg, log=lambda s: None).fit(data)


def test_crash_while_saving_keeps_the_last_good_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint.pt"
    atomic_save({"epoch": 1, "w": torch.ones(3)}, path)

    def broken_save(obj: object, fh: object) -> None:
        fh.write(b"partial garbage")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        atomic_save({"epoch": 2}, path)
    monkeypatch.undo()
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["epoch"] == 1


def test_max_time_and_early_stopping(tmp_path: Path) -> None:
    data = cuau(8)
    res = Trainer(tiny_config(None, epochs=10_000, max_time=1.0), out=None, log=lambda s: None).fit(
        data
    )
    assert res.stop_reason == "max_time"
    # lr far too small: validation never improves after the first epoch
    res = Trainer(
        tiny_config(None, epochs=50, patience=2, lr=1e-12, lr_final=1e-12, ema_decay=None),
        out=None,
        log=lambda s: None,
    ).fit(data)
    assert res.stop_reason == "early_stopping"
    assert len(res.history) <= 4


def test_float64_training(tmp_path: Path) -> None:
    cfg = tiny_config(None, epochs=1).override(["model.dtype=float64"])
    res = Trainer(cfg, out=None, log=lambda s: None).fit(cuau(4))
    assert res.model.energy_shift.dtype == torch.float64
    m = evaluate(res.model, cuau(4))
    assert all(math.isfinite(m[k]) for k in ("energy_rmse_per_atom", "forces_rmse"))


def test_prefactor_and_lr_schedule() -> None:
    t = Trainer(tiny_config(None, lr=1e-3, lr_final=1e-5), out=None)
    assert t.learning_rate(0.0) == pytest.approx(1e-3)
    assert t.learning_rate(0.5) == pytest.approx(1e-4)
    assert t.learning_rate(1.0) == pytest.approx(1e-5)
    pe0, pf0, _ = t.prefactors(1e-3)
    pe1, pf1, _ = t.prefactors(1e-5)
    assert pf0 > pf1 and pe0 < pe1  # force-heavy first, energy later


def test_trainer_rejects_bad_config() -> None:
    with pytest.raises(TypeError, match="TrainConfig"):
        Trainer({"training": {}})  # type: ignore[arg-type]


# ------------------------------------------------------------------ DDP: 2 ranks == 1 rank
def _ddp_worker(rank: int, world: int, init_file: str, out_file: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        cfg = tiny_config(None, epochs=1, batch_size=4, ema_decay=None, grad_clip=None)
        cfg = cfg.override(["model.dtype=float64", "patience=null"])
        res = Trainer(cfg, out=None, log=lambda s: None).fit(cuau(4))
        if rank == 0:
            torch.save(_params(res.model), out_file)
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_ranks_make_the_same_update_as_one_rank_on_the_full_batch(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    out = tmp_path / "ddp.pt"
    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "init"), str(out)), nprocs=2, join=True)
    ddp = torch.load(out, weights_only=True)
    cfg = tiny_config(None, epochs=1, batch_size=4, ema_decay=None, grad_clip=None)
    cfg = cfg.override(["model.dtype=float64", "patience=null"])
    single = Trainer(cfg, out=None, log=lambda s: None).fit(cuau(4))
    ref = _params(single.model)
    init = Trainer(cfg, out=None).build_model(cuau(4).split([0.0])[0])
    moved = max(float((ref[k] - v).abs().max()) for k, v in _params(init).items())
    assert moved > 1e-6  # the step did change the weights
    for k in ref:
        torch.testing.assert_close(ddp[k], ref[k], rtol=1e-10, atol=1e-12, msg=k)


def test_every_completed_epoch_is_checkpointed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    original = PotentialLoss.backward

    def step_then_crash(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:  # crash in epoch 2, before any validation (valid_every=2)
            raise RuntimeError("killed")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PotentialLoss, "backward", step_then_crash)
    cfg = tiny_config(tmp_path, epochs=3, valid_every=2)
    with pytest.raises(RuntimeError, match="killed"):
        Trainer(cfg, log=lambda s: None).fit(cuau(4))
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 1 and ckpt["step"] == 1
