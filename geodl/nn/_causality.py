"""A direct test of causality for sequence-to-sequence models (not a group property)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

__all__ = ["CausalityReport", "check_causality"]


@dataclass(frozen=True)
class CausalityReport:
    """Result of :func:`check_causality`.

    Attributes
    ----------
    causal : bool
        No output before the perturbed time changed (to ``tol``) and no NaN appeared.
    max_past_change : float
        Largest ``|y'_t - y_t|`` over all ``t < s`` and all tried ``s``.
    min_future_change : float
        Smallest ``max_{t >= s} |y'_t - y_t|`` over tried ``s``: shows that the probe did
        reach the output (a model ignoring its input is trivially causal).
    times : tuple of int
        The perturbed times ``s``.
    """

    causal: bool
    max_past_change: float
    min_future_change: float
    times: tuple[int, ...]


@torch.no_grad()
def check_causality(
    model: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    times: list[int] | None = None,
    tol: float | None = None,
) -> CausalityReport:
    r"""Check :math:`y_t = H_t(x_1, \dots, x_t)`: changing :math:`x_s` never changes
    :math:`y_t` for :math:`t < s`.

    For each probed time ``s`` the input row ``x[s]`` is replaced by random values and the
    outputs are compared (float64 recommended).

    Parameters
    ----------
    model : callable
        Maps a sequence ``(T, F)`` to outputs ``(T, ...)``.
    x : Tensor ``(T, F)``
    times : list of int, optional
        Times to perturb (default: 1, T // 2 and T - 1).
    tol : float, optional
        Allowed change before ``s`` (default ``0``: a causal recurrence leaves the past
        bit-for-bit unchanged).

    Returns
    -------
    CausalityReport

    Examples
    --------
    >>> import torch
    >>> from geodl.nn import LSTM
    >>> check_causality(LSTM(2, 8, 1), torch.randn(10, 2)).causal
    True
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        raise ValueError(
            f"check_causality: 'x' must be one sequence of shape (T, F), got "
            f"{getattr(x, 'shape', type(x).__name__)}."
        )
    t_len = x.shape[0]
    if t_len < 2:
        raise ValueError(f"check_causality: need T >= 2 time steps, got T={t_len}.")
    times = sorted({1, t_len // 2, t_len - 1}) if times is None else list(times)
    for s in times:
        if not 0 <= s < t_len:
            raise ValueError(f"check_causality: time {s} is outside [0, {t_len}).")
    tol = 0.0 if tol is None else tol
    y = model(x)
    if y.shape[0] != t_len:
        raise ValueError(
            f"check_causality: the model must return one output per time step, (T, ...); "
            f"got shape {tuple(y.shape)} for T={t_len}. Use readout='sequence'."
        )
    past, future, finite = 0.0, float("inf"), bool(torch.isfinite(y).all())
    for s in times:
        x2 = x.clone()
        x2[s] = torch.randn_like(x2[s]) * (x.std() + 1.0)
        y2 = model(x2)
        finite = finite and bool(torch.isfinite(y2).all())
        diff = (y2 - y).abs().reshape(t_len, -1).amax(1)
        if s > 0:
            past = max(past, float(diff[:s].max()))
        future = min(future, float(diff[s:].max()))
    return CausalityReport(finite and past <= tol, past, future, tuple(times))
