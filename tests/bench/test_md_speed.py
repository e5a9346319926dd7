"""Smoke test of ``geodl bench md-speed`` (quick: two tiny cells, in-process)."""

from __future__ import annotations

import json
import math

import pytest

from geodl.bench import resolve_benchmark
from geodl.bench.md_speed import build_system, scaling_exponent


def test_md_speed_quick() -> None:
    result = resolve_benchmark("md-speed")(seed=1, quick=True, sizes=[[1, 1, 2], [2, 2, 2]])
    assert result["task"] == "md-speed" and result["seed"] == 1
    rows = result["results"]
    for n in (8, 32):
        row = rows[f"geodl N={n}"]
        assert row["atoms"] == n and row["atoms_per_s"] > 0 and row["peak_rss_mb"] > 0
        assert row["edges"] > 0 and row["model_ms"] > 0
    assert rows["DeePMD-kit 3.1 (pt, se_e2_a) N=6912"]["atoms_per_s"] == "OOM"
    assert math.isfinite(result["scaling_exponent"])
    scaling = rows["scaling exponent (1 = linear)"]
    assert scaling["from_atoms"] == 8 and scaling["to_atoms"] == 32
    assert math.isfinite(scaling["exponent_cpu"])
    json.dumps(result)


def test_md_speed_options() -> None:
    run = resolve_benchmark("md-speed")
    with pytest.raises(ValueError, match="Valid options"):
        run(seed=0, quick=True, atoms=10)
    with pytest.raises(ValueError, match="sizes"):
        run(seed=0, quick=True, sizes=[])


def test_helpers() -> None:
    atoms = build_system([2, 2, 2], seed=0)
    assert len(atoms) == 32 and set(atoms.get_chemical_symbols()) <= {"Cu", "Au"}
    assert scaling_exponent([100, 1000], [0.1, 1.0]) == pytest.approx(1.0)
    assert scaling_exponent([100, 1000], [0.1, 10.0]) == pytest.approx(2.0)
