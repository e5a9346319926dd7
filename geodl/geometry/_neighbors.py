"""Neighbour lists through vesin (C++, periodic cells of any size, no Python loops)."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Literal, overload

import numpy as np
import torch
from torch import Tensor

from geodl.geometry._validation import check_cell, check_positions, complete_cell, normalise_pbc


@overload
def neighbor_list(
    positions: Tensor,
    cutoff: float,
    cell: Tensor | None = ...,
    pbc: bool | Sequence[bool] | Tensor = ...,
    with_min_distance: Literal[False] = ...,
) -> tuple[Tensor, Tensor]: ...


@overload
def neighbor_list(
    positions: Tensor,
    cutoff: float,
    cell: Tensor | None,
    pbc: bool | Sequence[bool] | Tensor,
    with_min_distance: Literal[True],
) -> tuple[Tensor, Tensor, float]: ...


def neighbor_list(
    positions: Tensor,
    cutoff: float,
    cell: Tensor | None = None,
    pbc: bool | Sequence[bool] | Tensor = (False, False, False),
    with_min_distance: bool = False,
) -> tuple[Tensor, Tensor] | tuple[Tensor, Tensor, float]:
    r"""Full neighbour list within ``cutoff``, periodic images included.

    Every pair is listed in both directions. The edge vector from centre :math:`i` to
    neighbour :math:`j` is

    .. math::

        \mathbf r_{ij} = \mathbf x_j - \mathbf x_i + \mathbf S_{ij} \mathbf C,

    with :math:`\mathbf S_{ij}` the integer shift (a row vector) and :math:`\mathbf C`
    the cell (rows are lattice vectors). Cells smaller than ``2 * cutoff`` are fine:
    several images of the same atom (and of the atom itself) are listed. Computed by
    `vesin <https://github.com/Luthaf/vesin>`_ in C++.

    Parameters
    ----------
    positions : Tensor
        Cartesian positions, ``(N, 3)``. Not differentiated through: compute the edge
        vectors from ``positions`` afterwards to get gradients.
    cutoff : float
        Cutoff radius (same unit as positions), ``> 0``.
    cell : Tensor, optional
        ``(3, 3)``, rows are the lattice vectors. Required when any ``pbc`` is True.
    pbc : bool or three bools
        Periodicity along each lattice vector.
    with_min_distance : bool
        Also return the shortest pair distance (``inf`` without pairs) at no extra cost.

    Returns
    -------
    edge_index : LongTensor
        ``(2, E)``: row 0 the centre :math:`i`, row 1 the neighbour :math:`j`; sorted by
        centre.
    shifts : Tensor
        ``(E, 3)``, integer-valued, dtype of ``positions``.
    min_distance : float
        (only with ``with_min_distance``)

    Shapes
    ------
    ``positions (N, 3)`` -> ``edge_index (2, E)``, ``shifts (E, 3)``.

    Symmetry
    --------
    The set of pairs is invariant under rotations, reflections and translations of the
    positions (and cell) and equivariant under permutations of the atoms.

    Examples
    --------
    >>> import torch
    >>> pos = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    >>> edge_index, shifts = neighbor_list(pos, cutoff=1.5)
    >>> edge_index.tolist()
    [[0, 1], [1, 0]]
    """
    check_positions(positions)
    if not (isinstance(cutoff, (int, float)) and cutoff > 0):
        raise ValueError(f"neighbor_list: 'cutoff' must be a positive number, got {cutoff!r}.")
    pbc_t = normalise_pbc(pbc)
    cell_np = _cell_array(cell, pbc_t)
    pos_np = positions.detach().to("cpu", torch.float64).numpy()
    if len(pos_np) == 0:
        empty = torch.zeros(2, 0, dtype=torch.long, device=positions.device)
        if with_min_distance:
            return empty, positions.new_zeros(0, 3), float("inf")
        return empty, positions.new_zeros(0, 3)
    # vesin: periodic directions require a non-degenerate cell; non-periodic ones ignore it.
    edge_index, shifts, closest = _vesin_full_list(pos_np, cell_np, pbc_t, float(cutoff))
    edge_index = edge_index.to(positions.device)
    shifts = shifts.to(positions.device, positions.dtype)
    if with_min_distance:
        return edge_index, shifts, closest
    return edge_index, shifts


def _cell_array(cell: Tensor | None, pbc: tuple[bool, bool, bool]) -> np.ndarray:
    """The ``(3, 3)`` cell for vesin (zeros without one); checks it against ``pbc``."""
    if cell is None:
        if any(pbc):
            raise ValueError(
                f"neighbor_list: pbc={pbc} needs a 'cell' (3, 3); got cell=None. Pass the "
                "lattice vectors as rows, or set pbc=False."
            )
        return np.zeros((3, 3))
    check_cell(cell, pbc)
    return complete_cell(cell.detach().cpu(), pbc).numpy()


def _vesin_full_list(
    pos_np: np.ndarray, cell_np: np.ndarray, pbc: tuple[bool, bool, bool], cutoff: float
) -> tuple[Tensor, Tensor, float]:
    """Full list sorted by centre, integer shifts, and the shortest pair distance (inf
    when there is no pair). With the native kernels: vesin's half list (half the work,
    no sort) expanded by one counting-sort pass; else vesin's sorted full list."""
    from geodl.extras import require

    require("atoms", "geodl.geometry.neighbor_list", ("vesin",))
    from vesin import NeighborList

    from geodl.geometry._kernels import table_kernel

    # Same thread count as torch (vesin defaults to all cores, which oversubscribes
    # when torch and other processes share the machine).
    threads = torch.get_num_threads()
    periodic = np.asarray(pbc, dtype=bool)
    lib = table_kernel()
    if lib is None:
        calc = NeighborList(cutoff=cutoff, full_list=True, sorted=True, n_threads=threads)
        i, j, s, d = calc.compute(points=pos_np, box=cell_np, periodic=periodic, quantities="ijSd")
        edge_index = torch.from_numpy(np.stack([i, j]).astype(np.int64))
        shifts = torch.from_numpy(np.ascontiguousarray(s))
    else:
        calc = NeighborList(cutoff=cutoff, full_list=False, sorted=False, n_threads=threads)
        i, j, s, d = calc.compute(points=pos_np, box=cell_np, periodic=periodic, quantities="ijSd")
        i, j = np.ascontiguousarray(i, np.uint64), np.ascontiguousarray(j, np.uint64)
        s = np.ascontiguousarray(s, np.int32)
        pairs, n = len(i), len(pos_np)
        edge_index = torch.empty(2, 2 * pairs, dtype=torch.int64)
        shifts = torch.empty(2 * pairs, 3, dtype=torch.int32)
        ptr = torch.empty(n + 1, dtype=torch.int64)
        lib.geodl_full_from_half(
            ctypes.c_void_p(i.ctypes.data),
            ctypes.c_void_p(j.ctypes.data),
            ctypes.c_void_p(s.ctypes.data),
            ctypes.c_int64(pairs),
            ctypes.c_int64(n),
            ctypes.c_void_p(edge_index[0].data_ptr()),
            ctypes.c_void_p(edge_index[1].data_ptr()),
            ctypes.c_void_p(shifts.data_ptr()),
            ctypes.c_void_p(ptr.data_ptr()),
        )
    closest = float(d.min()) if len(d) else float("inf")
    return edge_index, shifts, closest
