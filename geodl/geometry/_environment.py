"""Environment matrix rows :math:`\\tilde R_{ij}` of DeepPot-SE."""

from __future__ import annotations

import torch
from torch import Tensor

from geodl.geometry._switching import smooth_switch


def environment_matrix(edge_vec: Tensor, r_smooth: float, r_cut: float) -> tuple[Tensor, Tensor]:
    r"""Radial weights :math:`s(r_{ij})` and environment rows of every edge.

    .. math::

        \tilde R_{ij} = s(r_{ij}) \left(1, \frac{x_{ij}}{r_{ij}}, \frac{y_{ij}}{r_{ij}},
        \frac{z_{ij}}{r_{ij}}\right)

    with :math:`s` the switching function :func:`smooth_switch`. Column 0 is invariant;
    columns 1-3 rotate as a vector, so :math:`\tilde R_{ij} \,\mathrm{diag}(1, Q^T)` is the
    row of the rotated structure.

    Parameters
    ----------
    edge_vec : Tensor
        ``(E, 3)`` vectors :math:`\mathbf r_{ij}` from centre to neighbour (nonzero).
    r_smooth, r_cut : float
        Switching interval of :func:`smooth_switch`.

    Returns
    -------
    s : Tensor
        ``(E,)`` radial weights.
    env : Tensor
        ``(E, 4)`` environment rows.

    Shapes
    ------
    ``edge_vec (E, 3)`` -> ``s (E,)``, ``env (E, 4)``.

    Symmetry
    --------
    ``s`` is E(3) invariant; ``env[:, 1:]`` is O(3) equivariant (a vector), translation
    invariant.

    Examples
    --------
    >>> import torch
    >>> s, env = environment_matrix(torch.tensor([[2.0, 0.0, 0.0]]), 0.5, 5.0)
    >>> env.shape
    torch.Size([1, 4])
    """
    r = torch.linalg.vector_norm(edge_vec, dim=-1)
    s = smooth_switch(r, r_smooth, r_cut)
    # r = 0 (coincident points; rejected upstream by EnergyModel) gives a zero row
    # direction instead of NaN.
    safe_r = torch.where(r > 0, r, torch.ones_like(r))
    env = torch.cat([s.unsqueeze(-1), edge_vec * (s / safe_r).unsqueeze(-1)], dim=-1)
    return s, env
