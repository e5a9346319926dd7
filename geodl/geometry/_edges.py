"""Edge vectors of a (periodic, batched) neighbour graph — computed in one place."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["edge_vectors"]


def edge_vectors(
    pos: Tensor, edge_index: Tensor, shifts: Tensor, cell: Tensor, batch: Tensor
) -> Tensor:
    r"""Vectors from centre to neighbour, periodic images included.

    .. math::

        \mathbf r_{ij} = \mathbf x_j - \mathbf x_i + \mathbf S_{ij} \mathbf C_{b(i)}

    with :math:`\mathbf S_{ij}` the integer image shift (a row vector) and
    :math:`\mathbf C_{b(i)}` the cell (rows are lattice vectors) of the structure that
    holds atom :math:`i`. Differentiable with respect to ``pos`` and ``cell``.

    Parameters
    ----------
    pos : Tensor
        ``(N, 3)`` positions of all atoms of all structures.
    edge_index : LongTensor
        ``(2, E)``; row 0 the centre :math:`i`, row 1 the neighbour :math:`j`.
    shifts : Tensor
        ``(E, 3)`` integer-valued image shifts.
    cell : Tensor
        ``(B, 3, 3)`` cells (zeros for non-periodic structures).
    batch : LongTensor
        ``(N,)`` structure index of each atom.

    Returns
    -------
    Tensor
        ``(E, 3)`` edge vectors in the dtype of ``pos``.

    Shapes
    ------
    ``pos (N, 3)``, ``edge_index (2, E)``, ``shifts (E, 3)``, ``cell (B, 3, 3)``,
    ``batch (N,)`` -> ``(E, 3)``.

    Symmetry
    --------
    Translation invariant; O(3) equivariant when positions and cell rows rotate
    together (:math:`\mathbf r_{ij} \to \mathbf r_{ij} Q^T`); permuting atoms permutes the
    edges with the relabelled ``edge_index``.

    Examples
    --------
    >>> import torch
    >>> pos = torch.tensor([[0.0, 0, 0], [0.5, 0, 0]])
    >>> cell = torch.eye(3).unsqueeze(0)
    >>> edge_vectors(pos, torch.tensor([[0], [1]]), torch.tensor([[-1.0, 0, 0]]), cell,
    ...              torch.zeros(2, dtype=torch.long))
    tensor([[-0.5000,  0.0000,  0.0000]])
    """
    center = edge_index[0]
    neighbor = edge_index[1]
    if cell.shape[0] == 1:  # one structure: one (E, 3) x (3, 3) product, no per-edge cells
        offsets = shifts.to(cell.dtype) @ cell[0]
    else:
        edge_cell = cell.index_select(0, batch.index_select(0, center))
        offsets = torch.bmm(shifts.to(cell.dtype).unsqueeze(1), edge_cell).squeeze(1)
    return pos.index_select(0, neighbor) - pos.index_select(0, center) + offsets.to(pos.dtype)
