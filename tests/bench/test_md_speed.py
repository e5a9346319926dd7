"""Smoke test of ``geodl bench md-speed`` (quick: two tiny cells, in-process, geodl only)."""

from __future__ import annotations

import json
import math

import pytest

from geodl.bench import resolve_benchmark
from geodl.bench._md_peers import deepmd_input
from geodl.bench.md_speed import build_system, scaling_exponent


def test_md_speed_quick() -> None:
    result = resolve_benchmark("md-speed")(seed=1, quick=True, sizes=[[2, 2, 2], [3, 3, 3]])
    assert result["task"] == "md-speed" and result["seed"] == 1
    rows = result["results"]
    for engine in ("geodl", "geodl-compressed", "geodl-equivariant"):
        for n in (32, 108):
            row = rows[f"{engine} t=1 N={n}"]
            assert row["atoms"] == n and row["atoms_per_s"] > 0 and row["ms_per_step"] > 0
            assert row["peak_rss_mb"] > 0 and row["mb_per_atom"] >= 0
        scaling = rows[f"scaling {engine} t=1 (1 = linear)"]
        assert scaling["from_atoms"] == 32 and scaling["to_atoms"] == 108
        assert math.isfinite(scaling["exponent_cpu"])
    json.dumps(result)


def test_md_speed_options() -> None:
    run = resolve_benchmark("md-speed")
    with pytest.raises(ValueError, match="Valid options"):
        run(seed=0, quick=True, atoms=10)
    with pytest.raises(ValueError, match="sizes"):
        run(seed=0, quick=True, sizes=[])
    with pytest.raises(ValueError, match="Valid engines"):
        run(seed=0, quick=True, engines=["lammps"])
    with pytest.raises(ValueError, match="peer_python"):
        run(seed=0, quick=True, engines=["deepmd-tf-compressed"])


def test_helpers() -> None:
    atoms = build_system([2, 2, 2], seed=0)
    assert len(atoms) == 32 and set(atoms.get_chemical_symbols()) <= {"Cu", "Au"}
    assert scaling_exponent([100, 1000], [0.1, 1.0]) == pytest.approx(1.0)
    assert scaling_exponent([100, 1000], [0.1, 10.0]) == pytest.approx(2.0)


def test_deepmd_input_has_geodls_shape() -> None:
    from geodl.atoms import SeE2AConfig

    cfg = SeE2AConfig(type_map=["Cu", "Au"])
    d = deepmd_input(cfg, (80, 40), 10)["model"]
    assert d["descriptor"]["rcut"] == cfg.r_cut and d["descriptor"]["neuron"] == [25, 50, 100]
    assert d["descriptor"]["axis_neuron"] == 16 and d["fitting_net"]["neuron"] == [240] * 3
    assert d["descriptor"]["precision"] == "float32" and d["descriptor"]["type_one_side"]


def test_md_speed_builds_only_the_engines_asked_for() -> None:
    """One family alone: no compression of a model nobody times."""
    result = resolve_benchmark("md-speed")(
        seed=0, quick=True, engines=["geodl-equivariant"], sizes=[[2, 2, 2], [3, 3, 3]]
    )
    engines = {key.split(" t=")[0] for key in result["results"] if not key.startswith("scaling")}
    assert engines == {"geodl-equivariant"}
    assert result["results"]["geodl-equivariant t=1 N=108"]["atoms_per_s"] > 0
