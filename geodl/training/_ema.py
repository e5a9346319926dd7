r"""Exponential moving average of a model's parameters.

.. math::

    \bar\theta_n = d_n\,\bar\theta_{n-1} + (1 - d_n)\,\theta_n,\qquad
    d_n = \min\!\Big(d,\ \frac{1 + n}{10 + n}\Big)

(the warm-up of :math:`d_n` keeps the first averages close to the current weights).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import Tensor

__all__ = ["EMA"]


class EMA:
    r"""Shadow copies :math:`\bar\theta` of ``params``, updated after each optimiser step.

    Parameters
    ----------
    params : iterable of Tensor
        The trained parameters (kept by reference).
    decay : float
        :math:`d \in [0, 1)`.

    Shapes
    ------
    One shadow tensor per parameter, same shape, dtype and device.

    Symmetry
    --------
    An average of weights: it commutes with any linear action on the weights, so a model
    whose architecture is equivariant stays equivariant with EMA weights.

    Examples
    --------
    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> ema = EMA([w], decay=0.5)
    >>> with torch.no_grad():
    ...     _ = w.fill_(1.0)
    >>> ema.update(step=1)
    >>> ema.shadow[0]
    tensor([0.8182, 0.8182])
    >>> with ema.swapped():
    ...     w.tolist()
    [0.8181818127632141, 0.8181818127632141]
    >>> w.tolist()
    [1.0, 1.0]
    """

    def __init__(self, params: Iterable[Tensor], decay: float) -> None:
        if not 0.0 <= float(decay) < 1.0:
            raise ValueError(f"EMA: 'decay' must be in [0, 1), got {decay!r}.")
        self.params = list(params)
        self.decay = float(decay)
        self.shadow = [p.detach().clone() for p in self.params]

    def __repr__(self) -> str:
        return f"EMA(decay={self.decay}, tensors={len(self.shadow)})"

    def decay_at(self, step: int) -> float:
        """:math:`d_n` after optimiser step ``step`` (1 for the first step)."""
        return min(self.decay, (1.0 + step) / (10.0 + step))

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the averages towards the current parameters (call after each step)."""
        weight = 1.0 - self.decay_at(step)
        torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], weight)

    @contextmanager
    def swapped(self) -> Iterator[None]:
        """Inside the block the parameters hold the averages; restored on exit."""
        with torch.no_grad():
            saved = [p.detach().clone() for p in self.params]
            for p, e in zip(self.params, self.shadow, strict=True):
                p.copy_(e)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, s in zip(self.params, saved, strict=True):
                    p.copy_(s)

    def state_dict(self) -> list[Tensor]:
        """The averages on the CPU (what a checkpoint stores)."""
        return [e.detach().cpu() for e in self.shadow]

    @torch.no_grad()
    def load_state_dict(self, state: list[Tensor]) -> None:
        """Restore averages written by :meth:`state_dict`."""
        if len(state) != len(self.shadow):
            raise ValueError(
                f"EMA: the stored averages have {len(state)} tensors, the model "
                f"{len(self.shadow)}; the checkpoint belongs to another model."
            )
        for e, v in zip(self.shadow, state, strict=True):
            e.copy_(v)
