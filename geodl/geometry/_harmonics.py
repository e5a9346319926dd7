"""Spherical-harmonic edge features (e3nn's real spherical harmonics of unit vectors)."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["EdgeHarmonics", "spherical_harmonics_irreps"]

#: largest degree of :class:`EdgeHarmonics` (the ``l_max`` options of the models).
MAX_DEGREE = 3


def spherical_harmonics_irreps(l_max: int) -> str:
    """The e3nn irreps string of the spherical harmonics :math:`l = 0 \\dots l_{max}` of a
    polar vector (parity :math:`(-1)^l`).

    Examples
    --------
    >>> spherical_harmonics_irreps(2)
    '1x0e + 1x1o + 1x2e'
    """
    if isinstance(l_max, bool) or not isinstance(l_max, int) or not 0 <= l_max <= MAX_DEGREE:
        raise ValueError(
            f"spherical_harmonics_irreps: 'l_max' must be an integer in 0..{MAX_DEGREE}, "
            f"got {l_max!r}."
        )
    return " + ".join(f"1x{l}{'e' if l % 2 == 0 else 'o'}" for l in range(l_max + 1))


class EdgeHarmonics(nn.Module):
    r"""Real spherical harmonics :math:`Y^l_m(\hat{\mathbf r})` of unit edge vectors,
    :math:`l = 0 \dots l_{max}`, in e3nn's basis and ``"component"`` normalisation.

    .. math::

        \mathbf Y(\mathbf r) = \bigoplus_{l=0}^{l_{max}} Y^l(\mathbf r / |\mathbf r|),
        \qquad \|Y^l\|^2 = 2l + 1

    Parameters
    ----------
    l_max : int
        Largest degree (0..3).

    Shapes
    ------
    ``edge_vec (E, 3)`` (non-zero) -> ``(E, (l_max + 1)^2)``.

    Symmetry
    --------
    O(3) equivariant: :math:`\mathbf Y(\mathbf r Q^T) = D(Q)\, \mathbf Y(\mathbf r)` with
    :math:`D` the representation of :attr:`irreps` (parity :math:`(-1)^l`); translation
    invariant when built from relative vectors.

    Examples
    --------
    >>> import torch
    >>> sh = EdgeHarmonics(2)
    >>> y = sh(torch.tensor([[0.0, 0.0, 2.0]]))
    >>> y.shape, sh.irreps
    (torch.Size([1, 9]), '1x0e + 1x1o + 1x2e')
    >>> float(y[0, 0])
    1.0
    """

    def __init__(self, l_max: int) -> None:
        super().__init__()
        from e3nn import o3

        self.irreps = spherical_harmonics_irreps(l_max)
        self.l_max = int(l_max)
        self.sh = o3.SphericalHarmonics(
            list(range(self.l_max + 1)), normalize=True, normalization="component"
        )

    def forward(self, edge_vec: Tensor) -> Tensor:
        return self.sh(edge_vec)

    def extra_repr(self) -> str:
        return f"l_max={self.l_max}, irreps={self.irreps!r}"
