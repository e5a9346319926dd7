"""``geodl.bench._curves``: the efficiency and slope computations of ``geodl bench
symmetry-curve`` on synthetic power-law curves, where the answers are known."""

from __future__ import annotations

import math

import pytest

from geodl.bench._curves import TrainRule, efficiency, power_law_fit, samples_to_reach, summarise

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024]


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


def test_train_rule_gives_small_sets_a_floor_and_large_ones_epochs() -> None:
    rule = TrainRule(min_steps=500, epochs=30, batch_size=32, lr=1e-3, weight_decay=0.0)
    assert [rule.steps_for(n) for n in (4, 32, 512, 1536)] == [500, 500, 500, 1440]
