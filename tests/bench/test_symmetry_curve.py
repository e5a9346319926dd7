"""``geodl bench symmetry-curve``: the JSON contract on tiny runs of the three tasks, the
CLI (JSON, plot, table) and option validation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from geodl.bench._registry import resolve_benchmark
from geodl.cli.main import main

TINY = {"steps": 4, "batch_size": 8, "test_size": 24, "seeds": 2, "progress": False}


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEODL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "geodl-cache"))


# ------------------------------------------------------------------ tiny real runs
def _check_contract(result: dict, task: str, sizes: list[int], seeds: int) -> None:
    assert result["task"] == task
    assert result["sizes"] == sizes and all(isinstance(n, int) for n in sizes)
    assert isinstance(result["metric"], str) and result["metric"]
    symmetric = []
    for name, row in result["models"].items():
        assert isinstance(row["symmetry"], str) and row["symmetry"]
        assert isinstance(row["params"], int) and row["params"] > 0
        assert len(row["errors"]) == len(sizes)
        for errs in row["errors"]:
            assert len(errs) == seeds
            assert all(isinstance(e, float) and math.isfinite(e) and e >= 0 for e in errs)
        if row["symmetry"] != "trivial":
            symmetric.append(name)
    assert sorted(result["efficiency"]) == sorted(symmetric)
    for entry in result["efficiency"].values():
        assert entry["factor"] > 0 and entry["bound"] in (None, "lower", "upper")
        assert result["models"][entry["reference"]]["symmetry"] == "trivial"
    json.dumps(result)


@pytest.mark.parametrize(
    ("task", "sizes", "models"),
    [
        ("molecule", [4, 8], {"se_e2_a", "se_e2_a-vector", "mlp", "mlp+augment"}),
        ("pointcloud", [4, 8], {"invariant", "deepsets", "deepsets+augment", "mlp"}),
        ("image", [4, 8], {"c4-cnn", "cnn", "cnn+augment", "mlp"}),
    ],
)
def test_tiny_run_keeps_the_json_contract(task: str, sizes: list[int], models: set) -> None:
    result = resolve_benchmark("symmetry-curve")(seed=0, quick=True, task=task, sizes=sizes, **TINY)
    _check_contract(result, task, sizes, seeds=2)
    assert set(result["models"]) == models
    assert result["conditions"]["threads"] == 1
    assert set(result["results"]) == models  # the printed table


def test_cli_writes_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, png = tmp_path / "curve.json", tmp_path / "curve.png"
    argv = ["bench", "symmetry-curve", "--task", "image", "--quick", "--sizes", "9", "18"]
    argv += ["--seeds", "1", "--json", str(out), "--plot", str(png)]
    argv += ["--set", "steps=3", "--set", "test_size=18", "--set", "models=cnn,mlp"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "efficiency" in text and "n=18" in text and f"wrote {png}" in text
    result = json.loads(out.read_text())
    _check_contract(result, "image", [9, 18], seeds=1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"task": "audio"}, "Valid tasks: molecule, pointcloud, image"),
        ({"sizes": [8]}, "at least two increasing integers"),
        ({"sizes": [16, 8]}, "at least two increasing integers"),
        ({"sizes": "a b"}, "'sizes' must be a list of positive integers"),
        ({"seeds": 0}, "'seeds' must be a positive int"),
        ({"models": "cnn,resnet"}, "Valid models for this task: c4-cnn, cnn, cnn+augment, mlp"),
        ({"sizes": [16, 4096]}, "Use smaller --sizes"),
    ],
)
def test_bad_options_name_the_choices(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        resolve_benchmark("symmetry-curve")(
            seed=0, quick=True, **{"task": "image", "progress": False, **options}
        )


def test_curve_options_are_rejected_by_other_benchmarks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "tetris", "--quick", "--task", "image"]) == 2
    assert "task" in capsys.readouterr().err
