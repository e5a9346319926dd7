"""The explore section: defaults, --set routing between explore and training keys, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodl.atoms.explore import ExploreConfig, load_explore_config
from geodl.errors import InputError


def test_defaults_and_routing(tmp_path: Path) -> None:
    cfg = load_explore_config()
    assert cfg.explore.committee == 4 and cfg.explore.trust_lo == "auto"
    cfg = load_explore_config(
        overrides=[
            "committee=3",
            "explore.epochs=7",
            "training.epochs=9",
            "model.r_cut=4.5",
            "trust_lo=0.05",
            "explore.pressures=null",
            "temperatures=[100, 200]",
        ]
    )
    assert (cfg.explore.committee, cfg.explore.epochs, cfg.train.training.epochs) == (3, 7, 9)
    assert cfg.train.model["r_cut"] == 4.5 and cfg.explore.trust_lo == 0.05
    assert cfg.explore.pressures is None and cfg.explore.temperatures == [100.0, 200.0]
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  r_cut: 5.0\nexplore:\n  per_iteration: 12\n")
    cfg = load_explore_config(path, ["max_labels=40"])
    assert (cfg.explore.per_iteration, cfg.explore.max_labels) == (12, 40)
    assert cfg.to_dict()["explore"]["per_iteration"] == 12


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("epochs=3", "both explore.epochs and a training key"),
        ("explore.comittee=3", "Did you mean 'committee'"),
        ("committee=1", "explore.committee must be >= 2"),
        ("trust_lo=big", "'auto' or a number"),
        ("explore.trust_lo=0.2", None),
        ("temperatures=[]", "non-empty list of temperatures"),
        ("final_share=1.0", "in \\[0, 1\\)"),
        ("per_iteration=2.5", "expected an integer"),
        ("nosuchkey=1", "Unknown config key 'nosuchkey'"),
        ("starts=random", "explore.starts must be one of 'initial', 'labelled'"),
        ("stratify=maybe", "explore.stratify must be true or false"),
        ("swaps=1.5", "explore.swaps must be in \\[0, 1\\]"),
    ],
)
def test_errors_name_the_key(pair: str, message: str | None) -> None:
    if message is None:  # trust_hi below a given trust_lo
        with pytest.raises(InputError, match="trust_hi must be > trust_lo"):
            load_explore_config(overrides=[pair, "trust_hi=0.1"])
        return
    with pytest.raises((InputError, ValueError), match=message):
        load_explore_config(overrides=[pair])


def test_keys_are_documented() -> None:
    doc = ExploreConfig.__doc__ or ""
    missing = [k for k in ExploreConfig.keys() if k not in doc]
    assert not missing, f"undocumented explore keys: {missing}"
