"""Labelled structures: reading ASE files or lists of Atoms, labels, splits, cached graphs.

Labels (units eV, eV/Å, eV/Å³, ASE sign convention for stress) are looked up, for each
configurable key, first in the results of the calculator attached to the Atoms (ASE's
readers turn ``energy``/``forces``/``stress`` columns into a ``SinglePointCalculator``)
and then in ``atoms.info`` (energy, stress) or ``atoms.arrays`` (forces).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from geodl.atoms.data._formats import read_frames
from geodl.errors import InputError

__all__ = ["AtomsDataset", "read_structures"]


def _full_stress(value: Any, where: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape == (6,):
        from ase.stress import voigt_6_to_full_3x3_stress

        return voigt_6_to_full_3x3_stress(arr)
    if arr.shape == (9,):
        return arr.reshape(3, 3)
    if arr.shape == (3, 3):
        return arr
    raise InputError(
        f"{where}: stress must have 6 (Voigt), 9 or 3x3 components, got shape {arr.shape}."
    )


def _lookup(atoms: Atoms, key: str, kind: str) -> Any:
    calc = atoms.calc
    results = getattr(calc, "results", None) or {}
    if key in results:
        return results[key]
    store = atoms.arrays if kind == "forces" else atoms.info
    if key in store:
        return store[key]
    if kind == "energy" and key == "energy" and "free_energy" in results:
        return results["free_energy"]
    return None


def _available_keys(atoms: Atoms) -> str:
    calc = getattr(atoms.calc, "results", None) or {}
    arrays = [k for k in atoms.arrays if k not in ("numbers", "positions")]
    return f"calculator results {sorted(calc)}, info {sorted(atoms.info)}, arrays {sorted(arrays)}"


class AtomsDataset:
    """A list of structures with validated labels and cached graphs.

    Parameters
    ----------
    structures : list of ase.Atoms
        Bare structures (numbers, positions, cell, pbc).
    energy : ndarray
        ``(S,)`` total energies in eV.
    forces : list of ndarray
        ``(N_s, 3)`` forces in eV/Å per structure.
    stress : ndarray
        ``(S, 3, 3)`` stress in eV/Å³ (ASE sign); zeros where absent.
    has_stress : ndarray
        ``(S,)`` bool, which structures carry a stress label.
    names : list of str
        ``"file[index]"`` per structure, used in error messages.

    Shapes
    ------
    ``len(dataset) = S``; ``dataset.to_graphs(...)`` gives S ``torch_geometric`` ``Data``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> a = bulk("Cu", cubic=True); a.calc = EMT(); _ = a.get_forces()
    >>> ds = read_structures([a])
    >>> len(ds), ds.species
    (1, ['Cu'])
    """

    def __init__(
        self,
        structures: list[Atoms],
        energy: np.ndarray,
        forces: list[np.ndarray],
        stress: np.ndarray,
        has_stress: np.ndarray,
        names: list[str],
        source: str = "<atoms>",
    ) -> None:
        self.structures = structures
        self.energy = np.asarray(energy, dtype=float)
        self.forces = forces
        self.stress = np.asarray(stress, dtype=float).reshape(-1, 3, 3)
        self.has_stress = np.asarray(has_stress, dtype=bool)
        self.names = names
        self.source = source
        self._graph_cache: dict[tuple, list] = {}

    def __len__(self) -> int:
        return len(self.structures)

    def __repr__(self) -> str:
        return (
            f"AtomsDataset(source={self.source!r}, n_structures={len(self)}, "
            f"n_atoms={self.n_atoms}, species={self.species}, "
            f"with_stress={int(self.has_stress.sum())})"
        )

    @property
    def n_atoms(self) -> int:
        """Total number of atoms."""
        return int(sum(len(a) for a in self.structures))

    @property
    def species(self) -> list[str]:
        """Sorted chemical symbols present."""
        from ase.data import chemical_symbols

        zs = set()
        for a in self.structures:
            zs.update(np.unique(a.numbers).tolist())
        return [chemical_symbols[z] for z in sorted(zs)]

    def subset(self, indices: Sequence[int] | np.ndarray) -> AtomsDataset:
        """The structures at ``indices`` (labels follow; the graph cache does not)."""
        idx = [int(i) for i in indices]
        return AtomsDataset(
            [self.structures[i] for i in idx],
            self.energy[idx],
            [self.forces[i] for i in idx],
            self.stress[idx],
            self.has_stress[idx],
            [self.names[i] for i in idx],
            self.source,
        )

    def split(self, fractions: Sequence[float], seed: int = 0) -> list[AtomsDataset]:
        """Random split: one part per fraction, the remainder first.

        ``split([0.1, 0.1])`` returns ``[train (80 %), valid (10 %), test (10 %)]``; each
        held-out part has at least one structure when its fraction is positive.
        """
        n = len(self)
        perm = np.random.default_rng(seed).permutation(n)
        sizes = [max(1, int(round(f * n))) if f > 0 else 0 for f in fractions]
        if sum(sizes) >= n:
            raise InputError(
                f"split: {n} structures in {self.source!r} are too few to hold out "
                f"{sizes} for validation/test; give more data or a separate --valid file."
            )
        parts, start = [], 0
        rest = n - sum(sizes)
        parts.append(self.subset(np.sort(perm[:rest])))
        start = rest
        for s in sizes:
            parts.append(self.subset(np.sort(perm[start : start + s])))
            start += s
        return parts

    def check_species(self, type_map: Sequence[str], what: str = "the model") -> None:
        """Raise ``ValueError`` naming the first structure with a species outside ``type_map``."""
        allowed = set(type_map)
        for name, atoms in zip(self.names, self.structures, strict=False):
            unknown = sorted(set(atoms.get_chemical_symbols()) - allowed)
            if unknown:
                raise InputError(
                    f"{name}: species {unknown} were not seen in training ({what} knows "
                    f"{list(type_map)}). Train with data that contains them, or remove these "
                    "structures."
                )

    def to_graphs(self, type_map: Sequence[str], cutoff: float, dtype: Any = None) -> list:
        """One ``torch_geometric.data.Data`` per structure, neighbour lists included.

        Computed once per ``(type_map, cutoff, dtype)`` and cached. Fields: those of
        :func:`geodl.atoms.atoms_to_graph` plus ``energy (1,)``, ``forces (N, 3)``,
        ``stress (1, 3, 3)`` (zeros when absent), ``stress_weight (1,)`` (1 or 0) and
        ``n_atoms (1,)``.
        """
        import torch

        from geodl.atoms.data._graph import atoms_to_graph

        dtype = dtype or torch.get_default_dtype()
        key = (tuple(type_map), float(cutoff), str(dtype))
        if key in self._graph_cache:
            return self._graph_cache[key]
        self.check_species(type_map)
        graphs = []
        for i, atoms in enumerate(self.structures):
            try:
                g = atoms_to_graph(atoms, type_map, cutoff, dtype)
            except ValueError as exc:
                raise InputError(f"{self.names[i]}: {exc}") from None
            g.energy = torch.tensor([self.energy[i]], dtype=dtype)
            g.forces = torch.as_tensor(self.forces[i], dtype=dtype)
            g.stress = torch.as_tensor(self.stress[i], dtype=dtype).reshape(1, 3, 3)
            g.stress_weight = torch.tensor([float(self.has_stress[i])], dtype=dtype)
            g.n_atoms = torch.tensor([len(atoms)], dtype=torch.long)
            g.index = torch.tensor([i], dtype=torch.long)
            graphs.append(g)
        self._graph_cache[key] = graphs
        return graphs


def _array(value: Any, where: str, key: str) -> np.ndarray:
    """A label as a float array; an error names the structure and the key."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            f"{where}: the label {key!r} is not numeric ({str(value)[:60]!r}); fix or remove it."
        ) from None


def _finite(arr: np.ndarray, where: str, what: str) -> None:
    if not np.isfinite(arr).all():
        raise InputError(f"{where}: {what} NaN or inf; fix or remove the structure.")


def _read_frame(
    atoms: Atoms, where: str, keys: dict[str, str], require_labels: bool
) -> tuple[Atoms, float, np.ndarray, np.ndarray | None]:
    """One structure: bare Atoms, energy, forces ``(N, 3)``, stress ``(3, 3)`` or None."""
    n = len(atoms)
    if n == 0:
        raise InputError(f"{where}: structure has no atoms; remove it.")
    pos = atoms.get_positions()
    _finite(pos, where, "positions contain")
    labels = {kind: _lookup(atoms, key, kind) for kind, key in keys.items() if kind != "stress"}
    for kind, value in labels.items():
        if value is None and require_labels:
            raise InputError(
                f"{where}: no {kind} label under the key {keys[kind]!r} (found "
                f"{_available_keys(atoms)}). Set data.{kind}_key to the right name, "
                "or label the structure."
            )
    e, f = labels["energy"], labels["forces"]
    e_val = np.nan
    if e is not None:
        e_arr = _array(e, where, keys["energy"])
        if e_arr.size != 1:
            raise InputError(f"{where}: energy {keys['energy']!r} must be a scalar.")
        e_val = float(e_arr.reshape(-1)[0])
    f_arr = np.full((n, 3), np.nan)
    if f is not None:
        f_arr = _array(f, where, keys["forces"])
        if f_arr.shape != (n, 3):
            raise InputError(
                f"{where}: forces {keys['forces']!r} have shape {f_arr.shape}, expected "
                f"({n}, 3) for {n} atoms."
            )
    if require_labels:
        _finite(np.asarray(e_val), where, f"the energy {keys['energy']!r} contains")
        _finite(f_arr, where, f"the forces {keys['forces']!r} contain")
    s = _lookup(atoms, keys["stress"], "stress") if atoms.pbc.all() else None
    s_arr = None
    if s is not None:
        s_arr = _full_stress(_array(s, where, keys["stress"]), f"{where}: {keys['stress']!r}")
        _finite(s_arr, where, f"the stress {keys['stress']!r} contains")
    bare = Atoms(
        numbers=atoms.numbers.copy(),
        positions=pos.copy(),
        cell=atoms.cell.copy(),
        pbc=atoms.pbc.copy(),
    )
    return bare, e_val, f_arr, s_arr


def _to_list(source: Any, index: str, fmt: str) -> tuple[list[Atoms], str]:
    if isinstance(source, Atoms):
        return [source], "<atoms>"
    if isinstance(source, (str, Path)):
        return read_frames(source, fmt, index)
    if isinstance(source, Sequence) and all(isinstance(a, Atoms) for a in source):
        return list(source), "<atoms>"
    raise TypeError(
        "data: expected a file path, an ase.Atoms or a list of ase.Atoms, got "
        f"{type(source).__name__}."
    )


def read_structures(
    source: str | Path | Atoms | Sequence[Atoms],
    *,
    index: str = ":",
    energy_key: str = "energy",
    forces_key: str = "forces",
    stress_key: str = "stress",
    require_labels: bool = True,
    fmt: str = "auto",
) -> AtomsDataset:
    """Read labelled structures from a file or folder (see :data:`DATA_FORMATS`) or a list
    of Atoms.

    Parameters
    ----------
    source : path, Atoms or list of Atoms
        Any file ``ase.io.read`` understands (extxyz, ASE db, trajectory, ...), a DeePMD
        system folder or a root of many, any dpdata format (``fmt``), or
        ``"bundled:NAME"`` for a shipped dataset.
    index : str
        Frames to read, ASE syntax (``":"`` all).
    energy_key, forces_key, stress_key : str
        Names of the labels (see the module docstring for where they are looked up).
    fmt : str
        A name of :data:`DATA_FORMATS` or a dpdata format (``"auto"`` detects).
    require_labels : bool
        When False, structures without energy/forces are accepted (labels set to NaN)
        — for prediction only.

    Raises
    ------
    ValueError
        Missing file, unreadable file, empty dataset, a missing label, a label of the
        wrong shape, NaN/inf in positions or labels. The message names the structure
        (``file[index]``) and the key.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> a = bulk("Au", cubic=True); a.calc = EMT(); _ = a.get_stress()
    >>> ds = read_structures([a])
    >>> ds.energy.shape, ds.forces[0].shape, bool(ds.has_stress[0])
    ((1,), (4, 3), True)
    """
    frames, label = _to_list(source, index, fmt)
    if len(frames) == 0:
        raise InputError(
            f"{label}: the dataset is empty (index {index!r}); give a file with at least one "
            "structure."
        )
    keys = {"energy": energy_key, "forces": forces_key, "stress": stress_key}
    structures, energies, forces, stresses, has_stress, names = [], [], [], [], [], []
    for i, atoms in enumerate(frames):
        where = f"{label}[{i}]"
        bare, e_val, f_arr, s_arr = _read_frame(atoms, where, keys, require_labels)
        structures.append(bare)
        energies.append(e_val)
        forces.append(f_arr)
        stresses.append(s_arr if s_arr is not None else np.zeros((3, 3)))
        has_stress.append(s_arr is not None)
        names.append(where)
    return AtomsDataset(
        structures,
        np.array(energies),
        forces,
        np.array(stresses),
        np.array(has_stress),
        names,
        label,
    )
