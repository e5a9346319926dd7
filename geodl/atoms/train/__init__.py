"""geodl.atoms.train — training potentials: the configuration, the trainer and its parts.

* ``_config`` / ``_parse`` — the YAML config, ``--set`` overrides, the option schema;
* ``_trainer`` — :class:`Trainer` (set-up, the end of a run) and :class:`TrainResult`;
  ``_run`` — :func:`train` (read the data, train into ``out``);
* ``_task`` — what the shared loop (:class:`geodl.training.TrainLoop`) needs to know about
  potentials; ``_loss`` — the DeePMD loss; ``_metrics`` — :func:`evaluate`;
* ``_checkpoint`` — checkpoints and the continue / start-over / complete decision;
* ``_report`` / ``_plots`` — the table, ``log.csv``, the progress bar, the PNG plots.
"""

from geodl.atoms.train._checkpoint import config_differences
from geodl.atoms.train._config import (
    DataConfig,
    LossConfig,
    TrainConfig,
    TrainingConfig,
    load_config,
    resolve_key,
    suspicious_values,
    valid_keys,
)
from geodl.atoms.train._loss import PotentialLoss, TrainingDiverged
from geodl.atoms.train._metrics import evaluate, format_metrics, refit_energy_shift
from geodl.atoms.train._plots import plot_learning_curves, plot_parity, time_a_plot
from geodl.atoms.train._results import TrainResult
from geodl.atoms.train._run import load_datasets, train
from geodl.atoms.train._trainer import Trainer
from geodl.training import (
    SuspiciousValueWarning,
    TrainingInterrupted,
    atomic_save,
    init_distributed,
    resolve_device,
)

__all__ = [
    "DataConfig",
    "LossConfig",
    "PotentialLoss",
    "SuspiciousValueWarning",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingConfig",
    "TrainingDiverged",
    "TrainingInterrupted",
    "atomic_save",
    "config_differences",
    "evaluate",
    "format_metrics",
    "init_distributed",
    "load_config",
    "load_datasets",
    "plot_learning_curves",
    "plot_parity",
    "refit_energy_shift",
    "resolve_device",
    "resolve_key",
    "suspicious_values",
    "time_a_plot",
    "train",
    "valid_keys",
]
