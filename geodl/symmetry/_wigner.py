r"""Wigner matrices of e3nn irreps strings, accurate to float64 round-off (parity
included), built from ``e3nn.o3.spherical_harmonics`` only (present in every e3nn
version from 0.4 on)."""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor


@functools.lru_cache(maxsize=64)
def irreps(text: str) -> Any:  # e3nn.o3.Irreps (e3nn is imported lazily)
    from e3nn import o3

    return o3.Irreps(text)


def looks_like_irreps(text: str) -> bool:
    """Whether ``text`` reads like an e3nn irreps string (``"2x0e + 1x1o"``)."""
    t = text.replace(" ", "")
    return bool(t) and t[-1] in "eo" and any(c.isdigit() for c in t)


def irreps_dim(text: str) -> int:
    """The dimension of an irreps string."""
    return int(irreps(text).dim)


_PROBES: dict[int, Tensor] = {}


def _probe_points(l: int) -> Tensor:
    if l not in _PROBES:
        gen = torch.Generator().manual_seed(1234 + l)
        _PROBES[l] = torch.randn(4 * l + 8, 3, generator=gen, dtype=torch.float64)
    return _PROBES[l]


def irreps_matrix(irreps: str, R: Tensor) -> Tensor:
    r"""Matrix :math:`D(R)` of an e3nn irreps string, accurate to float64 round-off.

    Equal to ``e3nn.o3.Irreps(irreps).D_from_matrix(R)`` (same basis: the one in which
    ``e3nn.o3.spherical_harmonics`` is equivariant; parity :math:`p^{[\det R < 0]}` for
    improper :math:`R`), but each block is solved from :math:`Y_l(R x) = D_l(R) Y_l(x)`
    on probe points in float64, because e3nn's Wigner matrices carry float32 constants
    (errors ~1e-7 that would look like a float64 symmetry break).

    Shapes
    ------
    R: ``(3, 3)``; output: ``(dim, dim)``.
    """
    from e3nn import o3

    ir = _irreps_of(irreps)
    R = R.to(torch.float64)
    det = float(torch.linalg.det(R))
    proper = R * (1.0 if det > 0 else -1.0)
    blocks = []
    cache: dict[int, Tensor] = {}
    for mul, (l, p) in ir:
        if l not in cache:
            x = _probe_points(l)
            y0 = o3.spherical_harmonics(l, x, normalize=True, normalization="component")
            y1 = o3.spherical_harmonics(l, x @ proper.T, normalize=True, normalization="component")
            cache[l] = torch.linalg.lstsq(y0, y1).solution.T
        sign = float(p) if det < 0 else 1.0
        blocks += [sign * cache[l]] * mul
    if not blocks:
        return torch.zeros(0, 0, dtype=torch.float64)
    return torch.block_diag(*blocks)


def _irreps_of(text: str) -> Any:
    return irreps(text)
