"""geodl.atoms.model — model families behind one ``model.type`` registry, the shared
energy/forces/stress head, and safe model files."""

from geodl.atoms.model._config import (
    DTYPES,
    EnergyModelConfig,
    EquivariantConfig,
    ModelConfig,
    SeE2AConfig,
)
from geodl.atoms.model._core import PotentialCore
from geodl.atoms.model._equivariant import Equivariant
from geodl.atoms.model._equivariant_layers import (
    EquivariantGate,
    InteractionBlock,
    ProductBasis,
    RadialMLP,
    hidden_irreps,
)
from geodl.atoms.model._fitting import AtomicFitting
from geodl.atoms.model._io import MODEL_FILE_FORMAT, MODEL_FILE_VERSION, load_model, save_model
from geodl.atoms.model._model import AtomisticModel, AtomsEnergyFunction, EnergyModel
from geodl.atoms.model._registry import (
    DEFAULT_MODEL_TYPE,
    MODEL_TYPES,
    ModelFamily,
    model_config_from_dict,
    register_model_type,
    resolve_model_type,
)
from geodl.atoms.model._se_e2_a import SeE2A

__all__ = [
    "DEFAULT_MODEL_TYPE",
    "DTYPES",
    "MODEL_FILE_FORMAT",
    "MODEL_FILE_VERSION",
    "MODEL_TYPES",
    "AtomicFitting",
    "AtomisticModel",
    "AtomsEnergyFunction",
    "EnergyModel",
    "EnergyModelConfig",
    "Equivariant",
    "EquivariantConfig",
    "EquivariantGate",
    "InteractionBlock",
    "ModelConfig",
    "ModelFamily",
    "PotentialCore",
    "ProductBasis",
    "RadialMLP",
    "SeE2A",
    "SeE2AConfig",
    "hidden_irreps",
    "load_model",
    "model_config_from_dict",
    "register_model_type",
    "resolve_model_type",
    "save_model",
]
