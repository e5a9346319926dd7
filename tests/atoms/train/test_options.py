"""Random option values (issue #16): every config value either gives a config that trains
or raises InputError — never another exception type."""

from __future__ import annotations

import dataclasses
import math
import tempfile
import warnings
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodl.atoms.data import bundled_dataset
from geodl.atoms.train import DataConfig, LossConfig, TrainingConfig, load_config, train
from geodl.errors import InputError
from tests.atoms._training import TINY_MODEL

#: hostile values of every kind
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2, 10**9, 2**63, -(2**31), 1e-320, 1e308, 0.5, 3.7]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.sampled_from(["", "abc", "nan", "-inf", "1e9", "auto", "[1, 2]", ":3"]),
    st.lists(st.integers(-3, 70000), max_size=3),
)

KEYS = (
    [f"data.{f.name}" for f in dataclasses.fields(DataConfig) if f.name not in ("train",)]
    + [f"training.{f.name}" for f in dataclasses.fields(TrainingConfig) if f.name != "loss"]
    + [f"training.loss.{f.name}" for f in dataclasses.fields(LossConfig)]
    + [
        "model.r_cut",
        "model.r_smooth",
        "model.min_distance",
        "model.embed_widths",
        "model.axis_neurons",
        "model.fitting_widths",
        "model.neighbor_norm",
        "model.dtype",
        "model.activation",
        "model.e0s",
        "model.type_map",
    ]
)


def _override(key: str, value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()
    return f"{key}={text}"


@given(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), min_size=1, max_size=4))
@settings(max_examples=200)
def test_any_values_load_or_raise_input_error(pairs: list[tuple[str, Any]]) -> None:
    overrides = [_override(k, v) for k, v in pairs]
    try:
        cfg = load_config(overrides=overrides)
    except InputError:
        return
    t = cfg.training
    for value in (t.lr, t.lr_final, t.max_time, t.grad_clip, t.checkpoint_every_s):
        assert value is None or (math.isfinite(value) and value > 0)
    assert (t.epochs is None or t.epochs >= 1) and t.epoch_limit() >= 1 and t.batch_size >= 1
    assert t.num_threads is None or t.num_threads >= 0


#: options whose values train in well under a second on the tiny set (threads and the
#: model stay fixed; the model keys are covered above), with values that should train
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "training.lr": st.floats(1e-5, 0.1),
    "training.lr_final": st.floats(1e-7, 1e-3),
    "training.ema_decay": st.none() | st.floats(0.0, 0.999),
    "training.batch_size": st.integers(1, 8),
    "training.seed": st.integers(0, 100),
    "training.patience": st.none() | st.integers(1, 3),
    "training.valid_every": st.integers(1, 3),
    "training.grad_clip": st.none() | st.floats(1e-3, 1e3),
    "training.max_time": st.none() | st.floats(0.01, 5.0),
    "training.checkpoint_every_s": st.none() | st.floats(1e-6, 100.0),
    "training.refit_energy_shift": st.booleans(),
    "training.loss.start_pref_e": st.floats(0.0, 1e3),
    "training.loss.limit_pref_f": st.floats(0.0, 1e3),
    "training.loss.start_pref_s": st.floats(0.0, 1e3),
    "data.valid_fraction": st.floats(0.0, 0.5),
    "data.split_seed": st.integers(0, 100),
    "data.max_structures": st.none() | st.integers(1, 6),
}
#: half plausible, half hostile: many examples reach the training
PAIR = st.sampled_from(sorted(PLAUSIBLE)).flatmap(
    lambda key: st.tuples(st.just(key), st.one_of(PLAUSIBLE[key], VALUES))
)


@given(st.lists(PAIR, min_size=1, max_size=3))
@settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])
def test_any_values_train_or_raise_input_error(pairs: list[tuple[str, Any]]) -> None:
    base = [f"model.{k}={v}" for k, v in TINY_MODEL.items()] + ["model.r_smooth=3.0"]
    base += ["epochs=2", "progress=false", "plots=false", "num_threads=1"]
    base += [f"data.train={bundled_dataset('argon')}", "data.index=:6"]
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as out:
        warnings.simplefilter("ignore")
        try:
            cfg = load_config(overrides=[*base, f"out={out}", *(_override(k, v) for k, v in pairs)])
            result = train(cfg, log=lambda s: None)
        except InputError:
            return
    assert result.stop_reason in ("epochs", "max_time", "early_stopping")
    assert all(
        math.isfinite(result.valid_metrics[k]) for k in ("forces_rmse", "energy_rmse_per_atom")
    )
