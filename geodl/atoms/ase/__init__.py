"""geodl.atoms.ase — the trained model inside ASE: calculator, molecular dynamics,
reference calculators that label data, and the recipes of the bundled datasets."""

from geodl.atoms.ase._calculator import GeoDLCalculator
from geodl.atoms.ase._md import ENSEMBLES, MDResult, energy_drift, run_md, thermalize
from geodl.atoms.ase._recipes import (
    MOLECULES,
    make_argon_lj,
    make_cuau_emt,
    make_molecule_mmff94,
    sample_md,
)
from geodl.atoms.ase._reference import (
    KCAL_PER_MOL,
    REFERENCE_CALCULATORS,
    MMFF94Calculator,
    molecule_from_smiles,
    reference_calculator,
)

__all__ = [
    "ENSEMBLES",
    "KCAL_PER_MOL",
    "MOLECULES",
    "REFERENCE_CALCULATORS",
    "GeoDLCalculator",
    "MDResult",
    "MMFF94Calculator",
    "energy_drift",
    "make_argon_lj",
    "make_cuau_emt",
    "make_molecule_mmff94",
    "molecule_from_smiles",
    "reference_calculator",
    "run_md",
    "sample_md",
    "thermalize",
]
