"""Reference calculators that label geodl's bundled datasets.

* :class:`MMFF94Calculator` — the MMFF94 force field of RDKit wrapped as an ASE calculator
  (energy and forces of one fixed molecular topology).
* :func:`reference_calculator` — one registry of the reference calculators by name:
  ``"emt"`` (ASE's EMT, for Cu/Au), ``"lj-argon"`` (ASE's Lennard-Jones with argon
  parameters), ``"mmff94"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

#: 1 kcal/mol in eV.
KCAL_PER_MOL: float = 0.0433641153087705

#: Lennard-Jones parameters of argon (Rahman 1964): sigma in Å, epsilon in eV.
ARGON_SIGMA: float = 3.405
ARGON_EPSILON: float = 0.010323


def molecule_from_smiles(smiles: str, seed: int = 0) -> tuple[Atoms, Any]:
    """Build a 3-D molecule (hydrogens added, MMFF94-optimised) from a SMILES string.

    Parameters
    ----------
    smiles : str
        The molecule, e.g. ``"CCO"`` (ethanol).
    seed : int
        Seed of RDKit's conformer embedding (the result is deterministic for a given seed).

    Returns
    -------
    (ase.Atoms, rdkit.Chem.Mol)
        The Atoms (no cell, no pbc) and the RDKit molecule whose atom order they follow.

    Examples
    --------
    >>> atoms, mol = molecule_from_smiles("CCO")
    >>> atoms.get_chemical_formula()
    'C2H6O'
    """
    from geodl.extras import require

    require("rdkit", "MMFF94 labels (molecule_from_smiles)")
    from rdkit import Chem

    AllChem = _all_chem()
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(
            f"smiles: RDKit could not parse {smiles!r}; pass a valid SMILES string such as 'CCO'."
        )
    mol = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    if AllChem.EmbedMolecule(mol, params) != 0:
        raise ValueError(f"smiles: RDKit could not embed {smiles!r} in 3-D.")
    AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
    pos = mol.GetConformer().GetPositions()
    numbers = [a.GetAtomicNum() for a in mol.GetAtoms()]
    return Atoms(numbers=numbers, positions=pos), mol


class MMFF94Calculator(Calculator):
    r"""RDKit's MMFF94 force field as an ASE calculator (energy and forces).

    The topology (bonds, atom types) comes from ``mol``; the positions come from the ASE
    ``Atoms``, whose atom order must follow ``mol``. Energies are converted from kcal/mol
    to eV and forces are minus the analytic gradient:

    .. math::

        E = E_\text{MMFF94}(\mathbf r)\,[\text{kcal/mol}]\cdot 0.04336,\qquad
        \mathbf F_i = -\partial E / \partial \mathbf r_i .

    The energy is invariant under E(3) and permutations that preserve the topology; the
    forces are equivariant.

    Parameters
    ----------
    mol : rdkit.Chem.Mol
        Molecule with explicit hydrogens (e.g. from :func:`molecule_from_smiles`).
    variant : str
        ``"MMFF94"`` (default) or ``"MMFF94s"``.

    Shapes
    ------
    energy: scalar; forces: (N, 3).

    Examples
    --------
    >>> atoms, mol = molecule_from_smiles("CCO")
    >>> atoms.calc = MMFF94Calculator(mol)
    >>> bool(abs(atoms.get_forces()).max() < 0.05)  # an optimised geometry
    True
    """

    # an immutable tuple: never shared state (ASE annotates a list)
    implemented_properties = ("energy", "forces")  # type: ignore[assignment]

    def __init__(
        self, mol: Any, variant: Literal["MMFF94", "MMFF94s"] = "MMFF94", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        AllChem = _all_chem()
        if variant not in ("MMFF94", "MMFF94s"):
            raise ValueError(f"variant: expected 'MMFF94' or 'MMFF94s', got {variant!r}.")
        self.mol = mol
        props = AllChem.MMFFGetMoleculeProperties(mol, mmffVariant=variant)
        if props is None:
            raise ValueError("mol: RDKit has no MMFF94 parameters for this molecule.")
        self._ff = AllChem.MMFFGetMoleculeForceField(mol, props, ignoreInterfragInteractions=False)
        self._numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: Any = ("energy",),
        system_changes: Any = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        assert self.atoms is not None
        if not np.array_equal(self.atoms.numbers, self._numbers):
            raise ValueError(
                "atoms: the atomic numbers do not follow the RDKit molecule given to "
                "MMFF94Calculator; build the Atoms from the same molecule "
                "(molecule_from_smiles)."
            )
        pos = self.atoms.get_positions().ravel().tolist()
        energy = self._ff.CalcEnergy(pos) * KCAL_PER_MOL
        grad = np.asarray(self._ff.CalcGrad(pos)).reshape(-1, 3) * KCAL_PER_MOL
        self.results["energy"] = float(energy)
        self.results["free_energy"] = float(energy)
        self.results["forces"] = -grad


def _emt(**_: Any) -> Calculator:
    from ase.calculators.emt import EMT

    return EMT()


def _lj_argon(**_: Any) -> Calculator:
    from ase.calculators.lj import LennardJones

    return LennardJones(sigma=ARGON_SIGMA, epsilon=ARGON_EPSILON, rc=3.0 * ARGON_SIGMA, smooth=True)


def _mmff94(mol: Any = None, **kw: Any) -> Calculator:
    if mol is None:
        raise ValueError("reference_calculator('mmff94') needs mol=<RDKit molecule>.")
    return MMFF94Calculator(mol, **kw)


#: name -> factory of the reference calculators used by the dataset recipes.
REFERENCE_CALCULATORS: dict[str, Callable[..., Calculator]] = {
    "emt": _emt,
    "lj-argon": _lj_argon,
    "mmff94": _mmff94,
}


def reference_calculator(name: str, **kwargs: Any) -> Calculator:
    """Return a fresh reference calculator by name (``"emt"``, ``"lj-argon"``, ``"mmff94"``).

    Examples
    --------
    >>> from ase.build import bulk
    >>> atoms = bulk("Cu", cubic=True)
    >>> atoms.calc = reference_calculator("emt")
    >>> round(float(atoms.get_potential_energy()), 3)
    -0.023
    """
    if name not in REFERENCE_CALCULATORS:
        raise ValueError(
            f"Unknown reference calculator {name!r}. Valid names: "
            f"{', '.join(sorted(REFERENCE_CALCULATORS))}."
        )
    return REFERENCE_CALCULATORS[name](**kwargs)


def _all_chem() -> Any:
    """``rdkit.Chem.AllChem`` (its stubs miss most of its functions: typed as ``Any``)."""
    import importlib

    return importlib.import_module("rdkit.Chem.AllChem")
