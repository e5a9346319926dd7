r"""The 3-D tetris toy of Tensor Field Networks (Thomas et al. 2018) and e3nn.

Eight shapes of four unit cubes' centres. Two of them, ``"chiral_1"`` and
``"chiral_2"``, are mirror images of each other (a reflection maps one onto the other;
no rotation does): a model invariant under :math:`O(3)` (rotations *and* reflections)
necessarily gives them the same output, a model invariant under :math:`SO(3)` only can
tell them apart.
"""

from __future__ import annotations

import torch
from torch import Tensor

from geodl.pointcloud._transforms import random_rotations

__all__ = ["TETRIS_SHAPES", "tetris", "tetris_dataset"]

#: name -> the four points of the shape (in e3nn's order; the first two are chiral).
TETRIS_SHAPES: dict[str, list[tuple[int, int, int]]] = {
    "chiral_1": [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, 1, 0)],
    "chiral_2": [(0, 0, 0), (0, 0, 1), (1, 0, 0), (1, -1, 0)],
    "square": [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0)],
    "line": [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 0, 3)],
    "corner": [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0)],
    "L": [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 0)],
    "T": [(0, 0, 0), (0, 0, 1), (0, 0, 2), (0, 1, 1)],
    "zigzag": [(0, 0, 0), (1, 0, 0), (1, 1, 0), (2, 1, 0)],
}


def tetris(dtype: torch.dtype | None = None) -> tuple[Tensor, Tensor]:
    """The eight shapes in their reference orientation.

    Returns
    -------
    (Tensor, Tensor)
        Positions ``(8, 4, 3)`` and labels ``(8,)`` (``0..7``, the order of
        :data:`TETRIS_SHAPES`).

    Examples
    --------
    >>> pos, y = tetris()
    >>> pos.shape, y.tolist()
    (torch.Size([8, 4, 3]), [0, 1, 2, 3, 4, 5, 6, 7])
    """
    pos = torch.tensor(list(TETRIS_SHAPES.values()), dtype=dtype or torch.get_default_dtype())
    return pos, torch.arange(len(TETRIS_SHAPES))


def tetris_dataset(
    copies: int = 1,
    orientation: str = "none",
    seed: int = 0,
    translate: float = 0.0,
    dtype: torch.dtype | None = None,
) -> list:
    r"""``copies`` randomly oriented copies of each tetris shape, as PyG ``Data``.

    Parameters
    ----------
    copies : int
        Copies of each of the 8 shapes.
    orientation : str
        ``"none"`` (reference orientation: the training set of the benchmark), ``"z"``,
        ``"SO3"`` or ``"O3"`` (see :data:`geodl.pointcloud.ORIENTATIONS`).
    seed : int
        Seed of the rotations, translations and point orders.
    translate : float
        Standard deviation of a random translation of each copy.
    dtype : torch.dtype, optional
        Dtype of the positions.

    Returns
    -------
    list of torch_geometric.data.Data
        ``pos`` ``(4, 3)`` (points in random order), ``y`` ``(1,)``.

    Examples
    --------
    >>> data = tetris_dataset(copies=3, orientation="SO3")
    >>> len(data), data[0].pos.shape
    (24, torch.Size([4, 3]))
    """
    from torch_geometric.data import Data

    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValueError(f"tetris_dataset: 'copies' must be a positive integer, got {copies!r}.")
    pos, labels = tetris(torch.float64)
    g = torch.Generator().manual_seed(int(seed))
    rot = random_rotations(copies * 8, orientation, g, torch.float64).reshape(copies, 8, 3, 3)
    out = []
    for c in range(copies):
        shifted = translate * torch.randn(8, 1, 3, generator=g, dtype=torch.float64)
        moved = torch.einsum("sij,snj->sni", rot[c], pos) + shifted
        for s in range(8):
            perm = torch.randperm(4, generator=g) if orientation != "none" else torch.arange(4)
            out.append(
                Data(
                    pos=moved[s][perm].to(dtype or torch.get_default_dtype()),
                    y=labels[s : s + 1].clone(),
                    num_nodes=4,
                )
            )
    return out
