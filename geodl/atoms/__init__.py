"""geodl.atoms — DeepPot-SE interatomic potentials: neighbour lists, descriptor, energy
model with forces and stress, graphs from ASE, safe model files."""

from geodl.atoms._calculator import GeoDLCalculator
from geodl.atoms._config import EnergyModelConfig
from geodl.atoms._data import AtomsDataset, bundled_dataset, read_structures
from geodl.atoms._descriptor import SeADescriptor
from geodl.atoms._environment import environment_matrix
from geodl.atoms._fitting import AtomicFitting
from geodl.atoms._graph import atoms_to_graph
from geodl.atoms._io import load_model, save_model
from geodl.atoms._layers import ResidualMLP
from geodl.atoms._md import MDResult, energy_drift, run_md
from geodl.atoms._model import AtomsEnergyFunction, EnergyModel
from geodl.atoms._neighbors import neighbor_list
from geodl.atoms._plots import plot_learning_curves, plot_parity
from geodl.atoms._recipes import make_argon_lj, make_cuau_emt, make_molecule_mmff94
from geodl.atoms._reference import MMFF94Calculator, molecule_from_smiles, reference_calculator
from geodl.atoms._switching import smooth_switch
from geodl.atoms._train_config import (
    DataConfig,
    LossConfig,
    TrainConfig,
    TrainingConfig,
    load_config,
)
from geodl.atoms._trainer import (
    Trainer,
    TrainResult,
    evaluate,
    format_metrics,
    refit_energy_shift,
    train,
)

__all__ = [
    "AtomicFitting",
    "AtomsEnergyFunction",
    "EnergyModel",
    "EnergyModelConfig",
    "ResidualMLP",
    "SeADescriptor",
    "atoms_to_graph",
    "environment_matrix",
    "load_model",
    "neighbor_list",
    "save_model",
    "smooth_switch",
    # training side
    "AtomsDataset",
    "DataConfig",
    "GeoDLCalculator",
    "LossConfig",
    "MDResult",
    "MMFF94Calculator",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingConfig",
    "bundled_dataset",
    "energy_drift",
    "evaluate",
    "format_metrics",
    "load_config",
    "make_argon_lj",
    "make_cuau_emt",
    "make_molecule_mmff94",
    "molecule_from_smiles",
    "plot_learning_curves",
    "plot_parity",
    "read_structures",
    "reference_calculator",
    "refit_energy_shift",
    "run_md",
    "train",
]
