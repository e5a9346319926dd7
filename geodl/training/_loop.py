r"""The epoch loop shared by every trainer in geodl (potentials, point clouds, the
classic benchmarks).

One optimiser step is

.. math::

    g = \nabla_\theta L(\text{batch}),\quad
    g \leftarrow g\,\min\!\big(1, c/\|g\|\big),\quad
    \theta \leftarrow \text{opt}(\theta, g, \eta(p)),\quad
    \bar\theta \leftarrow \text{EMA}(\bar\theta, \theta)

with the learning rate :math:`\eta` a function of the run progress :math:`p` (or a torch
scheduler stepped once per step), gradient clipping at :math:`c` and the EMA optional.
Around the steps the loop owns what every trainer needs alike: epochs, the wall-clock
budget, validation every ``valid_every`` epochs (with the EMA weights), early stopping on
the validation score, best-state tracking, checkpoints at epoch ends and every
``checkpoint_every_s`` seconds, and a clean stop on SIGTERM / SIGINT. What differs
between trainers — the batches, the loss, the metrics, what a checkpoint holds — is a
:class:`TrainTask`.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from geodl.training._budget import Budget, run_progress
from geodl.training._distributed import sync_stop
from geodl.training._ema import EMA
from geodl.training._signals import GracefulStop, TrainingInterrupted

__all__ = ["LoopState", "TrainLoop", "TrainTask"]


@dataclass
class LoopState:
    """Where a run stands (what a checkpoint must hold to continue it).

    Attributes
    ----------
    epoch : int
        Completed epochs.
    step : int
        Optimiser steps done.
    batch : int
        Steps done in the current, unfinished epoch (0 at an epoch boundary).
    sums : dict
        Sums over the current (or just completed) epoch of the statistics each step
        returns, and ``"steps"``: the steps they sum over.
    best_score : float
        Lowest validation score so far.
    bad_epochs : int
        Validations since the last improvement.
    history : list of dict
        One row per validation (the task writes them).
    stop_reason : str or None
        ``"epochs"``, ``"max_time"`` or ``"early_stopping"`` once stopped.
    """

    epoch: int = 0
    step: int = 0
    batch: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    best_score: float = math.inf
    bad_epochs: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    stop_reason: str | None = None


class TrainTask:
    """What a trainer tells :class:`TrainLoop`; every hook but :meth:`batches` and
    :meth:`step` is optional."""

    def batches(self, state: LoopState) -> Sequence[Any] | Iterable[Any]:
        """The batches of epoch ``state.epoch`` (all of them; the loop skips the first
        ``state.batch`` when it continues a mid-epoch checkpoint)."""
        raise NotImplementedError

    def step(self, batch: Any, lr: float) -> Mapping[str, float]:
        """Forward and backward on ``batch`` (gradients accumulate in the parameters);
        returns statistics that the loop sums over the epoch into ``state.sums``."""
        raise NotImplementedError

    def begin_epoch(self, state: LoopState, n_batches: int) -> None:
        """Called before the first step of an epoch (progress bars)."""

    def after_step(self, state: LoopState, stats: Mapping[str, float], lr: float) -> None:
        """Called after each optimiser step."""

    def end_epoch(self, state: LoopState) -> None:
        """Called when an epoch's steps end, completed or not."""

    def validate(self, state: LoopState) -> float | None:
        """Validation score, lower is better (runs with the EMA weights); ``None``: no
        score (no early stopping, no best state)."""
        return None

    def on_best(self, state: LoopState) -> None:
        """The weights (EMA ones when on) just reached the best score."""

    def record(self, state: LoopState, completed: bool, improved: bool) -> None:
        """After a validation: append a row to ``state.history``, log it."""

    def save(self, state: LoopState) -> None:
        """Write a checkpoint of ``state`` (epoch ends, intervals, signals)."""

    def after_record(self, state: LoopState) -> None:
        """After the row and the checkpoint (user callbacks)."""

    def reserve(self) -> float:
        """Seconds of the budget to keep for what follows the loop and for a validation."""
        return 0.0


class TrainLoop:
    """Run a :class:`TrainTask` for ``epochs`` (see the module docstring).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        Its parameter groups get the learning rate ``lr_at(p)`` before each step.
    epochs : int
        Epochs to run in all (a resumed state counts its completed ones).
    params : list of Tensor, optional
        Parameters to clip (default: the optimiser's).
    lr_at : callable, optional
        Progress :math:`p \\in [0, 1]` -> learning rate.
    scheduler : torch LR scheduler, optional
        Stepped after each optimiser step (instead of ``lr_at``).
    steps_per_epoch : int
        For the progress :math:`p` (only with ``lr_at``).
    grad_clip : float, optional
        Clip the global gradient norm.
    ema : EMA, optional
        Updated after each step; validation runs with its weights.
    budget : Budget, optional
        Wall-clock accounting; its ``max_time`` stops the run.
    patience : int, optional
        Stop after this many validations without improvement.
    valid_every : int
        Validate every this many epochs (and at the last one).
    checkpoint_every_s : float, optional
        Also checkpoint mid-epoch when this many seconds passed since the last one.
    stop : GracefulStop, optional
        Checked before each step; a signal checkpoints and raises
        :class:`TrainingInterrupted`.
    sync : callable
        ``(out_of_time, interrupted) -> (out_of_time, interrupted)`` agreed by all ranks.

    Examples
    --------
    >>> model = torch.nn.Linear(1, 1)
    >>> x = torch.linspace(-1, 1, 8).unsqueeze(1)
    >>> class Fit(TrainTask):
    ...     def batches(self, state):
    ...         return [(x, 3 * x)]
    ...     def step(self, batch, lr):
    ...         loss = ((model(batch[0]) - batch[1]) ** 2).mean()
    ...         loss.backward()
    ...         return {"loss": float(loss.detach())}
    >>> loop = TrainLoop(torch.optim.SGD(model.parameters(), lr=0.5), epochs=50)
    >>> state = loop.run(Fit())
    >>> state.stop_reason, state.step, round(model.weight.item(), 2)
    ('epochs', 50, 3.0)
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        epochs: int,
        params: Sequence[Tensor] | None = None,
        lr_at: Callable[[float], float] | None = None,
        scheduler: Any = None,
        steps_per_epoch: int = 1,
        grad_clip: float | None = None,
        ema: EMA | None = None,
        budget: Budget | None = None,
        patience: int | None = None,
        valid_every: int = 1,
        checkpoint_every_s: float | None = None,
        stop: GracefulStop | None = None,
        sync: Callable[[bool, bool], tuple[bool, bool]] = sync_stop,
    ) -> None:
        self.optimizer = optimizer
        self.epochs = int(epochs)
        self.params = list(params) if params is not None else _params_of(optimizer)
        self.lr_at = lr_at
        self.scheduler = scheduler
        self.steps_per_epoch = max(int(steps_per_epoch), 1)
        self.grad_clip = grad_clip
        self.ema = ema
        self.budget = budget or Budget(None)
        self.patience = patience
        self.valid_every = int(valid_every)
        self.checkpoint_every_s = checkpoint_every_s
        self.stop = stop
        self.sync = sync
        self._step_time = 0.0
        self._progress = 0.0
        self._last_save = time.perf_counter()

    def __repr__(self) -> str:
        return (
            f"TrainLoop(epochs={self.epochs}, grad_clip={self.grad_clip}, ema={self.ema}, "
            f"budget={self.budget}, patience={self.patience}, valid_every={self.valid_every})"
        )

    # ------------------------------------------------------------------ the algorithm
    def run(self, task: TrainTask, state: LoopState | None = None) -> LoopState:
        """Epochs until ``epochs``, the budget, early stopping or a signal."""
        state = state if state is not None else LoopState()
        if self._patience_spent(state) and state.epoch > 0:
            state.stop_reason = "early_stopping"  # a resumed run that had stopped early
        self._last_save = time.perf_counter()
        while state.stop_reason is None and state.epoch < self.epochs:
            started = state.batch
            completed = self._run_epoch(task, state)
            if completed:
                state.epoch, state.batch = state.epoch + 1, 0
                if not self._validation_due(state):
                    self._save(task, state)  # no completed epoch is lost
                    continue
            elif state.batch == started and state.history:
                break  # stopped before any step of this epoch: nothing new to validate
            self._close_epoch(task, state, completed)
            if not completed:
                break
            if self._patience_spent(state):
                state.stop_reason = "early_stopping"
            elif self._out_of_time(task, state, ahead=0.0):
                state.stop_reason = "max_time"
        state.stop_reason = state.stop_reason or "epochs"
        return state

    # ------------------------------------------------------------------ one epoch
    def _run_epoch(self, task: TrainTask, state: LoopState) -> bool:
        """The steps of one epoch; False when the budget or a signal cut it short."""
        if state.batch == 0:
            state.sums = {}
        batches = task.batches(state)
        n_batches = len(batches) if isinstance(batches, Sequence) else self.steps_per_epoch
        task.begin_epoch(state, n_batches)
        try:
            for b, batch in enumerate(batches):
                if b < state.batch:
                    continue  # done before the checkpoint this run continues from
                if self._out_of_time(task, state, ahead=self._step_time + task.reserve()):
                    state.stop_reason = "max_time"
                    return False
                self._step(task, state, batch)
                state.batch = b + 1
                if state.batch < n_batches and self._interval_elapsed():
                    self._save(task, state)  # the epoch's end saves anyway
        finally:
            task.end_epoch(state)
        return True

    def _step(self, task: TrainTask, state: LoopState, batch: Any) -> None:
        t0 = self.budget.elapsed()
        lr = self._learning_rate(task, state)
        self.optimizer.zero_grad(set_to_none=True)
        stats = task.step(batch, lr)
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.grad_clip)
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        state.step += 1
        if self.ema is not None:
            self.ema.update(state.step)
        state.sums["steps"] = state.sums.get("steps", 0) + 1
        for key, value in stats.items():
            state.sums[key] = state.sums.get(key, 0.0) + value
        task.after_step(state, stats, lr)
        self._step_time = self.budget.elapsed() - t0

    def _learning_rate(self, task: TrainTask, state: LoopState) -> float:
        """``lr_at(p)``; under a budget the time fraction is of the time left for training
        (the budget less the task's reserve), and ``p`` never decreases."""
        if self.lr_at is None:
            return float(self.optimizer.param_groups[0]["lr"])
        total = self.epochs * self.steps_per_epoch
        limit = self.budget.max_time
        if limit is not None:
            limit = max(limit - task.reserve(), 1e-3 * limit)
        p = max(self._progress, run_progress(state.step, total, self.budget.elapsed(), limit))
        self._progress = p
        lr = self.lr_at(p)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    # ------------------------------------------------------------------ epoch ends
    def _close_epoch(self, task: TrainTask, state: LoopState, completed: bool) -> None:
        averaged = self.ema.swapped() if self.ema is not None else contextlib.nullcontext()
        improved = False
        with averaged:
            score = task.validate(state)
            if score is not None:
                improved = score < state.best_score
                if improved:
                    state.best_score, state.bad_epochs = score, 0
                    task.on_best(state)
                else:
                    state.bad_epochs += 1
        task.record(state, completed, improved)
        if completed:
            self._save(task, state)
        task.after_record(state)

    def _validation_due(self, state: LoopState) -> bool:
        return state.epoch % self.valid_every == 0 or state.epoch >= self.epochs

    def _patience_spent(self, state: LoopState) -> bool:
        return self.patience is not None and state.bad_epochs >= self.patience

    # ------------------------------------------------------------------ stops, saves
    def _out_of_time(self, task: TrainTask, state: LoopState, ahead: float) -> bool:
        """Agreed by all ranks; a signal checkpoints and raises here."""
        if self.budget.max_time is None and self.stop is None:
            return False
        out_of_time = self.budget.exhausted(ahead)
        interrupted = self.stop is not None and self.stop.requested
        out_of_time, interrupted = self.sync(out_of_time, interrupted)
        if interrupted:
            self._interrupt(task, state)
        return out_of_time

    def _interrupt(self, task: TrainTask, state: LoopState) -> None:
        self._save(task, state)
        signum = self.stop.signum if self.stop is not None and self.stop.signum else 15
        raise TrainingInterrupted(
            signum, "the checkpoint is written; run the same command again to continue."
        )

    def _interval_elapsed(self) -> bool:
        every = self.checkpoint_every_s
        return every is not None and time.perf_counter() - self._last_save >= every

    def _save(self, task: TrainTask, state: LoopState) -> None:
        task.save(state)
        self._last_save = time.perf_counter()


def _params_of(optimizer: torch.optim.Optimizer) -> list[Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]
