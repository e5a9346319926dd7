"""The adding problem of Hochreiter & Schmidhuber (1997)."""

from __future__ import annotations

import torch

__all__ = ["adding_problem"]


def adding_problem(
    n: int, length: int = 100, seed: int | None = None, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Sequences whose target is the sum of two marked values.

    Each sequence has two channels: values :math:`u_t \sim U(0, 1)` and a marker
    :math:`m_t \in \{0, 1\}` equal to 1 at one time in the first half and one time in the
    second half. The target is :math:`y = \sum_t m_t u_t`. Always predicting the mean 1
    gives the baseline MSE :math:`\mathrm{Var}(u_1 + u_2) = 1/6 \approx 0.167`.

    Parameters
    ----------
    n : int
        Number of sequences.
    length : int
        Sequence length :math:`T` (>= 2; default 100).
    seed : int, optional
        Seed of a private generator (ignored when ``generator`` is given).
    generator : torch.Generator, optional

    Returns
    -------
    x : Tensor ``(n, T, 2)`` float32
    y : Tensor ``(n,)`` float32

    Examples
    --------
    >>> x, y = adding_problem(4, length=10, seed=0)
    >>> bool(torch.allclose((x[..., 0] * x[..., 1]).sum(1), y))
    True
    """
    if n < 1 or length < 2:
        raise ValueError(
            f"adding_problem: need n >= 1 and length >= 2, got n={n}, length={length}."
        )
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
    values = torch.rand(n, length, generator=generator)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=generator)
    second = torch.randint(half, length, (n,), generator=generator)
    marker = torch.zeros(n, length)
    rows = torch.arange(n)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    x = torch.stack([values, marker], dim=-1)
    y = (values * marker).sum(1)
    return x, y
