"""``geodl bench potential --quick`` smoke test."""

from __future__ import annotations

import pytest

from geodl.bench.potential import run


def test_quick_potential_bench() -> None:
    result = run(seed=0, quick=True)
    assert result["task"] == "potential" and result["seed"] == 0
    row = result["results"]["geodl se_e2_a [cuau, r_c=5]"]
    for key in ("energy_rmse_meV_atom", "forces_rmse_meV_A", "train_time_s", "n_test"):
        assert key in row
    assert row["forces_rmse_meV_A"] >= row["forces_mae_meV_A"] > 0
    assert row["energy_rmse_meV_atom"] >= row["energy_mae_meV_atom"] > 0
    assert row["n_test"] >= 1 and row["n_train"] + row["n_test"] < 24  # quick: 24 structures
    assert "stress_rmse_meV_A3" in row  # cuau bulk structures carry stress


def test_unknown_dataset() -> None:
    with pytest.raises(ValueError, match="unknown datasets.*cuau"):
        run(seed=0, quick=True, datasets=["water"])
