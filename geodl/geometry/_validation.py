"""Boundary checks for atomic inputs: clear errors instead of silent NaN energies."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

#: |det(cell)| / (product of row lengths) below this is treated as singular.
_SINGULAR_TOL = 1e-8


def normalise_pbc(pbc: bool | Sequence[bool] | Tensor) -> tuple[bool, bool, bool]:
    """Return ``pbc`` as three Python bools; ``True``/``False`` apply to all directions."""
    if isinstance(pbc, Tensor):
        pbc = pbc.reshape(-1).tolist()
    if isinstance(pbc, bool) or (hasattr(pbc, "dtype") and getattr(pbc, "ndim", 1) == 0):
        return (bool(pbc),) * 3
    values = tuple(bool(p) for p in pbc)
    if len(values) != 3:
        raise ValueError(
            f"'pbc' must be a bool or three bools (one per lattice vector), got {pbc!r}."
        )
    return values[0], values[1], values[2]


def check_positions(positions: Tensor, name: str = "positions") -> None:
    """Raise if ``positions`` is not a finite floating ``(N, 3)`` tensor."""
    if not isinstance(positions, Tensor):
        raise TypeError(f"'{name}' must be a torch.Tensor of shape (N, 3), got {type(positions)}.")
    if positions.ndim != 2 or positions.shape[-1] != 3:
        raise ValueError(
            f"'{name}' must have shape (N, 3), got {tuple(positions.shape)}; reshape to "
            "one row of Cartesian coordinates per atom."
        )
    if not positions.is_floating_point():
        raise TypeError(f"'{name}' must be float32 or float64, got {positions.dtype}.")
    if positions.numel() and not bool(torch.isfinite(positions).all()):
        bad = (~torch.isfinite(positions)).any(dim=1).nonzero().flatten()[:5].tolist()
        raise ValueError(
            f"'{name}' contains NaN or infinite values (atoms {bad}...); fix the structure "
            "before evaluating the model."
        )


def check_cell(cell: Tensor, pbc: tuple[bool, bool, bool], name: str = "cell") -> None:
    """Raise if ``cell`` is not a finite ``(3, 3)`` matrix whose periodic rows are
    linearly independent."""
    if not isinstance(cell, Tensor):
        raise TypeError(f"'{name}' must be a torch.Tensor of shape (3, 3), got {type(cell)}.")
    if tuple(cell.shape) != (3, 3):
        raise ValueError(
            f"'{name}' must have shape (3, 3) (rows = lattice vectors), got {tuple(cell.shape)}."
        )
    if not bool(torch.isfinite(cell).all()):
        raise ValueError(f"'{name}' contains NaN or infinite values: {cell.tolist()}.")
    periodic_rows = cell.detach().double()[[k for k in range(3) if pbc[k]]]
    if len(periodic_rows) == 0:
        return
    lengths = periodic_rows.norm(dim=1)
    gram = periodic_rows @ periodic_rows.T
    scale = float(lengths.prod()) ** 2
    if scale == 0.0 or float(torch.linalg.det(gram)) / scale < _SINGULAR_TOL:
        raise ValueError(
            f"'{name}' is singular along its periodic directions (pbc={pbc}, cell="
            f"{cell.tolist()}); give linearly independent lattice vectors for the periodic "
            "directions, or switch pbc off there."
        )


def complete_cell(cell: Tensor, pbc: tuple[bool, bool, bool]) -> Tensor:
    """Replace degenerate rows of non-periodic directions by unit vectors orthogonal to
    the other rows (vesin needs an invertible box; shifts along those rows stay 0)."""
    cell = cell.detach().to(torch.float64).clone()
    if all(pbc):
        return cell
    det = float(torch.linalg.det(cell))
    norms = cell.norm(dim=1)
    if norms.prod() > 0 and abs(det) / float(norms.prod()) > _SINGULAR_TOL:
        return cell
    keep = [k for k in range(3) if pbc[k]]
    basis = cell[keep] if keep else cell.new_zeros(0, 3)
    # Orthonormal complement of the periodic rows.
    full = torch.cat([basis, torch.eye(3, dtype=torch.float64)])
    q, _ = torch.linalg.qr(full.T)
    extra = q.T[len(keep) :]  # (3 - k, 3) orthonormal, orthogonal to the periodic rows
    scale = float(norms.max()) if float(norms.max()) > 0 else 1.0
    for n, k in enumerate(k for k in range(3) if not pbc[k]):
        cell[k] = extra[n] * scale
    return cell


def check_species(species: Tensor, num_types: int, type_map: Sequence[str] | None = None) -> None:
    """Raise if ``species`` holds indices outside ``[0, num_types)``."""
    if not isinstance(species, Tensor) or species.dtype not in (torch.int64, torch.int32):
        raise TypeError(
            f"'species' must be an integer torch.Tensor of type indices, got "
            f"{getattr(species, 'dtype', type(species))}."
        )
    if species.numel() == 0:
        return
    lo, hi = int(species.min()), int(species.max())
    if lo < 0 or hi >= num_types:
        bad = lo if lo < 0 else hi
        known = f" (type_map {list(type_map)})" if type_map is not None else ""
        raise ValueError(
            f"'species' contains type index {bad}, but the model knows {num_types} types"
            f"{known}; map element symbols with the model's type_map."
        )


def check_min_distance(distances: Tensor, min_distance: float) -> None:
    """Raise if any pair distance is below ``min_distance`` (overlapping atoms)."""
    if min_distance <= 0 or distances.numel() == 0:
        return
    closest = float(distances.detach().min())
    if closest < min_distance:
        raise ValueError(
            f"Two atoms are {closest:.4g} apart, closer than min_distance={min_distance}; "
            "the structure is unphysical (duplicated atom or wrong units?). Fix it, or "
            "lower EnergyModelConfig.min_distance."
        )
