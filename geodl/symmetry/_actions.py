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


def grid(g: Any, x: Tensor, kind: str) -> Tensor:
    """Shift / quarter-turn / flip the grid axes of ``x`` as for inputs of ``kind``.

    Images use the last two axes, signals the last axis, sequences axis ``-2`` (time),
    so feature maps with extra leading axes are handled too.
    """
    if kind == "image":
        if g.flip:
            x = torch.flip(x, dims=(-1,))
        if g.turns:
            x = torch.rot90(x, g.turns, dims=(-2, -1))
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
