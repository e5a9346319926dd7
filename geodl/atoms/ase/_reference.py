"""Reference calculators that label geodl's bundled datasets.

* :class:`MMFF94Calculator` — the MMFF94 force field of RDKit wrapped as an ASE calculator
  (energy and forces of one fixed molecular topology).
* :func:`reference_calculator` — one registry of the reference calculators by name:
  ``emt`` (ASE's EMT, for Cu/Au), ``lj`` (ASE's Lennard-Jones with argon parameters;
  also ``lj-argon``), ``mmff94``, ``gfn2-xtb`` / ``gfn1-xtb`` (tblite),
  ``pyscf:<functional>/<basis>`` and ``<module>:<factory>`` for any ASE calculator;
  :func:`check_reference` validates a name before any frame is labelled.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from geodl.atoms.ase._qm import XTB_METHODS, PySCFCalculator, check_pyscf_method, xtb_calculator
from geodl.errors import InputError, UserCodeError

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


def mmff94_molecule(atoms: Atoms) -> Any:
    """The RDKit molecule (topology) MMFF94 labels ``atoms`` with.

    From ``atoms.info["smiles"]`` when present (the atom order must then follow RDKit's:
    the SMILES heavy atoms, then the hydrogens, as :func:`molecule_from_smiles` builds
    it), else perceived from the frame's geometry (RDKit's ``DetermineBonds``, with
    ``atoms.info["charge"]``, default 0).

    Examples
    --------
    >>> atoms, _ = molecule_from_smiles("CCO")
    >>> mol = mmff94_molecule(atoms)
    >>> mol.GetNumAtoms(), mol.GetNumBonds()
    (9, 8)
    """
    from geodl.extras import require

    require("rdkit", "MMFF94 labels (mmff94_molecule)")
    smiles = atoms.info.get("smiles")
    if smiles:
        return _molecule_of_smiles(str(smiles))
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds

    mol = Chem.RWMol()
    for z in atoms.numbers:
        mol.AddAtom(Chem.Atom(int(z)))
    conf = Chem.Conformer(len(atoms))
    for i, p in enumerate(atoms.positions):
        conf.SetAtomPosition(i, [float(x) for x in p])
    mol.AddConformer(conf, assignId=True)
    try:
        rdDetermineBonds.DetermineBonds(mol, charge=int(atoms.info.get("charge", 0)))
    except Exception as exc:  # RDKit raises plain exceptions (ValueError, RuntimeError)
        raise ValueError(
            f"mmff94: RDKit could not perceive the bonds of {atoms.get_chemical_formula()} "
            f"({exc}); give the molecule's SMILES in atoms.info['smiles']."
        ) from exc
    return mol.GetMol()


@lru_cache(maxsize=32)
def _molecule_of_smiles(smiles: str) -> Any:
    return molecule_from_smiles(smiles)[1]


def _emt(atoms: Atoms | None = None) -> Calculator:
    from ase.calculators.emt import EMT

    return EMT()


def _lj_argon(
    atoms: Atoms | None = None,
    sigma: float = ARGON_SIGMA,
    epsilon: float = ARGON_EPSILON,
    rc: float | None = None,
) -> Calculator:
    from ase.calculators.lj import LennardJones

    rc = 3.0 * float(sigma) if rc is None else float(rc)
    return LennardJones(sigma=float(sigma), epsilon=float(epsilon), rc=rc, smooth=True)


def _mmff94(
    atoms: Atoms | None = None, mol: Any = None, variant: Literal["MMFF94", "MMFF94s"] = "MMFF94"
) -> Calculator:
    if mol is None:
        if atoms is None:
            raise ValueError(
                "reference_calculator('mmff94') needs mol=<RDKit molecule> or atoms=<the "
                "frame to label> (its topology is then perceived, see mmff94_molecule)."
            )
        mol = mmff94_molecule(atoms)
    return MMFF94Calculator(mol, variant=variant)


def _gfn2_xtb(atoms: Atoms | None = None, **options: Any) -> Calculator:
    return xtb_calculator("gfn2-xtb", atoms, **options)


def _gfn1_xtb(atoms: Atoms | None = None, **options: Any) -> Calculator:
    return xtb_calculator("gfn1-xtb", atoms, **options)


#: name -> factory(atoms=None, **options) of the reference calculators with a fixed name.
#: ``lj`` is Lennard-Jones with argon's parameters (``lj-argon``, its older name).
REFERENCE_CALCULATORS: dict[str, Callable[..., Calculator]] = {
    "emt": _emt,
    "gfn1-xtb": _gfn1_xtb,
    "gfn2-xtb": _gfn2_xtb,
    "lj": _lj_argon,
    "lj-argon": _lj_argon,
    "mmff94": _mmff94,
}

_XTB_OPTIONS = (
    "accuracy",
    "electronic_temperature",
    "guess",
    "max_iterations",
    "mixer_damping",
    "spin_polarization",
)

#: name -> the options (``geodl label --set KEY=VALUE``) its calculator accepts.
REFERENCE_OPTIONS: dict[str, tuple[str, ...]] = {
    "emt": (),
    "gfn1-xtb": _XTB_OPTIONS,
    "gfn2-xtb": _XTB_OPTIONS,
    "lj": ("sigma", "epsilon", "rc"),
    "lj-argon": ("sigma", "epsilon", "rc"),
    "mmff94": ("mol", "variant"),
    "pyscf": ("max_cycle", "conv_tol"),
}

#: names with parameters, as the registry's error message lists them.
REFERENCE_PATTERNS: tuple[str, ...] = ("pyscf:<functional>/<basis>", "<module>:<factory>")


def reference_names() -> list[str]:
    """Every valid reference name (fixed names, then the patterns).

    Examples
    --------
    >>> reference_names()[:3]
    ['emt', 'gfn1-xtb', 'gfn2-xtb']
    """
    return sorted(REFERENCE_CALCULATORS) + list(REFERENCE_PATTERNS)


def parse_reference(name: str) -> tuple[str, tuple[str, ...]]:
    """Split a reference name into its kind and parameters.

    Returns ``("builtin", (name,))``, ``("pyscf", (functional, basis))`` or
    ``("user", (module, factory))``.

    Raises
    ------
    geodl.errors.InputError
        An unknown name; the message lists the valid ones.

    Examples
    --------
    >>> parse_reference("pyscf:pbe/def2-svp")
    ('pyscf', ('pbe', 'def2-svp'))
    >>> parse_reference("my_calcs:make")
    ('user', ('my_calcs', 'make'))
    """
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            f"reference: expected a name, got {name!r}. Valid names: "
            f"{', '.join(reference_names())}."
        )
    name = name.strip()
    if name in REFERENCE_CALCULATORS:
        return "builtin", (name,)
    head, sep, tail = name.partition(":")
    if sep and head.lower() == "pyscf":
        functional, slash, basis = tail.partition("/")
        if not (functional and slash and basis):
            raise InputError(
                f"reference {name!r}: expected pyscf:<functional>/<basis>, e.g. "
                "pyscf:pbe/def2-svp or pyscf:hf/sto-3g."
            )
        return "pyscf", (functional, basis)
    if sep and head and tail and tail.isidentifier():
        return "user", (head, tail)
    raise InputError(
        f"Unknown reference calculator {name!r}. Valid names: {', '.join(reference_names())}."
    )


#: user calculators made once per process: ("module:factory", options) -> calculator.
_USER_CALCULATORS: dict[tuple[str, str], Calculator] = {}


def _import_user_module(module: str) -> Any:
    import importlib
    import importlib.util
    import os

    if module.endswith(".py") or os.sep in module:
        if not os.path.isfile(module):
            raise InputError(f"reference: no such file {module!r} for <module>:<factory>.")
        spec = importlib.util.spec_from_file_location(
            "_geodl_user_reference_" + os.path.basename(module)[:-3], module
        )
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception as exc:
            raise UserCodeError(f"module {module!r}", exc) from exc
        return mod
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise InputError(
                f"reference: cannot import module {module!r} ({exc}); put it on PYTHONPATH "
                "or give the path of its file (path/to/file.py:factory)."
            ) from exc
        raise UserCodeError(f"module {module!r}", exc) from exc
    except Exception as exc:
        raise UserCodeError(f"module {module!r}", exc) from exc


def _user_calculator(module: str, factory: str, **options: Any) -> Calculator:
    key = f"{module}:{factory}"
    cache_key = (key, repr(sorted(options.items())))
    if cache_key in _USER_CALCULATORS:
        return _USER_CALCULATORS[cache_key]
    mod = _import_user_module(module)
    fn = getattr(mod, factory, None)
    if not callable(fn):
        raise InputError(
            f"reference {key!r}: module {module!r} has no callable {factory!r}; give "
            "<module>:<function returning an ASE calculator>."
        )
    try:
        calc = fn(**options)
    except Exception as exc:
        raise UserCodeError(f"factory {key!r}", exc) from exc
    if not callable(getattr(calc, "get_forces", None)):
        raise InputError(
            f"reference {key!r}: the factory returned {type(calc).__name__}, not an ASE "
            "calculator (an object with get_potential_energy / get_forces)."
        )
    _USER_CALCULATORS[cache_key] = calc
    return calc


def _check_options(name: str, kind: str, options: dict[str, Any]) -> None:
    if kind == "user":
        return  # passed to the user's factory, which checks them
    allowed = REFERENCE_OPTIONS["pyscf" if kind == "pyscf" else name]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        valid = ", ".join(allowed) if allowed else "none"
        raise InputError(
            f"reference {name!r}: unknown option(s) {', '.join(unknown)}. Valid options: {valid}."
        )


def check_reference(name: str, options: dict[str, Any] | None = None) -> str:
    """Validate a reference name and its options before any frame is labelled; returns
    the name normalised.

    Unknown names or options and unknown PySCF functionals/basis sets raise
    :class:`~geodl.errors.InputError`, a missing optional package
    :class:`~geodl.errors.MissingExtraError`; a ``<module>:<factory>`` is imported and
    called once, and a factory that raises gives :class:`~geodl.errors.UserCodeError`.

    Examples
    --------
    >>> check_reference(" emt ")
    'emt'
    >>> check_reference("lj", {"cutoff": 9.0})
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: reference 'lj': unknown option(s) cutoff. Valid options: ...
    """
    options = dict(options or {})
    kind, params = parse_reference(name)
    name = name.strip()
    _check_options(name, kind, options)
    if kind == "pyscf":
        try:
            check_pyscf_method(*params)
        except ValueError as exc:
            raise InputError(f"reference {name!r}: {exc}") from None
    elif kind == "user":
        _user_calculator(*params, **options)
    elif name in XTB_METHODS:
        from geodl.extras import require

        require("qm", f"the {name} reference", ("tblite",))
    elif name == "mmff94":
        from geodl.extras import require

        require("rdkit", "the mmff94 reference")
    return name


def reference_calculator(name: str, atoms: Atoms | None = None, **options: Any) -> Calculator:
    """A reference calculator by name, set up for the frame ``atoms`` when given.

    Names (:func:`reference_names`): ``emt`` (ASE's EMT: H, C, N, O, Al, Ni, Cu, Pd, Ag,
    Pt, Au), ``lj`` / ``lj-argon`` (Lennard-Jones, argon's parameters), ``mmff94``
    (RDKit; topology from ``mol=`` or perceived from ``atoms``, see
    :func:`mmff94_molecule`), ``gfn2-xtb`` / ``gfn1-xtb`` (tblite; charge and spin from
    ``atoms.info``), ``pyscf:<functional>/<basis>`` (molecules; analytic forces) and
    ``<module>:<factory>`` (any ASE calculator: ``factory(**options)`` is called once
    per process and its calculator reused). ``options`` are those of
    :data:`REFERENCE_OPTIONS`.

    Examples
    --------
    >>> from ase.build import bulk
    >>> atoms = bulk("Cu", cubic=True)
    >>> atoms.calc = reference_calculator("emt")
    >>> round(float(atoms.get_potential_energy()), 3)
    -0.023
    """
    kind, params = parse_reference(name)
    _check_options(name.strip(), kind, options)
    if kind == "builtin":
        return REFERENCE_CALCULATORS[params[0]](atoms=atoms, **options)
    if kind == "pyscf":
        return PySCFCalculator(params[0], params[1], **options)
    return _user_calculator(params[0], params[1], **options)


def _all_chem() -> Any:
    """``rdkit.Chem.AllChem`` (its stubs miss most of its functions: typed as ``Any``)."""
    import importlib

    return importlib.import_module("rdkit.Chem.AllChem")
