"""Radial edge features of message-passing potentials: a Bessel basis and a polynomial
envelope that takes energies and forces smoothly to zero at the cutoff."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["BesselBasis", "PolynomialEnvelope", "polynomial_envelope"]


def polynomial_envelope(r: Tensor, r_cut: float, p: int = 6) -> Tensor:
    r"""Smooth cutoff envelope of DimeNet/NequIP, :math:`u(r)`.

    .. math::

        u(x) = 1 - \frac{(p+1)(p+2)}{2} x^p + p(p+2)\, x^{p+1}
               - \frac{p(p+1)}{2} x^{p+2}, \qquad x = r / r_c,

    and :math:`u = 0` for :math:`r \ge r_c`. :math:`u(0) = 1` and :math:`u`, :math:`u'`,
    :math:`u''` vanish at :math:`r_c`, so a model whose radial weights carry the factor
    :math:`u` has energies, forces and their first derivatives continuous as a
    neighbour crosses the cutoff.

    Parameters
    ----------
    r : Tensor
        Distances (Å), any shape.
    r_cut : float
        Cutoff :math:`r_c` (Å), positive.
    p : int
        Exponent (>= 2): the envelope is flat near 0 up to order :math:`p - 1`.

    Returns
    -------
    Tensor
        :math:`u(r)`, same shape and dtype as ``r``.

    Shapes
    ------
    ``r (*)`` -> ``(*)``.

    Symmetry
    --------
    A function of distances only: E(3) invariant.

    Examples
    --------
    >>> import torch
    >>> polynomial_envelope(torch.tensor([0.0, 5.0, 6.0]), r_cut=5.0)
    tensor([1., 0., 0.])
    """
    if not (r_cut > 0 and math.isfinite(r_cut)):
        raise ValueError(f"polynomial_envelope: 'r_cut' must be a positive number, got {r_cut}.")
    if int(p) < 2:
        raise ValueError(f"polynomial_envelope: 'p' must be an integer >= 2, got {p}.")
    return _envelope(r, float(r_cut), int(p))


def _envelope(r: Tensor, r_cut: float, p: int) -> Tensor:
    x = (r / r_cut).clamp(0.0, 1.0)
    xp = x.pow(p)
    u = 1.0 - 0.5 * (p + 1) * (p + 2) * xp + p * (p + 2) * xp * x - 0.5 * p * (p + 1) * xp * x * x
    return torch.where(r < r_cut, u, torch.zeros_like(u))


class PolynomialEnvelope(nn.Module):
    r"""Module form of :func:`polynomial_envelope` (TorchScript-able).

    .. math::

        u(x) = 1 - \tfrac{(p+1)(p+2)}{2} x^p + p(p+2) x^{p+1} - \tfrac{p(p+1)}{2} x^{p+2}

    Parameters
    ----------
    r_cut : float
        Cutoff (Å).
    p : int
        Exponent (>= 2).

    Shapes
    ------
    ``r (*)`` -> ``(*)``.

    Symmetry
    --------
    E(3) invariant (distances only).

    Examples
    --------
    >>> import torch
    >>> env = PolynomialEnvelope(4.0, p=6)
    >>> float(env(torch.tensor(2.0)))  # 1 - 28/2^6 + 48/2^7 - 21/2^8
    0.85546875
    """

    def __init__(self, r_cut: float, p: int = 6) -> None:
        super().__init__()
        polynomial_envelope(torch.zeros(1), r_cut, p)  # validates
        self.r_cut = float(r_cut)
        self.p = int(p)

    def forward(self, r: Tensor) -> Tensor:
        return _envelope(r, self.r_cut, self.p)

    def extra_repr(self) -> str:
        return f"r_cut={self.r_cut}, p={self.p}"


class BesselBasis(nn.Module):
    r"""Radial Bessel basis of DimeNet/NequIP with learnable frequencies.

    .. math::

        B_n(r) = \sqrt{\frac{2}{r_c}}\; \frac{\sin(\omega_n r / r_c)}{r},
        \qquad \omega_n = n\pi \ (\text{initial}),\ n = 1 \dots K

    The :math:`\sin(\omega_n r/r_c)/r` are the zeroth-order spherical Bessel functions
    whose nodes sit at :math:`r_c`; the frequencies :math:`\omega_n` are trained
    (``trainable=True``). Multiply by an envelope (:class:`PolynomialEnvelope`) for
    smoothness at :math:`r_c`.

    Parameters
    ----------
    r_cut : float
        Cutoff :math:`r_c` (Å).
    num_basis : int
        :math:`K`, number of functions (>= 1).
    trainable : bool
        Learn the frequencies.

    Shapes
    ------
    ``r (E,)`` (strictly positive) -> ``(E, K)``.

    Symmetry
    --------
    E(3) invariant (distances only).

    Examples
    --------
    >>> import torch
    >>> BesselBasis(5.0, 8)(torch.tensor([1.0, 2.0])).shape
    torch.Size([2, 8])
    """

    def __init__(self, r_cut: float, num_basis: int = 8, trainable: bool = True) -> None:
        super().__init__()
        if not (r_cut > 0 and math.isfinite(r_cut)):
            raise ValueError(f"BesselBasis: 'r_cut' must be a positive number, got {r_cut}.")
        if int(num_basis) < 1:
            raise ValueError(f"BesselBasis: 'num_basis' must be >= 1, got {num_basis}.")
        self.r_cut = float(r_cut)
        freq = math.pi * torch.arange(1, int(num_basis) + 1, dtype=torch.get_default_dtype())
        if trainable:
            self.frequencies = nn.Parameter(freq)
        else:
            self.register_buffer("frequencies", freq)
        self.prefactor = math.sqrt(2.0 / self.r_cut)

    @property
    def num_basis(self) -> int:
        return int(self.frequencies.shape[0])

    def forward(self, r: Tensor) -> Tensor:
        r = r.unsqueeze(-1)
        return self.prefactor * torch.sin(self.frequencies * (r / self.r_cut)) / r

    def extra_repr(self) -> str:
        return f"r_cut={self.r_cut}, num_basis={self.num_basis}"
