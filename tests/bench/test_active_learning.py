"""``geodl bench active-learning --quick`` smoke test (tiny models, a few frames)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodl.bench.active_learning import run


def test_quick_active_learning_bench(tmp_path: Path) -> None:
    png = tmp_path / "curve.png"
    result = run(seed=0, quick=True, out=str(tmp_path / "bench"), plot=str(png), threads=1)
    assert result["task"] == "active-learning" and result["system"] == "cuau"
    al = result["results"]["active learning (geodl explore)"]
    assert al["iterations"] == 1 and al["labels"] >= 4 and al["forces_rmse_meV_A"] > 0
    assert al["ratio_to_random"] > 0
    assert result["curve"][0]["test_forces_rmse_meV_A"] > 0
    assert png.stat().st_size > 1000
    assert "load_average_start" in result["conditions"]


def test_unknown_system() -> None:
    with pytest.raises(ValueError, match="unknown system 'water'.*cuau, ethanol-xtb"):
        run(quick=True, system="water")
