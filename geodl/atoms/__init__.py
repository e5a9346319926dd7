"""geodl.atoms — interatomic potentials trained through ASE.

Rooms, each with one job (``docs/architecture.md``):

* :mod:`geodl.atoms.model` — model families behind one ``model.type`` registry
  (``se_e2_a``: DeepPot-SE), the shared energy/forces/stress head, safe model files;
* :mod:`geodl.atoms.data` — labelled structures, splits, graphs;
* :mod:`geodl.atoms.train` — the training configuration, the trainer, its reports;
* :mod:`geodl.atoms.ase` — the ASE calculator, MD, reference calculators, dataset recipes.

The names below are re-exported here so that ``from geodl.atoms import X`` keeps working;
geometry shared with point clouds lives in :mod:`geodl.geometry`. Needs the ``atoms``
extra (``pip install 'geodl[atoms]'``).
"""

from geodl.extras import require

require("atoms", "geodl.atoms")

# ruff: noqa: E402 (the extra is checked before anything imports it)

from geodl.atoms.ase import (
    GeoDLCalculator,
    MDResult,
    MMFF94Calculator,
    energy_drift,
    make_argon_lj,
    make_cuau_emt,
    make_molecule_mmff94,
    molecule_from_smiles,
    reference_calculator,
    run_md,
)
from geodl.atoms.data import AtomsDataset, atoms_to_graph, bundled_dataset, read_structures
from geodl.atoms.model import (
    MODEL_TYPES,
    AtomicFitting,
    AtomisticModel,
    AtomsEnergyFunction,
    EnergyModel,
    EnergyModelConfig,
    EquivariantConfig,
    ModelConfig,
    PotentialCore,
    SeE2AConfig,
    compress_model,
    compression_errors,
    load_model,
    model_config_from_dict,
    resolve_model_type,
    save_model,
)
from geodl.atoms.train import (
    DataConfig,
    LossConfig,
    TrainConfig,
    Trainer,
    TrainingConfig,
    TrainResult,
    evaluate,
    format_metrics,
    load_config,
    plot_learning_curves,
    plot_parity,
    refit_energy_shift,
    train,
)
from geodl.geometry import SeADescriptor, environment_matrix, neighbor_list, smooth_switch
from geodl.nn import ResidualMLP

__all__ = [
    # model
    "MODEL_TYPES",
    "AtomicFitting",
    "AtomisticModel",
    "AtomsEnergyFunction",
    "EnergyModel",
    "EnergyModelConfig",
    "EquivariantConfig",
    "ModelConfig",
    "PotentialCore",
    "SeE2AConfig",
    "compress_model",
    "compression_errors",
    "load_model",
    "model_config_from_dict",
    "resolve_model_type",
    "save_model",
    # geometry (re-exported from geodl.geometry / geodl.nn for old import paths)
    "ResidualMLP",
    "SeADescriptor",
    "environment_matrix",
    "neighbor_list",
    "smooth_switch",
    # data
    "AtomsDataset",
    "atoms_to_graph",
    "bundled_dataset",
    "read_structures",
    # training
    "DataConfig",
    "LossConfig",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingConfig",
    "evaluate",
    "format_metrics",
    "load_config",
    "plot_learning_curves",
    "plot_parity",
    "refit_energy_shift",
    "train",
    # ASE
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
]
