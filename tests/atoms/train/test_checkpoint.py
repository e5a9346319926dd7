"""A run directory: a finished run is not trained again, a different config is refused
with the differences listed, --force starts over, training.resume=true continues."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geodl.atoms.train import TrainConfig, Trainer, config_differences, train
from geodl.errors import InputError
from tests.atoms._training import cuau, tiny_config


def _quiet(cfg: TrainConfig, **kw: object) -> Trainer:
    return Trainer(cfg, log=lambda s: None, **kw)  # type: ignore[arg-type]


def test_differences_skip_how_a_run_executes() -> None:
    a = tiny_config("x", lr=1e-3, progress=False, num_threads=1)
    b = tiny_config("y", lr=2e-3, progress=True, num_threads=None, checkpoint_every_s=5.0)
    assert config_differences(a.to_dict(), b.to_dict()) == ["training.lr: 0.001 -> 0.002"]
    old = a.to_dict()
    del old["training"]["checkpoint_every_s"]  # a checkpoint older than the key
    assert config_differences(old, a.to_dict()) == []


def test_a_finished_run_is_complete_and_force_starts_over(tmp_path: Path) -> None:
    data = cuau(6)
    cfg = tiny_config(tmp_path, epochs=2, resume="auto")
    first = _quiet(cfg).fit(data)
    assert not first.already_complete
    stamp = (tmp_path / "checkpoint.pt").stat().st_mtime_ns
    lines: list[str] = []
    again = Trainer(cfg, log=lines.append).fit(data)
    assert again.already_complete and any("is complete" in line for line in lines)
    assert (tmp_path / "checkpoint.pt").stat().st_mtime_ns == stamp  # nothing trained
    assert again.history == first.history and again.valid_metrics == first.valid_metrics
    for k, v in first.model.state_dict().items():
        assert torch.equal(v, again.model.state_dict()[k])
    forced = _quiet(cfg, force=True).fit(data)
    assert not forced.already_complete and len(forced.history) == 2


def test_a_different_config_is_refused_listing_the_differences(tmp_path: Path) -> None:
    data = cuau(6)
    _quiet(tiny_config(tmp_path, epochs=1, lr=3e-3)).fit(data)
    changed = tiny_config(tmp_path, epochs=3, lr=1e-3, resume="auto")
    with pytest.raises(InputError) as info:
        _quiet(changed).fit(data)
    text = str(info.value)
    assert "training.epochs: 1 -> 3" in text and "training.lr: 0.003 -> 0.001" in text
    assert "training.resume=true" in text and "--force" in text
    # asked explicitly: continue the run with the new settings
    lines: list[str] = []
    cont = Trainer(tiny_config(tmp_path, epochs=3, lr=1e-3, resume=True), log=lines.append)
    result = cont.fit(data)
    assert [r["epoch"] for r in result.history] == [1, 2, 3]
    assert any("resumed" in line and "after epoch 1" in line for line in lines)


def test_a_different_model_is_refused_even_when_asked(tmp_path: Path) -> None:
    data = cuau(4)
    _quiet(tiny_config(tmp_path, epochs=1)).fit(data)
    cfg = tiny_config(tmp_path, epochs=2, resume=True).override(["model.r_cut=3.5"])
    with pytest.raises(InputError, match="different 'model' section.*model.r_cut: 4.0 -> 3.5"):
        _quiet(cfg).fit(data)


def test_resume_true_needs_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no checkpoint"):
        _quiet(tiny_config(tmp_path, resume=True)).fit(cuau(4))


def test_train_says_complete_without_reading_the_data(tmp_path: Path) -> None:
    import ase.io

    from geodl.atoms.data import bundled_dataset

    data = tmp_path / "data.extxyz"
    ase.io.write(data, ase.io.read(bundled_dataset("cuau"), index=":6"))
    out = tmp_path / "run"
    cfg = tiny_config(out, epochs=1, resume="auto").override([f"data.train={data}"])
    train(cfg, log=lambda s: None)
    assert (out / "config.yaml").is_file()
    data.unlink()  # a complete run does not read its data again
    result = train(cfg, log=lambda s: None)
    assert result.already_complete and result.files["model"] == str(out / "model.pt")
