"""``geodl bench finetune --quick`` smoke test (the contract of its JSON)."""

from __future__ import annotations

import math

import pytest

from geodl.bench.finetune import run


def test_quick_finetune_bench() -> None:
    result = run(seed=0, quick=True)
    assert result["task"] == "finetune"
    assert set(result["results"]) == {"from scratch", "fine-tuned from Cu/Au"}
    for row in result["results"].values():
        assert math.isfinite(row["forces_rmse_meV_A"]) and row["epochs"] == 1
    assert sorted(result["settings"]["pretrain_type_map"]) == ["Au", "Cu"]


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="n_new must be >= 2"):
        run(quick=True, n_new=1)
