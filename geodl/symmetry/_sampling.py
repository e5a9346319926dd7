"""Random draws the group samplers share: Haar orthogonal matrices, permutations, and
rotations about an axis."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

_F64 = torch.float64


def haar_orthogonal(
    n: int, d: int, generator: torch.Generator | None = None, proper: bool = True
) -> Tensor:
    """``n`` Haar-random ``d x d`` orthogonal matrices (float64).

    QR decomposition of a Gaussian matrix with the sign fix ``Q <- Q diag(sign(diag(R)))``
    gives Haar measure on O(d) (Mezzadri 2007). With ``proper=True`` the first column of
    matrices with ``det = -1`` is negated, which maps the Haar measure of O(d) onto that
    of SO(d); with ``proper=False`` every matrix is an improper one (``det = -1``).

    Shapes
    ------
    output: ``(n, d, d)``
    """
    a = torch.randn(n, d, d, generator=generator, dtype=_F64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    det = torch.linalg.det(q)
    want = 1.0 if proper else -1.0
    fix = torch.ones(n, d, dtype=_F64)
    fix[:, 0] = torch.where(det * want < 0, -1.0, 1.0)
    return q * fix.unsqueeze(-2)


def rand_perm(n: int, generator: torch.Generator | None, species: Tensor | None) -> Tensor:
    """A random permutation of ``range(n)`` that is not the identity (when ``n > 1``);
    with ``species``, only rows of equal species are exchanged."""
    if species is None:
        for _ in range(8):
            p = torch.randperm(n, generator=generator)
            if n < 2 or not torch.equal(p, torch.arange(n)):
                return p
        return p
    # random permutation within each species: sort by (species, random key)
    species = species.to(torch.long)
    grouped = torch.argsort(species, stable=True)
    for _ in range(8):
        keys = species.to(_F64) * 2.0 + torch.rand(n, generator=generator, dtype=_F64)
        shuffled = torch.argsort(keys)
        p = torch.empty(n, dtype=torch.long)
        p[grouped] = shuffled
        if not torch.equal(p, torch.arange(n)):
            break
    return p


def rotation_about(axis: Sequence[float], angle: float) -> Tensor:
    """Rotation matrix (float64) by ``angle`` radians about ``axis`` (Rodrigues)."""
    a = torch.as_tensor(axis, dtype=_F64)
    a = a / a.norm()
    k = torch.tensor([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]], dtype=_F64)
    return torch.eye(3, dtype=_F64) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k
