"""What the shared training loop needs to know about potentials: batches of graphs, the
DeePMD loss on each rank's share, validation metrics, rows of the table, checkpoints,
and the time to keep for the end of the run."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from geodl.atoms.model import save_model
from geodl.atoms.train._checkpoint import CHECKPOINT, LOG, MODEL, PROGRESS, checkpoint_payload
from geodl.atoms.train._config import TrainConfig
from geodl.atoms.train._loss import PotentialLoss, check_finite_gradients
from geodl.atoms.train._metrics import evaluate
from geodl.atoms.train._report import progress_bar, table_row, write_csv
from geodl.training import (
    EMA,
    Budget,
    LoopState,
    TrainTask,
    atomic_save,
    atomic_write,
    atomic_write_text,
    get_rng_state,
)

__all__ = ["PotentialTask", "save_model_atomic"]

#: Seconds between two ``progress.json`` heartbeats.
_HEARTBEAT_S = 5.0


def save_model_atomic(model: Any, path: Path) -> None:
    """:func:`~geodl.atoms.save_model` to ``path`` atomically."""
    atomic_write(path, lambda fh: save_model(model, fh))


class PotentialTask(TrainTask):
    """The potential-specific half of a training run (see the module docstring).

    Parameters
    ----------
    config : TrainConfig
        The run's configuration.
    parts : dict
        ``model``, ``net`` (the model or its DDP wrapper), ``optimizer``, ``ema``,
        ``loss`` (:class:`PotentialLoss`), ``shuffle`` (generator), ``train_graphs``,
        ``valid_graphs``, ``n_test``, ``device``, ``rank``, ``world_size``, ``run_id``.
    budget : Budget
        The run's clock.
    out : Path or None
        Where files go (rank 0 only).
    log : callable
        Progress lines.
    callbacks : list of callables
        ``callback(trainer, row)`` after each validation.
    trainer : Trainer
        Passed to the callbacks.
    """

    def __init__(
        self,
        config: TrainConfig,
        parts: dict[str, Any],
        budget: Budget,
        out: Path | None,
        log: Callable[[str], None],
        callbacks: Sequence[Callable[[Any, dict[str, float]], None]] = (),
        trainer: Any = None,
    ) -> None:
        self.config, self.parts, self.budget = config, parts, budget
        self.model: Any = parts["model"]
        self.loss: PotentialLoss = parts["loss"]
        self.ema: EMA | None = parts["ema"]
        self.out = out if parts["rank"] == 0 else None
        self.log, self.callbacks, self.trainer = log, list(callbacks), trainer
        n_train = len(parts["train_graphs"])
        self.batch_size = min(config.training.batch_size, n_train)
        self.steps_per_epoch = max(1, n_train // self.batch_size)
        self.lr = config.training.lr
        self.metrics: dict[str, Any] = {}
        self.best_state: dict[str, torch.Tensor] | None = None
        self.val_time = 0.0
        self.step_time = 0.0
        self._epoch_shuffle = parts["shuffle"].get_state()
        self._bar: Any = None
        self._last_beat = 0.0

    # ------------------------------------------------------------------ steps
    def batches(self, state: LoopState) -> list[list[Any]]:
        shuffle, graphs, bs = self.parts["shuffle"], self.parts["train_graphs"], self.batch_size
        self._epoch_shuffle = shuffle.get_state()  # a mid-epoch checkpoint replays this
        perm = torch.randperm(len(graphs), generator=shuffle).tolist()
        return [
            [graphs[i] for i in perm[b * bs : (b + 1) * bs]] for b in range(self.steps_per_epoch)
        ]

    def step(self, batch: list[Any], lr: float) -> dict[str, float]:
        t0 = time.perf_counter()
        p = self.parts
        stats = self.loss.backward(p["net"], batch, lr, p["device"], p["rank"], p["world_size"])
        check_finite_gradients(list(self.model.parameters()))
        self.step_time = time.perf_counter() - t0
        return stats

    def begin_epoch(self, state: LoopState, n_batches: int) -> None:
        enabled = self.config.training.progress and self.parts["rank"] == 0
        self._bar = progress_bar(n_batches, state.epoch + 1, enabled)
        if self._bar is not None and state.batch:
            self._bar.update(state.batch)

    def after_step(self, state: LoopState, stats: Any, lr: float) -> None:
        self.lr = lr
        if self._bar is not None:
            self._bar.set_postfix(loss=f"{stats['loss']:.3g}", lr=f"{lr:.2g}", refresh=False)
            self._bar.update(1)
        now = time.perf_counter()
        if self.out is not None and now - self._last_beat >= _HEARTBEAT_S:
            self._last_beat = now
            beat = {
                "run_id": self.parts["run_id"],
                "elapsed": self.budget.elapsed(),
                "epoch": state.epoch,
                "step": state.step,
            }
            atomic_write_text(json.dumps(beat), self.out / PROGRESS)

    def end_epoch(self, state: LoopState) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # ------------------------------------------------------------------ validation
    def validate(self, state: LoopState) -> float:
        t0 = time.perf_counter()
        bs = max(self.batch_size, 8)
        self.metrics = evaluate(self.model, self.parts["valid_graphs"], batch_size=bs)
        self.val_time = time.perf_counter() - t0
        return self.loss.score(self.metrics)

    def on_best(self, state: LoopState) -> None:
        if self.out is not None:
            save_model_atomic(self.model, self.out / MODEL)
        self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def record(self, state: LoopState, completed: bool, improved: bool) -> None:
        m, sums = self.metrics, state.sums
        row = {
            "epoch": state.epoch if completed else state.epoch + state.batch / self.steps_per_epoch,
            "lr": self.lr,
            "loss": sums.get("loss", 0.0) / max(sums.get("steps", 0), 1),
            "train_f_rmse": 1e3 * math.sqrt(sums.get("f", 0.0) / max(sums.get("nf", 0), 1)),
            "valid_e_mae": 1e3 * m["energy_mae_per_atom"],
            "valid_e_rmse": 1e3 * m["energy_rmse_per_atom"],
            "valid_f_mae": 1e3 * m["forces_mae"],
            "valid_f_rmse": 1e3 * m["forces_rmse"],
            "valid_s_rmse": 1e3 * m.get("stress_rmse", float("nan")),
            "time": self.budget.elapsed(),
        }
        state.history.append(row)
        self.log(table_row(row, improved))
        if self.out is not None:
            write_csv(state.history, self.out / LOG)

    def after_record(self, state: LoopState) -> None:
        for callback in self.callbacks:
            callback(self.trainer, state.history[-1])

    # ------------------------------------------------------------------ files, time
    def checkpoint(self, state: LoopState) -> dict[str, Any]:
        """The checkpoint of ``state``: mid-epoch, the shuffling generator as it was when
        the epoch began (the resumed run draws the same order and skips the done part)."""
        shuffle = self._epoch_shuffle if state.batch else self.parts["shuffle"].get_state()
        parts = {
            **self.parts,
            "rng": {"shuffle": shuffle, **get_rng_state()},
            "elapsed": self.budget.elapsed(),
        }
        return checkpoint_payload(self.config, parts, state)

    def save(self, state: LoopState) -> None:
        if self.out is not None:
            atomic_save(self.checkpoint(state), self.out / CHECKPOINT)

    def reserve(self) -> float:
        """A validation of a cut-short epoch, then the end of the run: the final
        evaluation (validation and test sets), the energy-shift refit (a forward pass
        over the training set) and the plots (timed when the run started); 20 % margin."""
        n_valid = max(len(self.parts["valid_graphs"]), 1)
        n_train = len(self.parts["train_graphs"])
        val = self.val_time or self.step_time * math.ceil(n_valid / self.batch_size)
        per_structure = val / n_valid
        final = per_structure * (n_valid + self.parts["n_test"])
        if self.config.training.refit_energy_shift:
            final += 0.5 * per_structure * n_train
        if self.config.training.plots and self.out is not None:
            final += self.parts.get("plot_seconds", 0.0)
        return 1.2 * (val + final)
