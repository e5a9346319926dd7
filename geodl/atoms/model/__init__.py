"""geodl.atoms.model — model families behind one ``model.type`` registry, the shared
energy/forces/stress head, and safe model files."""

from geodl.atoms.model._compress import (
    compress_model,
    compression_errors,
    probe_structures,
    table_error,
)
from geodl.atoms.model._config import DTYPES, EnergyModelConfig, ModelConfig, SeE2AConfig
from geodl.atoms.model._core import PotentialCore
from geodl.atoms.model._equivariant import Equivariant
from geodl.atoms.model._equivariant_config import EquivariantConfig
from geodl.atoms.model._equivariant_layers import (
    EquivariantGate,
    InteractionBlock,
    ProductBasis,
    RadialMLP,
    hidden_irreps,
)
from geodl.atoms.model._finetune import FINETUNE_KEYS, extend_type_map, finetune_model
from geodl.atoms.model._fitting import AtomicFitting
from geodl.atoms.model._io import (
    MODEL_FILE_FORMAT,
    MODEL_FILE_VERSION,
    load_model,
    model_from_state,
    read_torch_file,
    save_model,
)
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
from geodl.atoms.model._size import (
    MAX_PARAMETERS,
    MAX_TRAINING_BYTES,
    ModelSize,
    check_model_size,
    model_size,
)

__all__ = [
    "DEFAULT_MODEL_TYPE",
    "DTYPES",
    "FINETUNE_KEYS",
    "MAX_PARAMETERS",
    "MAX_TRAINING_BYTES",
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
    "ModelSize",
    "PotentialCore",
    "ProductBasis",
    "RadialMLP",
    "SeE2A",
    "SeE2AConfig",
    "check_model_size",
    "compress_model",
    "compression_errors",
    "extend_type_map",
    "finetune_model",
    "hidden_irreps",
    "load_model",
    "model_config_from_dict",
    "model_from_state",
    "model_size",
    "probe_structures",
    "read_torch_file",
    "register_model_type",
    "resolve_model_type",
    "save_model",
    "table_error",
]
