r"""Neighbour graphs of batched point clouds, without pyg-lib / torch-cluster.

Two constructions, selected by name through :data:`NEIGHBORHOODS`:

* ``"knn"`` — the :math:`k` nearest other points of each point, in plain torch: the
  clouds are padded to a dense ``(B, n_max, 3)`` block, distances by ``torch.cdist`` and
  ``topk`` (no Python loop over points or clouds);
* ``"radius"`` — all other points within a cutoff, by vesin (one call for the whole
  batch: the clouds are moved apart so that no pair of different clouds is in range).

Both are determined by distances only, so the set of edges is invariant under rotations,
reflections and translations and equivariant under permutations of the points (for
``"knn"`` up to exact ties in distance).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

__all__ = ["NEIGHBORHOODS", "knn_edges", "radius_edges", "neighbor_edges"]


def _check(owner: str, pos: Tensor, batch: Tensor | None) -> Tensor:
    if not isinstance(pos, Tensor) or pos.dim() != 2 or pos.shape[1] != 3:
        shape = tuple(pos.shape) if isinstance(pos, Tensor) else type(pos).__name__
        raise ValueError(f"{owner}: 'pos' must be a tensor of shape (N, 3), got {shape}.")
    if batch is None:
        return torch.zeros(pos.shape[0], dtype=torch.long, device=pos.device)
    if batch.shape != (pos.shape[0],) or batch.dtype != torch.long:
        raise ValueError(
            f"{owner}: 'batch' must be a LongTensor of shape ({pos.shape[0]},), got dtype "
            f"{batch.dtype} and shape {tuple(batch.shape)}."
        )
    return batch


def knn_edges(pos: Tensor, k: int, batch: Tensor | None = None) -> Tensor:
    r"""Directed edges from every point to its ``k`` nearest other points in its cloud.

    .. math::
        \mathcal N_i = \operatorname{arg\,top}_k^{\,j \ne i,\ b(j) = b(i)}
        \big(-\lVert x_j - x_i \rVert\big)

    Clouds with fewer than ``k + 1`` points connect every pair.

    Parameters
    ----------
    pos : Tensor
        ``(N, 3)`` positions of all clouds.
    k : int
        Number of neighbours, ``>= 1``.
    batch : Tensor, optional
        ``(N,)`` cloud index of each point, sorted (as PyTorch Geometric makes it).

    Returns
    -------
    LongTensor
        ``edge_index`` ``(2, E)``: row 0 the centre :math:`i`, row 1 the neighbour
        :math:`j`.

    Shapes
    ------
    ``(N, 3)`` -> ``(2, E)`` with ``E <= N k``.

    Examples
    --------
    >>> pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [3.0, 0, 0]])
    >>> knn_edges(pos, k=1).tolist()
    [[0, 1, 2], [1, 0, 1]]
    """
    from torch_geometric.utils import to_dense_batch

    batch = _check("knn_edges", pos, batch)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"knn_edges: 'k' must be a positive integer, got {k!r}.")
    if pos.shape[0] == 0:
        return torch.zeros(2, 0, dtype=torch.long, device=pos.device)
    if bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("knn_edges: 'batch' must be sorted (points of each cloud contiguous).")
    with torch.no_grad():
        dense, mask = to_dense_batch(pos.detach(), batch)  # (B, n_max, 3), (B, n_max)
        b, n_max, _ = dense.shape
        dist = torch.cdist(dense, dense)
        invalid = ~(mask[:, :, None] & mask[:, None, :])
        invalid |= torch.eye(n_max, dtype=torch.bool, device=pos.device)[None]
        dist = dist.masked_fill(invalid, float("inf"))
        kk = min(k, max(n_max - 1, 1))
        d, nbr = dist.topk(kk, dim=-1, largest=False)  # (B, n_max, kk)
        offset = torch.cumsum(mask.sum(1), 0) - mask.sum(1)  # first flat index of each cloud
        centre = (offset[:, None] + torch.arange(n_max, device=pos.device)[None]).expand(b, n_max)
        centre = centre[:, :, None].expand(b, n_max, kk)
        neighbour = offset[:, None, None] + nbr
        keep = torch.isfinite(d) & mask[:, :, None]
        return torch.stack([centre[keep], neighbour[keep]])


def radius_edges(pos: Tensor, r_cut: float, batch: Tensor | None = None) -> Tensor:
    r"""Directed edges between distinct points of the same cloud closer than ``r_cut``.

    .. math::
        \mathcal N_i = \{\, j \ne i : b(j) = b(i),\ \lVert x_j - x_i \rVert < r_c \,\}

    Computed by vesin in one call: cloud :math:`b` is translated by :math:`b L` along
    :math:`x` with :math:`L` larger than every cloud's extent plus ``r_cut``.

    Returns
    -------
    LongTensor
        ``edge_index`` ``(2, E)`` [centre; neighbour].

    Shapes
    ------
    ``(N, 3)`` -> ``(2, E)``.

    Examples
    --------
    >>> pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [3.0, 0, 0]])
    >>> radius_edges(pos, r_cut=1.5).tolist()
    [[0, 1], [1, 0]]
    """
    from vesin import NeighborList

    batch = _check("radius_edges", pos, batch)
    if not isinstance(r_cut, (int, float)) or isinstance(r_cut, bool) or r_cut <= 0:
        raise ValueError(f"radius_edges: 'r_cut' must be a positive number, got {r_cut!r}.")
    if pos.shape[0] == 0:
        return torch.zeros(2, 0, dtype=torch.long, device=pos.device)
    p = pos.detach().to("cpu", torch.float64)
    b = batch.cpu()
    p = p - p.min(0).values  # every cloud now lies in [0, extent]^3
    length = float(p.max()) + 2.0 * float(r_cut) + 1.0
    p[:, 0] += b.to(torch.float64) * length  # p is a fresh tensor: shift it in place
    calc = NeighborList(cutoff=float(r_cut), full_list=True, sorted=True)
    i, j = calc.compute(points=p.numpy(), box=np.zeros((3, 3)), periodic=False, quantities="ij")
    return torch.from_numpy(np.stack([i, j]).astype(np.int64)).to(pos.device)


#: name -> ``edges(pos, parameter, batch) -> edge_index``; the parameter is ``k`` for
#: ``"knn"`` and the cutoff radius for ``"radius"``.
NEIGHBORHOODS: dict[str, Callable[..., Tensor]] = {"knn": knn_edges, "radius": radius_edges}


def neighbor_edges(pos: Tensor, kind: str, parameter: float, batch: Tensor | None = None) -> Tensor:
    """Edges of the neighbourhood ``kind`` (``"knn"`` with ``k = parameter``, or
    ``"radius"`` with ``r_cut = parameter``); see :data:`NEIGHBORHOODS`.

    Raises
    ------
    ValueError
        If ``kind`` is unknown; the message lists the valid kinds.

    Examples
    --------
    >>> neighbor_edges(torch.zeros(1, 3), "knn", 4).shape
    torch.Size([2, 0])
    """
    if kind not in NEIGHBORHOODS:
        raise ValueError(
            f"neighbor_edges: unknown neighbourhood {kind!r}. Valid: {', '.join(NEIGHBORHOODS)}."
        )
    if kind == "knn":
        return knn_edges(pos, int(parameter), batch)
    return radius_edges(pos, float(parameter), batch)
