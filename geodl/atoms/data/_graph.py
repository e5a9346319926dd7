"""ASE ``Atoms`` -> PyTorch Geometric graph with a periodic neighbour list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from geodl.geometry import neighbor_list


def atoms_to_graph(
    atoms: Any,
    type_map: Sequence[str],
    cutoff: float,
    dtype: torch.dtype | None = None,
) -> Any:
    r"""Convert an ``ase.Atoms`` into a ``torch_geometric.data.Data`` graph.

    Edges join every ordered pair within ``cutoff`` (periodic images included, see
    :func:`neighbor_list`); the edge vector is
    :math:`\mathbf r_{ij} = \mathbf x_j - \mathbf x_i + \mathbf S_{ij} \mathbf C`.
    Labels are copied from ``atoms.calc.results`` when present (never computed).
    Graphs batch with ``torch_geometric.loader.DataLoader``.

    Parameters
    ----------
    atoms : ase.Atoms
        The structure (its ``pbc`` and ``cell`` are used).
    type_map : sequence of str
        Element symbols; the species index of an atom is its symbol's position here.
    cutoff : float
        Neighbour cutoff in Å (the model's ``r_cut``).
    dtype : torch.dtype, optional
        Float dtype of ``pos``, ``cell``, ``shifts`` and labels (default: torch's default).

    Returns
    -------
    torch_geometric.data.Data
        ``species (N,)`` long, ``pos (N, 3)``, ``cell (1, 3, 3)``, ``pbc (1, 3)`` bool,
        ``edge_index (2, E)``, ``shifts (E, 3)``; when labelled also ``energy (1,)``,
        ``forces (N, 3)``, ``stress (1, 3, 3)`` (eV/Å³, ASE sign).

    Shapes
    ------
    ``N`` atoms -> ``N`` nodes, ``E`` directed edges.

    Symmetry
    --------
    Rotating/translating ``atoms`` (with its cell) leaves ``edge_index`` and ``shifts``
    unchanged; permuting atoms permutes the nodes.

    Examples
    --------
    >>> import ase.build
    >>> g = atoms_to_graph(ase.build.bulk("Cu", "fcc", a=3.6), ["Cu"], cutoff=3.0)
    >>> g.species.tolist(), g.edge_index.shape[1]
    ([0], 12)
    """
    from torch_geometric.data import Data

    species = _species(atoms, type_map)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    pos = torch.as_tensor(np.asarray(atoms.positions), dtype=torch.float64)
    pbc = tuple(bool(p) for p in atoms.pbc)
    cell = torch.as_tensor(np.asarray(atoms.cell.array), dtype=torch.float64)
    edge_index, shifts = neighbor_list(pos, cutoff, cell if any(pbc) else None, pbc)
    data = Data(
        species=species,
        pos=pos.to(dtype),
        cell=cell.to(dtype).unsqueeze(0),
        pbc=torch.tensor([pbc], dtype=torch.bool),
        edge_index=edge_index,
        shifts=shifts.to(dtype),
    )
    _copy_labels(atoms, data, dtype)
    return data


def _species(atoms: Any, type_map: Sequence[str]) -> torch.Tensor:
    """``(N,)`` species indices into ``type_map``; checks the arguments."""
    import ase

    if not isinstance(atoms, ase.Atoms):
        raise TypeError(f"atoms_to_graph: 'atoms' must be an ase.Atoms, got {type(atoms)}.")
    if isinstance(type_map, str):
        raise TypeError(
            f"atoms_to_graph: 'type_map' must be a list of symbols, got the string {type_map!r}."
        )
    index = {sym: k for k, sym in enumerate(type_map)}
    symbols = atoms.get_chemical_symbols()
    unknown = sorted(set(symbols) - set(index))
    if unknown:
        raise ValueError(
            f"atoms_to_graph: species {unknown} are not in the type_map {list(type_map)}; "
            "use a model trained on these elements or extend the type_map."
        )
    return torch.tensor([index[s] for s in symbols], dtype=torch.long)


def _copy_labels(atoms: Any, data: Any, dtype: torch.dtype) -> None:
    """Energy ``(1,)``, forces ``(N, 3)``, stress ``(1, 3, 3)`` from ``atoms.calc.results``."""
    results = getattr(atoms.calc, "results", None) or {}
    energy = results.get("energy", results.get("free_energy"))
    if energy is not None:
        data.energy = torch.tensor([float(energy)], dtype=dtype)
    if results.get("forces") is not None:
        data.forces = torch.as_tensor(np.asarray(results["forces"]), dtype=dtype)
    if results.get("stress") is not None:
        stress = np.asarray(results["stress"], dtype=float)
        if stress.shape == (6,):
            from ase.stress import voigt_6_to_full_3x3_stress

            stress = voigt_6_to_full_3x3_stress(stress)
        data.stress = torch.as_tensor(stress, dtype=dtype).reshape(1, 3, 3)
