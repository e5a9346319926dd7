"""ASE calculator for a trained :class:`~geodl.atoms.EnergyModel`."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

__all__ = ["GeoDLCalculator"]


_MALLOC_TUNED = False


def _keep_freed_memory() -> None:
    """glibc only: serve large blocks from the heap and never trim it (see
    ``reuse_memory``); a no-op elsewhere or when done before."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_max = -1, -4
        libc.mallopt(m_trim_threshold, ctypes.c_int(2**31 - 1))
        libc.mallopt(m_mmap_max, ctypes.c_int(0))
    except (OSError, AttributeError):
        pass


class GeoDLCalculator(Calculator):
    r"""ASE calculator: energy, forces, stress and per-atom energies from an EnergyModel.

    .. math::

        E = \sum_i E_i,\qquad \mathbf F_i = -\partial E/\partial \mathbf x_i,\qquad
        \sigma = \frac{1}{V}\,\frac{\partial E}{\partial \varepsilon}

    Results are cached by ASE's state check: any change of positions, atomic numbers,
    cell or pbc triggers a new evaluation. ``implemented_properties`` is an instance
    attribute (never shared between calculators). Stress is available for structures
    periodic in all three directions.

    Parameters
    ----------
    model : EnergyModel or path
        A model or a file written by :func:`~geodl.atoms.save_model`.
    device : str
        Torch device (``"cpu"``).
    dtype : str or torch.dtype, optional
        Evaluate in this dtype (``"float64"`` for tight energy conservation in MD);
        default: the model's.
    reuse_memory : bool
        Keep freed memory in the process for the next step instead of returning it to
        the system (glibc: no ``mmap`` for large blocks, no trimming). Every step
        allocates the same large tensors; without this, each of them is a fresh
        ``mmap`` whose pages the kernel zeroes again on first touch, a cost that grows
        faster than the number of atoms (the uncompressed model at 6,912 atoms: 3.6 s
        -> 1.7 s per step). The resident memory then stays at its peak.

    Shapes
    ------
    ``energy`` scalar, ``energies`` (N,), ``forces`` (N, 3), ``stress`` (6,) Voigt, eV/Å³.

    Symmetry
    --------
    Energy invariant and forces equivariant under E(3) and permutations of like atoms
    (inherited from the model).

    Examples
    --------
    >>> import ase.build
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> model = EnergyModel(EnergyModelConfig(type_map=["Cu"], r_cut=4.0, r_smooth=3.0,
    ...     embed_widths=(4,), axis_neurons=2, fitting_widths=(8,)))
    >>> atoms = ase.build.bulk("Cu", cubic=True)
    >>> atoms.calc = GeoDLCalculator(model)
    >>> atoms.get_forces().shape
    (4, 3)
    """

    implemented_properties: list[str]  # set per instance in __init__
    default_parameters: dict[str, Any] = {}

    def __init__(
        self,
        model: Any,
        device: str = "cpu",
        dtype: str | torch.dtype | None = None,
        reuse_memory: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if reuse_memory:
            _keep_freed_memory()
        from geodl.atoms.model import EnergyModel, load_model

        if isinstance(model, (str, os.PathLike)):
            path = os.fspath(model)
            if not os.path.isfile(path):
                raise ValueError(
                    f"GeoDLCalculator: no model file at {path!r}; pass a path written by "
                    "geodl train (out/model.pt) or an EnergyModel."
                )
            model = load_model(path)
        if not isinstance(model, EnergyModel):
            raise TypeError(
                "GeoDLCalculator: 'model' must be an EnergyModel or a path to a model file, "
                f"got {type(model).__name__}."
            )
        if isinstance(dtype, str):
            if dtype not in ("float32", "float64"):
                raise ValueError(
                    f"GeoDLCalculator: dtype must be 'float32' or 'float64', got {dtype!r}."
                )
            dtype = getattr(torch, dtype)
        self.device = torch.device(device)
        if dtype is not None and dtype != model.energy_shift.dtype:
            import copy

            model = copy.deepcopy(model).to(dtype)  # never change the caller's model
        self.model = model.to(self.device)
        self.model.eval()
        self.dtype = self.model.energy_shift.dtype
        self.implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]
        self._type_of_z: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"GeoDLCalculator(type_map={self.model.type_map}, r_cut={self.model.r_cut}, "
            f"dtype={str(self.dtype).replace('torch.', '')}, device={str(self.device)!r})"
        )

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: Any = ("energy",),
        system_changes: Any = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        from geodl.geometry import neighbor_list

        atoms = self.atoms
        assert atoms is not None
        periodic = bool(np.all(atoms.pbc))
        if "stress" in properties and not periodic:
            raise PropertyNotImplementedError(
                "GeoDLCalculator: stress needs a structure periodic in all three directions "
                f"(pbc={atoms.pbc.tolist()})."
            )
        species_np = self._species(atoms.numbers)
        # Atoms ordered by species: every per-species block of the model is a contiguous
        # slice (no gathers); results are put back in the caller's order.
        order = np.argsort(species_np, kind="stable")
        ordered = bool(np.all(order == np.arange(len(order))))
        dtype = self.dtype
        pos = torch.from_numpy(
            np.ascontiguousarray(atoms.positions[order] if not ordered else atoms.positions)
        )
        cell64 = torch.from_numpy(np.asarray(atoms.cell.array, dtype=np.float64))
        pbc = tuple(bool(p) for p in atoms.pbc)
        edge_index, shifts, closest = neighbor_list(
            pos, self.model.r_cut, cell64 if any(pbc) else None, pbc, with_min_distance=True
        )
        species = torch.from_numpy(species_np[order] if not ordered else species_np)
        pos, cell = pos.to(dtype), cell64.to(dtype).reshape(1, 3, 3)
        shifts = shifts.to(dtype)
        batch = torch.zeros(len(species), dtype=torch.long)
        args = [t.to(self.device) for t in (species, pos, edge_index, shifts, cell, batch)]
        self.model.validate(*args, min_pair_distance=closest)
        out = self.model.compute(*args, 1, True, periodic)
        energy = float(out["energy"].detach().sum())
        energies = out["atomic_energies"].detach().cpu().double().numpy()
        forces = out["forces"].detach().cpu().double().numpy()
        if not ordered:
            energies, forces = energies[np.argsort(order)], forces[np.argsort(order)]
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["energies"] = energies
        self.results["forces"] = forces
        if periodic:
            s = out["stress"].detach().cpu().double().numpy().reshape(3, 3)
            self.results["stress"] = np.array(
                [s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]
            )

    def _species(self, numbers: np.ndarray) -> np.ndarray:
        """Type index of each atom (a lookup table by atomic number)."""
        from ase.data import atomic_numbers, chemical_symbols

        if self._type_of_z is None:
            table = np.full(len(chemical_symbols), -1, dtype=np.int64)
            for k, sym in enumerate(self.model.type_map):
                table[atomic_numbers[sym]] = k
            self._type_of_z = table
        species = self._type_of_z[numbers]
        if (species < 0).any():
            unknown = sorted({chemical_symbols[z] for z in numbers[species < 0]})
            raise ValueError(
                f"GeoDLCalculator: species {unknown} were not seen in training (the model "
                f"knows {self.model.type_map}); train a model on data that contains them."
            )
        return species
