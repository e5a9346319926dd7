"""Fault injection (issue #16): kill -9 during a checkpoint write, SIGTERM mid-epoch,
mid-epoch checkpoints resumed bit for bit, corrupt / empty / truncated checkpoints and
model files, hostile option values, the budget counting the whole command, data errors
that name the file, the frame and the key."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ase.io
import numpy as np
import pytest
import torch

from geodl.atoms.data import bundled_dataset, read_structures
from geodl.atoms.model import load_model, save_model
from geodl.atoms.train import (
    PotentialLoss,
    SuspiciousValueWarning,
    Trainer,
    load_config,
    suspicious_values,
    train,
)
from geodl.cli.main import main
from geodl.errors import InputError
from tests.atoms._training import TINY_MODEL, cuau, tiny_config

ROOT = Path(__file__).resolve().parents[3]
TINY = [f"--set=model.{k}={v}" for k, v in TINY_MODEL.items()] + ["--set=progress=false"]


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "small.extxyz"
    ase.io.write(path, ase.io.read(bundled_dataset("cuau"), index=":8"))
    return path


def _run_python(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True
    )


# ------------------------------------------------------------ mid-epoch checkpoints
def test_a_mid_epoch_checkpoint_resumes_bit_for_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = cuau(6)
    kw = dict(epochs=2, batch_size=1, lr=3e-3)
    full = Trainer(tiny_config(tmp_path / "a", **kw), log=lambda s: None).fit(data)

    calls: list[int] = []
    original = PotentialLoss.backward

    def crash_at_step_8(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 8:  # epoch 2, after 1 of its 6 steps
            raise RuntimeError("killed")
        return original(self, *args, **kwargs)

    cfg = tiny_config(tmp_path / "b", resume="auto", checkpoint_every_s=1e-9, **kw)
    monkeypatch.setattr(PotentialLoss, "backward", crash_at_step_8)
    with pytest.raises(RuntimeError, match="killed"):
        Trainer(cfg, log=lambda s: None).fit(data)
    monkeypatch.undo()
    ckpt = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert (ckpt["epoch"], ckpt["batch"], ckpt["step"]) == (1, 1, 7)
    torch.manual_seed(7)  # the resumed run must not depend on the caller's RNG state
    lines: list[str] = []
    resumed = Trainer(cfg, log=lines.append).fit(data)
    assert any("in epoch 2 at batch 1" in line for line in lines)
    a, b = _weights(full.model), _weights(resumed.model)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert [r["loss"] for r in full.history] == [r["loss"] for r in resumed.history]


# ------------------------------------------------------------ kill -9 during a write
def test_kill_9_while_writing_a_checkpoint_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    script = f"""
import os, signal
import importlib
from geodl.atoms.train import Trainer
from geodl.training import atomic_save, atomic_write
from tests.atoms._training import cuau, tiny_config
calls = []
def save_then_die(obj, path):
    calls.append(1)
    if len(calls) < 2:
        return atomic_save(obj, path)
    def half(fh):
        fh.write(b"half a checkpoint")
        fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    atomic_write(path, half)
importlib.import_module("geodl.atoms.train._task").atomic_save = save_then_die
Trainer(tiny_config({str(out)!r}, epochs=3, resume="auto"), log=lambda s: None).fit(cuau(4))
"""
    proc = _run_python(script, ROOT)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    orphans = list(out.glob("checkpoint.pt.*.tmp"))
    assert len(orphans) == 1
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 1
    lines: list[str] = []
    result = Trainer(tiny_config(out, epochs=3, resume="auto"), log=lines.append).fit(cuau(4))
    assert any("resumed" in line and "after epoch 1" in line for line in lines)
    assert [r["epoch"] for r in result.history] == [1, 2, 3]
    assert not list(out.glob("*.tmp"))


# ------------------------------------------------------------ SIGTERM mid-epoch
def test_sigterm_mid_epoch_checkpoints_and_exits_143(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["train", "--data", str(small_file), "--out", str(out), *TINY]
    args += ["--set=epochs=2", "--set=batch_size=1", "--set=plots=false"]
    script = f"""
import os, signal, sys
from geodl.atoms.train import PotentialLoss
from geodl.cli.main import main
original, calls = PotentialLoss.backward, []
def signalled(self, *a, **k):
    calls.append(1)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives during step 3
    return original(self, *a, **k)
PotentialLoss.backward = signalled
sys.exit(main({args!r}))
"""
    proc = _run_python(script, ROOT)
    assert proc.returncode == 128 + signal.SIGTERM, proc.stdout + proc.stderr
    assert "interrupted by SIGTERM" in proc.stderr and "Traceback" not in proc.stderr
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert (ckpt["epoch"], ckpt["batch"], ckpt["final"]) == (0, 3, None)
    assert main(args) == 0  # the same command continues the run
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["final"]["stop_reason"] == "epochs"


# ------------------------------------------------------------ unusable files
def _damage(path: Path, how: str) -> None:
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_bytes(os.urandom(256))


@pytest.mark.parametrize("how", ["empty", "truncated", "garbage"])
def test_damaged_checkpoints_exit_2_naming_the_file_and_force_recovers(
    small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    out = tmp_path / "run"
    args = ["train", "--data", str(small_file), "--out", str(out), *TINY, "--set=epochs=1"]
    args.append("--set=plots=false")
    assert main(args) == 0
    _damage(out / "checkpoint.pt", how)
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(out / "checkpoint.pt") in err and "--force" in err and "Traceback" not in err
    assert main([*args, "--force"]) == 0


@pytest.mark.parametrize("how", ["empty", "truncated", "garbage"])
def test_damaged_model_files_raise_input_error(tmp_path: Path, how: str) -> None:
    path = tmp_path / "model.pt"
    save_model(Trainer(tiny_config(None), out=None).build_model(cuau(2)), path)
    _damage(path, how)
    with pytest.raises(InputError, match="model.pt"):
        load_model(path)


def test_a_small_model_file_cannot_request_a_huge_model(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    model = Trainer(tiny_config(None), out=None).build_model(cuau(2))
    save_model(model, path)
    payload = torch.load(path, weights_only=True)
    payload["config"]["fitting_widths"] = [60000, 60000]  # ~3.6e9 parameters
    torch.save(payload, path)
    with pytest.raises(InputError, match="asks for .* parameters but the file holds"):
        load_model(path)


# ------------------------------------------------------------ hostile values
@pytest.mark.parametrize(
    "option, key",
    [
        ("--set=training.grad_clip=-1", "training.grad_clip must be > 0 and"),
        ("--set=lr=1e9", "training.lr must be > 0 and <= 10 (a finite number), got '1e9'"),
        ("--set=num_threads=-2", "training.num_threads must be >= 0 and <= 4096"),
        (
            "--set=epochs=1.5",
            "training.epochs must be >= 1 and <= 1000000000 (an integer, or null for as many",
        ),
        ("--set=model.embed_widths=[0]", "model.embed_widths must be >= 1 and <= 65536"),
        ("--set=model.r_cut=.nan", "model.r_cut must be > 0 and <= 100 (a finite number), got nan"),
        ("--set=model.fitting_widths=[60000,60000]", "exceeds the limits"),
        ("--set=training.device=cuda:7", "training.device: 'cuda:7'"),
    ],
)
def test_hostile_values_exit_2_naming_the_key(
    small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, key: str
) -> None:
    args = ["train", "--data", str(small_file), "--out", str(tmp_path / "r"), *TINY, option]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err


def test_max_time_nan_and_an_out_under_a_file_exit_2(
    small_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["train", "--data", str(small_file), *TINY]
    assert main([*base, "--out", str(tmp_path / "r"), "--max-time", "nan"]) == 2
    assert "--max-time must be > 0 (a finite number), got nan" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "r"), "--set=max_time=.nan"]) == 2
    err = capsys.readouterr().err
    assert "training.max_time must be > 0 and <= 1000000000 (a finite number" in err
    assert "got nan (set by --max-time)" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main([*base, "--out", str(blocker / "run"), "--set=epochs=1"]) == 2
    assert "cannot create the directory" in capsys.readouterr().err


def test_large_models_train_with_allow_large() -> None:
    cfg = load_config(overrides=["model.fitting_widths=[60000, 60000]", "allow_large=true"])
    from geodl.atoms.model import check_model_size, model_config_from_dict

    size = check_model_size(
        model_config_from_dict({**cfg.model, "type_map": ["Cu"]}), allow_large=True
    )
    assert size.parameters > 50_000_000


def test_suspicious_values_warn_and_train() -> None:
    cfg = tiny_config(None, epochs=1, batch_size=50, lr=1.5, lr_final=2.0)
    with pytest.warns(SuspiciousValueWarning) as caught:
        suspicious_values(cfg, n_train=4)
    text = " ".join(str(w.message) for w in caught)
    assert "training.lr = 1.5" in text and "training.lr_final = 2.0" in text
    assert "training.batch_size = 50" in text
    with pytest.warns(SuspiciousValueWarning, match="batch_size = 50"):
        result = Trainer(tiny_config(None, epochs=1, batch_size=50), out=None, log=print).fit(
            cuau(4)
        )
    assert result.stop_reason == "epochs"


# ------------------------------------------------------------ the budget
def test_max_time_counts_reading_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    run = importlib.import_module("geodl.atoms.train._run")
    slow_read = run.read_structures

    def read_slowly(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(1.5)
        return slow_read(*args, **kwargs)

    monkeypatch.setattr(run, "read_structures", read_slowly)
    cfg = tiny_config(tmp_path, epochs=10_000, max_time=1.0).override(
        [f"data.train={bundled_dataset('argon')}", "data.index=:4"]
    )
    result = train(cfg, log=lambda s: None)  # the budget is spent before training starts
    assert result.stop_reason == "max_time"
    assert (
        result.history[0]["time"] >= 1.5
        and torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 0
    )


def test_max_time_counts_the_whole_command(tmp_path: Path) -> None:
    """Reading, statistics, training, the final evaluation and the plots fit into the
    budget. The slack allowed is what the plots are estimated to take under the load of
    the moment (the estimate the trainer reserves is taken when the run starts)."""
    from geodl.atoms.train import time_a_plot

    budget = 10.0
    cfg = tiny_config(tmp_path / "run", epochs=10_000, max_time=budget, plots=True).override(
        [f"data.train={bundled_dataset('cuau')}", "data.index=:12"]
    )
    # first-use costs (imports, font caches) are charged too, but no budget can undo them:
    # pay them before the measured run
    train(
        cfg.override([f"out={tmp_path / 'warm'}", "epochs=1", "max_time=null"]), log=lambda s: None
    )
    t0 = time.perf_counter()
    result = train(cfg, log=lambda s: None)
    wall = time.perf_counter() - t0
    slack = max(time_a_plot(), 0.1 * budget)
    assert result.stop_reason == "max_time" and "parity" in result.files
    assert wall < budget + slack, f"{wall:.1f} s for a {budget:g} s budget (slack {slack:.1f})"
    t = cfg.training  # annealed by the time fraction: the last rate is near lr_final
    progress = math.log(result.history[-1]["lr"] / t.lr) / math.log(t.lr_final / t.lr)
    assert progress > 0.5  # the step fraction alone would be ~0 (epochs=10000)


def test_the_end_of_run_reserve_never_holds_back_most_of_a_budget() -> None:
    """The reserve for the final evaluation is estimated from training steps; a slow step
    (warm-up, a load spike: 4.7 s here) must not make it eat a 100 s budget, or the run
    stops after its first step."""
    from types import SimpleNamespace

    from geodl.atoms.train._task import PotentialTask
    from geodl.training import Budget

    config = SimpleNamespace(training=SimpleNamespace(refit_energy_shift=True, plots=False))
    parts = {"valid_graphs": [0] * 45, "train_graphs": [0] * 405, "n_test": 0}
    task = SimpleNamespace(
        parts=parts, val_time=0.0, step_time=4.7, batch_size=4, config=config, out=None
    )
    task.budget = Budget(100.0)
    assert PotentialTask.reserve(task) == pytest.approx(30.0)  # type: ignore[arg-type]
    task.budget, task.step_time = Budget(None), 0.01  # no budget: the plain estimate
    assert PotentialTask.reserve(task) < 2.0  # type: ignore[arg-type]


# ------------------------------------------------------------ data errors
def test_data_errors_name_file_frame_and_key(tmp_path: Path) -> None:
    frames = ase.io.read(bundled_dataset("cuau"), index=":3")
    path = tmp_path / "bad.extxyz"
    frames[1].calc.results["forces"] = np.full((len(frames[1]), 3), np.nan)
    ase.io.write(path, frames)
    with pytest.raises(InputError, match=r"bad.extxyz\[1\]: the forces 'forces' contain NaN"):
        read_structures(path)
    frames = ase.io.read(bundled_dataset("cuau"), index=":3")
    for a in frames:
        a.info["REF_energy"] = a.get_potential_energy()
    frames[2].info["REF_energy"] = "high"
    with pytest.raises(InputError, match=r"<atoms>\[2\]: the label 'REF_energy' is not numeric"):
        read_structures(frames, energy_key="REF_energy")
