"""The YAML training config: defaults, unknown keys, overrides, type errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodl.atoms.train import TrainConfig, load_config, resolve_key, valid_keys
from geodl.errors import InputError


def test_defaults_roundtrip_and_yaml(tmp_path: Path) -> None:
    cfg = TrainConfig()
    assert cfg.training.batch_size == 4 and cfg.data.valid_fraction == 0.1
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    path = tmp_path / "c.yaml"
    path.write_text(cfg.to_yaml())
    assert load_config(path) == cfg


def test_yaml_file_with_sections_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "data:\n  train: x.extxyz\nmodel:\n  r_cut: 5.0\n  embed_widths: [8, 16]\n"
        "training:\n  lr: 1.0e-3\n  loss:\n    start_pref_f: 100\nout: runs/x\n"
    )
    cfg = load_config(
        path, ["epochs=7", "training.loss.limit_pref_e=3", "model.r_cut=4.5", "ema_decay=null"]
    )
    assert cfg.data.train == "x.extxyz" and cfg.out == "runs/x"
    assert cfg.training.lr == 1e-3 and cfg.training.epochs == 7
    assert cfg.training.loss.start_pref_f == 100.0 and cfg.training.loss.limit_pref_e == 3.0
    assert cfg.model == {"r_cut": 4.5, "embed_widths": [8, 16]}
    assert cfg.training.ema_decay is None


def test_unknown_keys_list_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("training:\n  lrr: 1.0\n")
    with pytest.raises(
        ValueError,
        match=r"typo.yaml: unknown key 'training.lrr'. Did you mean "
        r"'lr'.*Valid keys in 'training': epochs, batch_size",
    ):
        load_config(path)
    with pytest.raises(ValueError, match=r"unknown key 'model.rcut'.*Valid keys in 'model'"):
        TrainConfig.from_dict({"model": {"rcut": 5.0}})
    with pytest.raises(ValueError, match=r"unknown key 'dta'.*Valid keys: data, model"):
        TrainConfig.from_dict({"dta": {}})
    with pytest.raises(ValueError, match=r"Unknown config key 'learning_rate'.*Valid keys: "):
        load_config(overrides=["learning_rate=1"])


def test_override_resolution() -> None:
    assert resolve_key("lr") == ["training", "lr"]
    assert resolve_key("data.train") == ["data", "train"]
    assert "model.r_cut" in valid_keys()
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        load_config(overrides=["lr"])


def test_values_are_type_checked_and_ranges_validated(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=r"training.epochs must be >= 1 .*\(an integer, or null for as many as "
    ):
        load_config(overrides=["epochs=many"])
    with pytest.raises(InputError, match=r"data.valid_fraction must be >= 0 and < 1 .*, got 1.5"):
        load_config(overrides=["valid_fraction=1.5"])
    with pytest.raises(ValueError, match="resume must be true, false or 'auto'"):
        load_config(overrides=["resume=maybe"])
    with pytest.raises(ValueError, match="no such file"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [1, 2\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("training: 3\n")
    with pytest.raises(InputError, match="must be a mapping"):
        load_config(bad)


def test_epochs_default_follows_the_budget() -> None:
    """``--max-time`` without ``training.epochs``: the budget ends the run, not 200 epochs
    (small sets stopped long before their budget); an explicit count still wins."""
    cfg = load_config()
    assert cfg.training.epochs is None and cfg.training.epoch_limit() == 200
    timed = load_config(overrides=["training.max_time=60"]).training
    assert timed.epoch_limit() >= 10**9
    both = load_config(overrides=["training.max_time=60", "epochs=5"]).training
    assert both.epoch_limit() == 5
