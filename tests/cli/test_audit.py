"""``geodl audit``: table, JSON list, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodl.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
REF = str(ROOT / "examples" / "reference_models.py")


def test_audit_prints_a_table_and_writes_a_json_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "audit.json"
    code = main(["audit", f"{REF}:literal_omega", "--input", "points:8", "--json", str(out_file)])
    out = capsys.readouterr().out
    assert code == 0
    assert "audit: points:8,3 -> invariant" in out and "BROKEN" in out and "exact" in out
    rows = json.loads(out_file.read_text())
    assert {r["group"]: r["verdict"] for r in rows} == {
        "permutation": "exact",
        "translation": "exact",
        "SO3": "broken",
        "O3": "broken",
        "SE3": "broken",
        "E3": "broken",
    }
    for r in rows:
        assert {"group", "verdict", "max_rel_error", "max_abs_error", "tolerance", "dtype"} <= set(
            r
        )


def test_audit_images_and_atoms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", f"{REF}:cnn_c4_averaged", "--input", "image:1,12,12", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "C4" in out and "D4" in out and "BROKEN" in out
    assert main(["audit", f"{REF}:pair_energy", "--input", "atoms:6,pbc"]) == 0
    # the model ignores the periodic cell: only lattice translations break it
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[3:]]
    assert {r[0]: r[1] for r in rows if len(r) > 1} == {
        **dict.fromkeys(["permutation", "translation", "SO3", "O3", "SE3", "E3"], "exact"),
        "lattice": "BROKEN",
    }


def test_audit_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", f"{REF}:literal_omega", "--input", "points"]) == 2
    assert "KIND:SIZES" in capsys.readouterr().err
    # the model raises on an image: exit 3 (the user's model raised), not 2
    assert main(["audit", f"{REF}:literal_omega", "--input", "image:1,8,8"]) == 3
    err = capsys.readouterr().err
    assert "geodl audit: error: the model of" in err and "raised" in err
    assert main(["audit", f"{REF}:literal_omega", "--input", "points:8", "--samples", "0"]) == 2
    assert "--samples must be >= 1" in capsys.readouterr().err


def _battery() -> dict:
    import importlib.util
    import sys

    name = "geodl_examples_reference_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REF)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name].BATTERY


@pytest.mark.parametrize("name", sorted(_battery()))
def test_geodl_audit_classifies_the_reference_battery(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec, rep, expected = _battery()[name]
    out_file = tmp_path / "audit.json"
    argv = ["audit", f"{REF}:{name}", "--input", spec, "--output", rep, "--json", str(out_file)]
    assert main(argv) == 0
    capsys.readouterr()
    rows = json.loads(out_file.read_text())
    assert {r["group"]: r["verdict"] for r in rows} == expected
