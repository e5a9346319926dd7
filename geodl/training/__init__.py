"""geodl.training — the training machinery every model family shares.

* :class:`TrainLoop` / :class:`TrainTask` — the one epoch loop: optimiser and schedule,
  gradient clipping, EMA, validation, early stopping, best state, wall-clock budget,
  checkpoints at epoch ends and on a time interval, clean stop on SIGTERM / SIGINT;
* :class:`EMA`, :class:`Budget`, :func:`run_progress`, :func:`exponential_decay`;
* atomic files (:func:`atomic_save`, :func:`remove_stale_tmp`, :func:`load_state_file`)
  and the random states (:func:`get_rng_state`);
* :func:`init_distributed`, :func:`sync_stop` for ``torchrun``;
* the option schema (:class:`Bound`, :func:`bounded`, :func:`validate_fields`).

It sits on the ``nn`` layer: it knows nothing of atoms, point clouds or the CLI.
"""

from geodl.training._atomic import (
    atomic_save,
    atomic_write,
    atomic_write_text,
    load_state_file,
    read_torch_file,
    remove_stale_tmp,
)
from geodl.training._budget import Budget, exponential_decay, run_progress
from geodl.training._device import resolve_device
from geodl.training._distributed import init_distributed, rank_and_world, sync_stop
from geodl.training._ema import EMA
from geodl.training._loop import LoopState, TrainLoop, TrainTask
from geodl.training._rng import get_rng_state, set_rng_state
from geodl.training._schema import (
    Bound,
    SuspiciousValueWarning,
    bounded,
    validate_fields,
    warn,
)
from geodl.training._signals import GracefulStop, TrainingInterrupted

__all__ = [
    "EMA",
    "Bound",
    "Budget",
    "GracefulStop",
    "LoopState",
    "SuspiciousValueWarning",
    "TrainLoop",
    "TrainTask",
    "TrainingInterrupted",
    "atomic_save",
    "atomic_write",
    "atomic_write_text",
    "bounded",
    "exponential_decay",
    "get_rng_state",
    "init_distributed",
    "load_state_file",
    "rank_and_world",
    "read_torch_file",
    "remove_stale_tmp",
    "resolve_device",
    "run_progress",
    "set_rng_state",
    "sync_stop",
    "validate_fields",
    "warn",
]
