r"""How a group element acts on each kind of input (the items of one unbatched input).

The element ``g`` is anything with the fields of :class:`GroupElement`: ``perm``
(rows), ``lattice`` (per-atom lattice translations), ``rotation`` / ``translation``
(coordinates), and the grid parts (``shift``, ``turns``, ``flip``). Order of the parts:
permutation, lattice translation, then :math:`x \mapsto R x + t`.

Graphs are the canonical items ``(x, edge_index, pos, edge_attr, batch)``: a node
permutation :math:`\pi` moves node features, positions and graph membership and
relabels the edges, :math:`(i, j) \mapsto (\pi^{-1}(i), \pi^{-1}(j))`; rotations act on
``pos`` and, when ``in_rep`` names their irreps, on the node features ``x`` by the
Wigner matrix :math:`D(R)` (parity included).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._wigner import irreps_matrix


def _coords(g: Any, x: Tensor) -> Tensor:
    if g.rotation is not None:
        x = x @ g.rotation.T
    if g.translation is not None:
        x = x + g.translation
    return x


def _features(g: Any, x: Tensor, in_rep: str | None) -> Tensor:
    """Rotate features of irreps ``in_rep`` on their last axis (unchanged without)."""
    if in_rep is None or g.rotation is None or x.numel() == 0:
        return x
    return x @ irreps_matrix(in_rep, g.rotation).to(x.dtype).T


def _atoms(g: Any, items: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    species, pos, rest = items[0], items[1], list(items[2:])
    if g.perm is not None:
        species, pos = species[g.perm], pos[g.perm]
    if g.lattice is not None:
        if not rest:
            raise ValueError("lattice translations need a cell: (species, positions, cell).")
        pos = pos + g.lattice.to(pos.dtype) @ rest[0]
    pos = _coords(g, pos)
    if rest and g.rotation is not None:
        rest[0] = rest[0] @ g.rotation.T
    return (species, pos, *rest)


def _graph(g: Any, items: tuple[Tensor, ...], in_rep: str | None) -> tuple[Tensor, ...]:
    x, edge_index, pos, edge_attr, batch = items
    if g.perm is not None:
        inverse = torch.argsort(g.perm)
        x, pos, batch = x[g.perm], pos[g.perm], batch[g.perm]
        edge_index = inverse[edge_index]
    if pos.numel():
        pos = _coords(g, pos)
    return (_features(g, x, in_rep), edge_index, pos, edge_attr, batch)


def _rotate_image(x: Tensor, angle: float) -> Tensor:
    """Rotate the last two axes by ``angle`` radians about the centre (bicubic, zeros
    outside): counter-clockwise in (row, column) = (y, x) like ``torch.rot90``."""
    h, w = x.shape[-2], x.shape[-1]
    lead = x.shape[:-2]
    flat = x.reshape(1, -1, h, w)
    c, s = math.cos(angle), math.sin(angle)
    # output pixel (u, v) samples input at R^-1 (u, v); rot90 turns column into -row
    theta = torch.tensor([[c, s * h / w, 0.0], [-s * w / h, c, 0.0]], dtype=x.dtype)
    grid_ = torch.nn.functional.affine_grid(theta[None], list(flat.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(flat, grid_, mode="bicubic", align_corners=False)
    return out.reshape(*lead, h, w)


def _voxels(g: Any, x: Tensor) -> Tensor:
    """A signed permutation matrix M acting on the last three axes: f'(p) = f(M^T p)."""
    M = g.rotation
    if M is None:
        return x
    nd = x.ndim
    order = list(range(nd - 3))
    flips = []
    for k in range(3):  # new axis k takes old axis i with M[k, i] = +-1
        i = int(torch.nonzero(M[k].abs() > 0.5)[0])
        order.append(nd - 3 + i)
        if float(M[k, i]) < 0:
            flips.append(nd - 3 + k)
    x = x.permute(order)
    return torch.flip(x, dims=flips) if flips else x


def grid(g: Any, x: Tensor, kind: str) -> Tensor:
    """Shift / quarter-turn / flip the grid axes of ``x`` as for inputs of ``kind``.

    Images use the last two axes, signals the last axis, sequences axis ``-2`` (time),
    so feature maps with extra leading axes are handled too.
    """
    if kind == "voxels":
        return _voxels(g, x)
    if kind == "image":
        if g.flip:
            x = torch.flip(x, dims=(-1,))
        if g.turns and (4 * g.turns) % g.order == 0:
            x = torch.rot90(x, 4 * g.turns // g.order, dims=(-2, -1))
        elif g.turns:
            x = _rotate_image(x, 2 * math.pi * g.turns / g.order)
        if g.shift is not None and any(g.shift):
            x = torch.roll(x, shifts=g.shift, dims=(-2, -1))
        return x
    if kind in ("signal", "sequence"):
        if g.shift is not None and any(g.shift):
            x = torch.roll(x, shifts=g.shift, dims=(-1,) if kind == "signal" else (-2,))
        return x
    return x


def act_on(g: Any, items: tuple[Tensor, ...], kind: str, in_rep: str | None) -> tuple[Tensor, ...]:
    """``g . x`` for the items of one input of ``kind`` (float64 / integer tensors)."""
    if kind == "atoms":
        return _atoms(g, items)
    if kind == "graph":
        return _graph(g, items, in_rep)
    x = items[0]
    if kind in ("points", "set", "irreps"):
        if g.perm is not None and (kind != "irreps" or x.ndim >= 2):
            x = x[g.perm]
        if kind == "points":
            x = _coords(g, x)
        if kind == "irreps":
            x = _features(g, x, in_rep)
        return (x,)
    return (grid(g, x, kind),)
