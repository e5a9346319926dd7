"""geodl.atoms.train — the training configuration, the trainer and its reports."""

from geodl.atoms.train._config import (
    DataConfig,
    LossConfig,
    TrainConfig,
    TrainingConfig,
    load_config,
    resolve_key,
    valid_keys,
)
from geodl.atoms.train._plots import plot_learning_curves, plot_parity
from geodl.atoms.train._trainer import (
    Trainer,
    TrainResult,
    atomic_save,
    evaluate,
    format_metrics,
    init_distributed,
    refit_energy_shift,
    train,
)

__all__ = [
    "DataConfig",
    "LossConfig",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingConfig",
    "atomic_save",
    "evaluate",
    "format_metrics",
    "init_distributed",
    "load_config",
    "plot_learning_curves",
    "plot_parity",
    "refit_energy_shift",
    "resolve_key",
    "train",
    "valid_keys",
]
