"""``geodl bench potential-compare``: the CLI contract (--data/--test/--max-time/--models,
--json) and the keys of each model's row, on a --quick run of bundled data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geodl.cli.main import main

#: the keys every model's row must carry (the issue's contract)
ROW_KEYS = {
    "forces_rmse",
    "energy_rmse_per_atom",
    "epochs",
    "parameters",
    "atoms_per_s",
    "threads",
}


@pytest.mark.slow
def test_quick_run_writes_the_json_contract(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    code = main(
        [
            "bench",
            "potential-compare",
            "--data",
            "bundled:ethanol",
            "--test",
            "bundled:ethanol",
            "--max-time",
            "5",
            "--models",
            "se_e2_a,equivariant",
            "--quick",
            "--set",
            "repeats=1",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert set(result["results"]) == {"geodl se_e2_a", "geodl equivariant"}
    for row in result["results"].values():
        assert ROW_KEYS <= set(row)
        assert row["threads"] == 2 and row["eval_atoms"] == 864
        assert row["forces_rmse"] > 0 and row["atoms_per_s"] > 0 and row["parameters"] > 0
    assert result["settings"]["max_time"] == 5.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "bundled:ethanol", "--max-time", "5"], "--data TRAIN --test TEST"),
        (["--data", "bundled:nope", "--test", "bundled:ethanol"], "Valid names"),
        (["--data", "missing.extxyz", "--test", "bundled:ethanol"], "no such file"),
        (
            ["--data", "bundled:ethanol", "--test", "bundled:ethanol", "--max-time", "0"],
            "--max-time",
        ),
        (
            ["--data", "bundled:ethanol", "--test", "bundled:ethanol", "--models", "painn"],
            "Valid model types: se_e2_a, equivariant",
        ),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "potential-compare", "--quick", *args]) == 2
    assert message in capsys.readouterr().err
