"""``geodl bench symmetry-curve``: the JSON contract on tiny runs of the three tasks, the
efficiency and slope computations on synthetic curves, and the symmetry each model claims
(checked with geodl's own harness)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from geodl.bench._curves import efficiency, power_law_fit, samples_to_reach, summarise
from geodl.bench._registry import resolve_benchmark
from geodl.cli.main import main
from geodl.symmetry import check_invariance

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024]
TINY = {"steps": 4, "batch_size": 8, "test_size": 24, "seeds": 2, "progress": False}


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEODL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "geodl-cache"))


# ------------------------------------------------------------------ synthetic curves
def _power(a: float, b: float, sizes: list[int] = SIZES) -> list[float]:
    return [a * n**b for n in sizes]


def test_efficiency_of_a_shifted_power_law_is_the_shift() -> None:
    # e_S(n) = e_T(4 n): the symmetric model needs 4 times fewer samples at every level
    trivial = _power(2.0, -0.5)
    symmetric = [2.0 * (4 * n) ** -0.5 for n in SIZES]
    eff = efficiency(SIZES, symmetric, trivial)
    assert eff["bound"] is None and eff["factor"] == pytest.approx(4.0, rel=1e-9)
    assert eff["n_reference"] == pytest.approx(1024) and eff["n_model"] == pytest.approx(256)
    levels = eff["by_reference_level"]
    assert [lv["n_reference"] for lv in levels] == pytest.approx(SIZES)
    # levels the model beats at its smallest size are lower bounds: n_ref / 8
    assert [lv["bound"] for lv in levels[:2]] == ["lower", "lower"]
    assert levels[0]["factor"] == pytest.approx(1.0) and levels[1]["factor"] == pytest.approx(2.0)
    assert all(lv["factor"] == pytest.approx(4.0) for lv in levels[2:])


def test_efficiency_interpolates_on_log_log_and_reports_bounds() -> None:
    # steeper symmetric curve: e_S = n^-1, e_T = n^-0.5; e_T(1024) = 1/32 = e_S(32)
    eff = efficiency(SIZES, _power(1.0, -1.0), _power(1.0, -0.5))
    assert eff["factor"] == pytest.approx(1024 / 32) and eff["bound"] is None
    # between measured sizes: e = 10^-1.25 is reached at n = 10^1.25 on the n^-1 curve
    n, how = samples_to_reach(SIZES, _power(1.0, -1.0), 10**-1.25)
    assert how is None and n == pytest.approx(10**1.25, rel=1e-9)
    # a model better than the reference's best everywhere: a lower bound n_ref / n_min
    eff = efficiency(SIZES, _power(1e-3, -0.5), _power(1.0, -0.5))
    assert eff["bound"] == "lower" and eff["factor"] == pytest.approx(1024 / 8)
    # a model that never reaches it: an upper bound n_ref / n_max
    eff = efficiency(SIZES, _power(10.0, -0.1), _power(1.0, -0.5))
    assert eff["bound"] == "upper" and eff["factor"] == pytest.approx(1.0)


def test_noisy_curves_use_the_running_minimum() -> None:
    # the reference gets worse at 32: the level of 16 is the best up to 32
    n, how = samples_to_reach([8, 16, 32, 64], [1.0, 0.5, 0.7, 0.25], 0.5)
    assert how is None and n == pytest.approx(16)
    assert samples_to_reach([8, 16], [1.0, 0.5], 0.1) == (None, "not_reached")
    assert samples_to_reach([8, 16], [1.0, 0.5], 2.0) == (8.0, "at_most")


def test_power_law_fit_recovers_slope_and_prefactor() -> None:
    fit = power_law_fit(SIZES, _power(3.0, -0.7))
    assert fit["slope"] == pytest.approx(-0.7) and fit["r2"] == pytest.approx(1.0)
    assert fit["log10_prefactor"] == pytest.approx(math.log10(3.0))


def test_summarise_picks_the_best_trivial_model_as_reference() -> None:
    def row(sym: str, a: float, b: float) -> dict:
        return {"symmetry": sym, "errors": [[e, e] for e in _power(a, b)]}

    models = {
        "sym": row("E3 x S_n", 0.5, -0.5),
        "mlp": row("trivial", 2.0, -0.3),
        "mlp+aug": row("trivial", 1.0, -0.5),
    }
    out = summarise(SIZES, models, floor=1e-9)
    assert out["reference"] == "mlp+aug"
    assert set(out["efficiency"]) == {"sym"}
    assert out["efficiency"]["sym"]["factor"] == pytest.approx(4.0)
    assert out["pairwise"]["mlp+aug"]["mlp"]["factor"] > 1.0
    assert out["fits"]["mlp"]["slope"] == pytest.approx(-0.3)


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


# ------------------------------------------------------------------ declared symmetries
def _spec_models(task: str) -> tuple[dict, object]:
    import importlib

    from geodl.bench.symmetry_curve import TASKS

    mod = importlib.import_module(f"geodl.bench.{TASKS[task].module}")
    data = mod.load(0, 8, 8)
    return mod.models(data, quick=True), data


def _verdict(model: torch.nn.Module, group: str, x: torch.Tensor, kind: str, species=None) -> str:
    model = model.double().eval()
    if kind == "atoms":

        def f(species: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
            return model(pos.unsqueeze(0)).squeeze(0)

        return check_invariance(f, group, (species, x.double()), kind="atoms").verdict
    return check_invariance(
        lambda t: model(t.unsqueeze(0)).squeeze(0), group, x.double(), kind=kind
    ).verdict


def test_molecule_models_respect_exactly_the_groups_they_claim() -> None:
    specs, data = _spec_models("molecule")
    species, x = data.extra["species"], data.x_test[0]
    for name, spec in specs.items():
        torch.manual_seed(0)
        model = spec.build()
        model.fit_statistics(data.x_pool, data.y_pool, data.pool_extra[0])
        for group in spec.harness:
            assert _verdict(model, group, x, "atoms", species) == "exact", (name, group)
        so3 = _verdict(model, "SO3", x, "atoms", species)
        assert (so3 == "exact") == (spec.symmetry == "E3 x S_n"), (name, so3)
        perm = _verdict(model, "permutation", x, "atoms", species)
        assert (perm == "exact") == (spec.symmetry != "trivial"), (name, perm)


def test_pointcloud_and_image_models_respect_exactly_the_groups_they_claim() -> None:
    for task, kind, broken in (("pointcloud", "points", "SO3"), ("image", "image", "C4")):
        specs, data = _spec_models(task)
        for name, spec in specs.items():
            torch.manual_seed(0)
            model = spec.build()
            if hasattr(model, "fit_statistics"):
                model.fit_statistics(data.x_pool, data.y_pool)
            x = data.x_test[0]
            for group in spec.harness:
                assert _verdict(model, group, x, kind) == "exact", (name, group)
            if broken not in " ".join(spec.harness) and "SE3" not in " ".join(spec.harness):
                assert _verdict(model, broken, x, kind) != "exact", (name, broken)
