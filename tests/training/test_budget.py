"""Budget and progress: time spent in earlier parts counts; progress is the larger of the
step and time fractions."""

from __future__ import annotations

import math

import pytest

from geodl.training import Budget, exponential_decay, run_progress


def test_budget_counts_earlier_parts() -> None:
    now = [100.0]
    b = Budget(10.0, clock=lambda: now[0])
    now[0] += 3.0
    b.add(4.0)  # an earlier part of the run
    assert b.elapsed() == 7.0 and b.remaining() == 3.0
    assert not b.exhausted(ahead=2.9) and b.exhausted(ahead=3.0)
    assert Budget(None).remaining() == math.inf and not Budget(None).exhausted(1e9)


@pytest.mark.parametrize(
    "step, total, elapsed, limit, p",
    [
        (0, 10, 0.0, None, 0.0),
        (5, 10, 1.0, 100.0, 0.5),
        (1, 10, 80.0, 100.0, 0.8),
        (20, 10, 0, None, 1.0),
    ],
)
def test_progress_is_the_larger_fraction(step: int, total: int, elapsed: float, limit, p) -> None:  # type: ignore[no-untyped-def]
    assert run_progress(step, total, elapsed, limit) == pytest.approx(p)


def test_exponential_decay_ends_at_the_final_value() -> None:
    assert exponential_decay(1e-3, 1e-5, 0.0) == 1e-3
    assert exponential_decay(1e-3, 1e-5, 1.0) == pytest.approx(1e-5)
