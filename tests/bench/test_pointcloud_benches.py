"""Smoke tests of ``geodl bench pointcloud`` and ``geodl bench tetris`` (``--quick``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodl.bench._registry import resolve_benchmark
from geodl.cli.main import main


def test_pointcloud_quick_json_contract() -> None:
    result = resolve_benchmark("pointcloud")(seed=0, quick=True)
    assert result["task"] == "pointcloud" and result["seed"] == 0
    assert set(result["results"]) == {"pointnet", "invariant"}
    for name, row in result["results"].items():
        for key in ("z/z", "z/SO3", "SO3/SO3", "z/z permuted", "z/z half points"):
            assert 0.0 <= row[key] <= 1.0
        assert row["rotation_invariant"] is (name == "invariant")
    inv = result["results"]["invariant"]
    # invariant by construction: the same test clouds in any orientation, the same answers
    assert inv["z/z"] == inv["z/SO3"]
    curves = result["accuracy_vs_tilt"]
    assert curves["angles_deg"] == [0, 90, 180]
    assert len(curves["invariant"]) == 3 and len(set(curves["invariant"])) == 1
    assert result["settings"]["invariant_dtype"] == "float64"
    json.dumps(result)


def test_tetris_quick_via_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tetris.json"
    assert main(["bench", "tetris", "--quick", "--seed", "1", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "invariant-SO3" in text and "invariant-O3" in text
    result = json.loads(out.read_text())
    assert result["task"] == "tetris" and result["seed"] == 1
    rows = result["results"]
    assert rows["invariant-SO3"]["group"] == "SO3" and rows["invariant-O3"]["group"] == "O3"
    for row in rows.values():
        assert 0.0 <= row["test_accuracy"] <= 1.0
    # an O(3)-invariant model gives mirror images the same logits: at most 7/8 correct
    assert rows["invariant-O3"]["test_accuracy"] <= 7 / 8
    assert rows["invariant-O3"]["chiral_pair_accuracy"] <= 0.5


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "pointcloud", "--quick", "--set", "foo=1"]) == 2
    assert "Valid options: epochs" in capsys.readouterr().err
    with pytest.raises(ValueError, match="Valid options: epochs, copies, threads"):
        resolve_benchmark("tetris")(seed=0, quick=True, bar=2)
    with pytest.raises(ValueError, match="option 'epochs' must be int"):
        resolve_benchmark("tetris")(seed=0, quick=True, epochs="many")
    with pytest.raises(ValueError, match="invariant_dtype must be one of float32, float64"):
        resolve_benchmark("pointcloud")(seed=0, quick=True, invariant_dtype="float16")
