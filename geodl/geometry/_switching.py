"""Smooth switching function of DeepPot-SE, :math:`s(r)`."""

from __future__ import annotations

import torch
from torch import Tensor


def smooth_switch(r: Tensor, r_smooth: float, r_cut: float) -> Tensor:
    r"""DeepPot-SE radial weight :math:`s(r)`, twice continuously differentiable.

    .. math::

        s(r) = \begin{cases}
            \dfrac{1}{r} & r < r_s \\[4pt]
            \dfrac{1}{r}\left[u^3(-6u^2 + 15u - 10) + 1\right],
            \quad u = \dfrac{r - r_s}{r_c - r_s} & r_s \le r < r_c \\[4pt]
            0 & r \ge r_c
        \end{cases}

    The polynomial factor goes from 1 to 0 with vanishing first and second derivatives at
    both ends, so :math:`s`, :math:`s'` and :math:`s''` are continuous everywhere on
    :math:`r > 0`: energies and forces stay continuous as a neighbour crosses
    :math:`r_c`.

    Parameters
    ----------
    r : Tensor
        Distances, any shape, strictly positive.
    r_smooth : float
        :math:`r_s`, where the switching starts (``0 <= r_smooth < r_cut``).
    r_cut : float
        :math:`r_c`, the cutoff radius.

    Returns
    -------
    Tensor
        :math:`s(r)`, same shape and dtype as ``r``.

    Shapes
    ------
    ``r``: ``(*)`` -> ``(*)``.

    Symmetry
    --------
    A function of distances only: invariant under E(3) acting on the positions.

    Examples
    --------
    >>> import torch
    >>> smooth_switch(torch.tensor([1.0, 6.0]), r_smooth=4.0, r_cut=5.0)
    tensor([1., 0.])
    """
    if not 0.0 <= r_smooth < r_cut:
        raise ValueError(
            f"smooth_switch: expected 0 <= r_smooth < r_cut, got r_smooth={r_smooth}, "
            f"r_cut={r_cut}; choose r_smooth below the cutoff (e.g. r_cut - 0.5)."
        )
    u = ((r - r_smooth) / (r_cut - r_smooth)).clamp(0.0, 1.0)
    poly = u * u * u * (-6.0 * u * u + 15.0 * u - 10.0) + 1.0
    # The polynomial is exactly 0 at u = 1, so beyond r_cut the weight vanishes; the
    # ``where`` keeps gradients finite for padded/zero distances.
    inv_r = 1.0 / torch.where(r > 0, r, torch.ones_like(r))
    return torch.where(r < r_cut, inv_r * poly, torch.zeros_like(r))
