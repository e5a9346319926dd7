r"""Wall-clock budget and run progress.

The progress of a run is the larger of the fraction of optimiser steps done and the
fraction of the time budget spent,

.. math::

    p = \min\Big(1,\ \max\Big(\frac{n}{n_\text{total}},\ \frac{t}{T}\Big)\Big),

so a schedule driven by :math:`p` (learning rate, loss prefactors) ends annealed both
when the epochs run out first and when the budget :math:`T` does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["Budget", "exponential_decay", "run_progress"]


def run_progress(step: int, total_steps: int, elapsed: float, time_limit: float | None) -> float:
    """:math:`p` above; ``time_limit`` ``None`` counts only steps.

    Examples
    --------
    >>> run_progress(10, 100, 30.0, 60.0), run_progress(50, 100, 1.0, None)
    (0.5, 0.5)
    """
    p = step / max(total_steps, 1)
    if time_limit is not None:
        p = max(p, elapsed / max(time_limit, 1e-9))
    return min(max(p, 0.0), 1.0)


def exponential_decay(start: float, final: float, progress: float) -> float:
    r""":math:`\eta(p) = \eta_0\,(\eta_\text{final}/\eta_0)^{p}`.

    Examples
    --------
    >>> exponential_decay(1e-3, 1e-5, 0.5)
    0.0001
    """
    return start * (final / start) ** progress


class Budget:
    """Seconds spent on a run (over all its resumed parts) against an optional limit.

    Parameters
    ----------
    max_time : float or None
        The limit in seconds (``None``: no limit).
    spent : float
        Seconds already spent by earlier parts of the run.
    clock : callable
        Monotonic seconds (``time.perf_counter``).

    Examples
    --------
    >>> b = Budget(10.0, spent=4.0, clock=lambda: 100.0)
    >>> b.elapsed(), b.remaining(), b.exhausted(ahead=6.0)
    (4.0, 6.0, True)
    """

    def __init__(
        self,
        max_time: float | None,
        spent: float = 0.0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.max_time = None if max_time is None else float(max_time)
        self._clock = clock
        self._start = clock() - float(spent)

    def __repr__(self) -> str:
        return f"Budget(max_time={self.max_time}, elapsed={self.elapsed():.1f})"

    def elapsed(self) -> float:
        """Seconds spent so far (earlier parts included)."""
        return self._clock() - self._start

    def add(self, seconds: float) -> None:
        """Charge ``seconds`` spent elsewhere (an earlier part of a resumed run)."""
        self._start -= float(seconds)

    def remaining(self) -> float:
        """Seconds left (``inf`` without a limit)."""
        if self.max_time is None:
            return math.inf
        return self.max_time - self.elapsed()

    def exhausted(self, ahead: float = 0.0) -> bool:
        """Whether ``ahead`` more seconds would overrun the limit."""
        return self.max_time is not None and self.elapsed() + ahead >= self.max_time
