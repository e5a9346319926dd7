"""Quantum-chemical reference calculators: GFN1/GFN2-xTB (tblite) and DFT/HF (PySCF).

Charge and spin come from the frame's ``atoms.info``:

* ``charge`` — total charge in e (default 0);
* ``spin`` — number of unpaired electrons :math:`2S` (PySCF's convention; default 0 for
  an even number of electrons, 1 for an odd one); ``multiplicity`` :math:`2S+1` is
  accepted instead.

Both packages are optional (the ``qm`` extra: ``pip install 'geodl[qm]'``); the registry in
:mod:`geodl.atoms.ase._reference` names them ``gfn2-xtb``, ``gfn1-xtb`` and
``pyscf:<functional>/<basis>``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import CalculationFailed, Calculator, all_changes

__all__ = ["PySCFCalculator", "charge_and_spin", "xtb_calculator", "check_pyscf_method"]


def charge_and_spin(atoms: Atoms) -> tuple[int, int]:
    """Total charge and number of unpaired electrons of a frame, from ``atoms.info``.

    Raises
    ------
    ValueError
        A non-integer charge or spin, or a spin whose parity does not match the number
        of electrons.

    Examples
    --------
    >>> from ase.build import molecule
    >>> charge_and_spin(molecule("H2O"))
    (0, 0)
    >>> oh = molecule("OH"); charge_and_spin(oh)
    (0, 1)
    >>> oh.info["charge"] = -1; charge_and_spin(oh)
    (-1, 0)
    """
    info = atoms.info
    charge = _integer(info.get("charge", 0), "charge")
    n_electrons = int(atoms.numbers.sum()) - charge
    if "spin" in info:
        spin = _integer(info["spin"], "spin")
    elif "multiplicity" in info:
        spin = _integer(info["multiplicity"], "multiplicity") - 1
    else:
        spin = n_electrons % 2
    if spin < 0 or (n_electrons - spin) % 2 != 0:
        raise ValueError(
            f"atoms.info: spin {spin} (unpaired electrons) does not fit {n_electrons} "
            f"electrons (charge {charge}); set info['spin'] to a number of the same parity."
        )
    return charge, spin


def _integer(value: Any, key: str) -> int:
    as_float = float(value)
    if not as_float.is_integer():
        raise ValueError(f"atoms.info[{key!r}] must be an integer, got {value!r}.")
    return int(as_float)


#: geodl name -> tblite method name.
XTB_METHODS: dict[str, str] = {"gfn2-xtb": "GFN2-xTB", "gfn1-xtb": "GFN1-xTB"}


def xtb_calculator(method: str, atoms: Atoms | None = None, **kwargs: Any) -> Calculator:
    """tblite's ASE calculator for ``method`` (``"gfn2-xtb"`` or ``"gfn1-xtb"``), with the
    charge and spin of ``atoms`` (see :func:`charge_and_spin`).

    Examples
    --------
    >>> from ase.build import molecule
    >>> h2o = molecule("H2O")
    >>> h2o.calc = xtb_calculator("gfn2-xtb", h2o)
    >>> round(float(h2o.get_potential_energy()), 2)
    -137.97
    """
    from geodl.extras import require

    require("qm", f"the {method} reference", ("tblite",))
    from tblite.ase import TBLite

    params: dict[str, Any] = {"method": XTB_METHODS[method], "verbosity": 0}
    if atoms is not None:
        charge, spin = charge_and_spin(atoms)
        params.update(charge=charge, multiplicity=spin + 1)
    params.update(kwargs)
    return TBLite(**params)


def check_pyscf_method(functional: str, basis: str) -> None:
    """Raise ``ValueError`` unless PySCF knows ``functional`` and ``basis``.

    ``functional`` is ``hf`` (Hartree-Fock) or any libxc / PySCF name (``pbe``,
    ``b3lyp``, ``wb97x``, ...); ``basis`` any PySCF basis name (``def2-svp``, ``sto-3g``,
    ``cc-pvdz``, ...).
    """
    from geodl.extras import require

    require("qm", "the pyscf reference", ("pyscf",))
    import warnings

    from pyscf import dft, gto

    if functional.lower() != "hf":
        try:
            dft.libxc.parse_xc(functional)
        except (KeyError, ValueError) as exc:
            raise ValueError(
                f"pyscf: unknown functional {functional!r} ({exc}); use hf or a libxc name "
                "such as pbe, b3lyp, pbe0."
            ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            gto.basis.load(basis, "H")
        except Exception as exc:  # PySCF raises several types for unknown names
            raise ValueError(
                f"pyscf: unknown basis {basis!r} ({type(exc).__name__}); use a PySCF basis "
                "name such as sto-3g, def2-svp, cc-pvdz."
            ) from None


class PySCFCalculator(Calculator):
    r"""Kohn-Sham DFT or Hartree-Fock with PySCF, for molecules: energy and analytic forces.

    Restricted (RKS/RHF) for closed shells, unrestricted (UKS/UHF) otherwise. Energies
    and forces are converted from Hartree and Hartree/Bohr:

    .. math::

        E = E_\text{SCF}\,[E_h] \cdot 27.211,\qquad
        \mathbf F_i = -\nabla_i E_\text{SCF} \cdot 27.211 / 0.529

    An SCF that does not converge raises :class:`ase.calculators.calculator.CalculationFailed`
    (never a label from an unconverged density).

    Parameters
    ----------
    functional : str
        ``"hf"`` or an exchange-correlation functional (``"pbe"``, ``"b3lyp"``, ...).
    basis : str
        Basis set (``"def2-svp"``, ``"sto-3g"``, ...).
    max_cycle : int
        SCF iterations before giving up (100).
    conv_tol : float
        SCF energy convergence in Hartree (1e-9).

    Shapes
    ------
    energy: scalar; forces: (N, 3).

    Symmetry
    --------
    Energy invariant and forces equivariant under E(3) and permutations of like atoms.

    Examples
    --------
    >>> from ase import Atoms
    >>> h2 = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]])
    >>> h2.calc = PySCFCalculator("hf", "sto-3g")
    >>> round(float(h2.get_potential_energy()), 2)
    -30.39
    """

    # an immutable tuple: never shared state (ASE annotates a list)
    implemented_properties = ("energy", "free_energy", "forces")  # type: ignore[assignment]

    def __init__(
        self,
        functional: str = "pbe",
        basis: str = "def2-svp",
        max_cycle: int = 100,
        conv_tol: float = 1e-9,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_pyscf_method(functional, basis)
        self.functional = functional
        self.basis = basis
        self.max_cycle = int(max_cycle)
        self.conv_tol = float(conv_tol)

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: Any = ("energy",),
        system_changes: Any = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        from pyscf import dft, gto, scf

        atoms = self.atoms
        assert atoms is not None
        if atoms.pbc.any():
            raise CalculationFailed(
                f"pyscf reference: molecules only, this frame has pbc={atoms.pbc.tolist()}."
            )
        charge, spin = charge_and_spin(atoms)
        symbols = atoms.get_chemical_symbols()
        mol = gto.M(
            atom=[(s, tuple(p)) for s, p in zip(symbols, atoms.positions, strict=True)],
            unit="Angstrom",
            basis=self.basis,
            charge=charge,
            spin=spin,
            verbose=0,
        )
        if self.functional.lower() == "hf":
            mf = scf.RHF(mol) if spin == 0 else scf.UHF(mol)
        else:
            mf = dft.RKS(mol) if spin == 0 else dft.UKS(mol)
            mf.xc = self.functional
        mf.max_cycle = self.max_cycle
        mf.conv_tol = self.conv_tol
        energy = mf.kernel()
        if not mf.converged:
            raise CalculationFailed(f"pyscf: SCF not converged in {self.max_cycle} cycles.")
        grad = np.asarray(mf.nuc_grad_method().kernel())
        self.results["energy"] = float(energy) * units.Hartree
        self.results["free_energy"] = self.results["energy"]
        self.results["forces"] = -grad * units.Hartree / units.Bohr
