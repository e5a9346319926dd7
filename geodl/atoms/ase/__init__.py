"""geodl.atoms.ase — the trained model inside ASE: calculator, molecular dynamics,
reference calculators that label data, and the recipes of the bundled datasets."""

from geodl.atoms.ase._calculator import GeoDLCalculator
from geodl.atoms.ase._md import ENSEMBLES, MDResult, energy_drift, run_md, thermalize
from geodl.atoms.ase._qm import PySCFCalculator, charge_and_spin, xtb_calculator
from geodl.atoms.ase._recipes import (
    MOLECULES,
    make_argon_lj,
    make_cuau_emt,
    make_molecule_mmff94,
    make_molecule_xtb,
    sample_md,
)
from geodl.atoms.ase._reference import (
    KCAL_PER_MOL,
    REFERENCE_CALCULATORS,
    REFERENCE_OPTIONS,
    REFERENCE_PATTERNS,
    MMFF94Calculator,
    check_reference,
    mmff94_molecule,
    molecule_from_smiles,
    parse_reference,
    reference_calculator,
    reference_names,
)

__all__ = [
    "ENSEMBLES",
    "KCAL_PER_MOL",
    "MOLECULES",
    "REFERENCE_CALCULATORS",
    "REFERENCE_OPTIONS",
    "REFERENCE_PATTERNS",
    "GeoDLCalculator",
    "MDResult",
    "MMFF94Calculator",
    "PySCFCalculator",
    "charge_and_spin",
    "check_reference",
    "energy_drift",
    "make_argon_lj",
    "make_cuau_emt",
    "make_molecule_mmff94",
    "make_molecule_xtb",
    "mmff94_molecule",
    "molecule_from_smiles",
    "parse_reference",
    "reference_calculator",
    "reference_names",
    "run_md",
    "sample_md",
    "thermalize",
    "xtb_calculator",
]
