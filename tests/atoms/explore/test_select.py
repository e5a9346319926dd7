"""Trust window rule, classification, fingerprints (invariance), farthest-point pick."""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from geodl.atoms.explore import (
    candidate_pool,
    classify,
    farthest_point_sampling,
    structure_fingerprints,
    trust_window,
)


def test_trust_window_rule() -> None:
    dev = np.linspace(0.01, 0.1, 91)
    lo, hi = trust_window(dev, quantile=0.95, ratio=3.0)
    assert lo == pytest.approx(np.quantile(dev, 0.95)) and hi == pytest.approx(3 * lo)
    assert trust_window(dev, lo=0.05) == (0.05, pytest.approx(0.15))
    assert trust_window(dev, hi=0.3) == (pytest.approx(0.1), 0.3)
    assert trust_window(np.array([np.nan, 0.02]), quantile=1.0)[0] == 0.02  # NaN ignored
    with pytest.raises(ValueError, match="no finite deviations"):
        trust_window(np.array([np.nan]))


def test_classify_counts_nan_as_failed() -> None:
    got = classify(np.array([0.0, 0.05, 0.06, 0.15, 0.16, np.inf, np.nan]), 0.05, 0.15)
    assert got.tolist() == [0, 0, 1, 1, 2, 2, 2]


def test_candidate_pool_tops_up_with_the_most_uncertain_accurate_frames() -> None:
    dev = np.array([0.01, 0.05, 0.02, 0.04, 0.03, 0.5, np.nan, 0.012])
    classes = classify(dev, 0.045, 0.2)  # candidate: 0.05; failed: 0.5, nan
    assert candidate_pool(dev, classes, 0.0).tolist() == [1]  # the window as it is
    pool = candidate_pool(dev, classes, 0.5)  # 4 of 8 frames, ascending indices
    assert pool.tolist() == [1, 2, 3, 4] and dev[pool].min() == 0.02
    assert 2 not in classes[pool]  # 2: failed
    assert candidate_pool(dev, classes, 1.0).tolist() == [0, 1, 2, 3, 4, 7]  # never failed
    many = classify(np.linspace(0.05, 0.1, 10), 0.01, 1.0)  # enough candidates: no top-up
    assert candidate_pool(np.linspace(0.05, 0.1, 10), many, 0.5).size == 10
    assert candidate_pool(dev, classes, 0.0, minimum=3).tolist() == [1, 3, 4]  # a number
    assert candidate_pool(dev, classes, 0.25, minimum=20).tolist() == [0, 1, 2, 3, 4, 7]
    assert candidate_pool(np.array([]), np.array([], dtype=int), 0.5).size == 0


def test_fingerprints_invariant_and_discriminating() -> None:
    a = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1))
    a.symbols[[0, 3]] = "Au"
    a.rattle(0.1, seed=0)
    b = a.copy()
    b.rotate(57, "x", rotate_cell=True)
    b.translate([1.0, 2.0, -0.5])
    b = b[np.random.default_rng(1).permutation(len(b))]
    c = a.copy()
    c.rattle(0.3, seed=2)
    fp = structure_fingerprints([a, b, c], ["Cu", "Au"], 5.0, n_radial=8)
    assert fp.shape == (3, 2 * 2 * 8 + 2)
    np.testing.assert_allclose(fp[0], fp[1], atol=1e-10)
    assert np.abs(fp[0] - fp[2]).max() > 1e-2
    np.testing.assert_allclose(fp[0, -2:], [6 / 8, 2 / 8])  # composition


def test_farthest_point_sampling_spreads_and_avoids_the_labelled() -> None:
    rng = np.random.default_rng(0)
    cluster_a = rng.normal(0.0, 0.01, (20, 2))
    cluster_b = rng.normal(5.0, 0.01, (20, 2))
    lone = np.array([[10.0, -10.0]])
    points = np.concatenate([cluster_a, cluster_b, lone])
    picks = farthest_point_sampling(points, 3)
    assert {p // 20 for p in picks} == {0, 1, 2}  # one from each group
    picks = farthest_point_sampling(points, 2, reference=np.array([[0.0, 0.0], [10.0, -10.0]]))
    assert all(20 <= p < 40 for p in picks[:1])  # the unlabelled region first
    assert farthest_point_sampling(points, 0) == []
    assert sorted(farthest_point_sampling(points[:3], 10)) == [0, 1, 2]


def test_farthest_point_sampling_takes_turns_over_groups() -> None:
    rng = np.random.default_rng(0)
    hot = rng.normal(5.0, 2.0, size=(30, 2))  # spread out: plain FPS would pick only these
    cold = rng.normal(0.0, 0.1, size=(10, 2))
    points = np.concatenate([hot, cold])
    groups = np.array([1] * 30 + [0] * 10)
    plain = farthest_point_sampling(points, 6, reference=np.zeros((1, 2)))
    assert all(j < 30 for j in plain)
    fair = farthest_point_sampling(points, 6, reference=np.zeros((1, 2)), groups=groups)
    assert sorted(groups[fair].tolist()) == [0, 0, 0, 1, 1, 1] and len(set(fair)) == 6
    few = farthest_point_sampling(points[28:32], 4, groups=groups[28:32])  # 2 and 2
    assert sorted(few) == [0, 1, 2, 3]
