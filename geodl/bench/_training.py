"""Minimal, deterministic training loops shared by the classic benchmarks (private)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from geodl.data import Split
from geodl.errors import InputError
from geodl.training import LoopState, TrainLoop, TrainTask

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@torch.no_grad()
def _predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    model.eval()
    out = torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train()
    return out


def _optimizer(
    model: nn.Module, lr: float, weight_decay: float, steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=max(steps, 1), pct_start=0.15
    )
    return opt, sched


def fit(
    model: nn.Module,
    data: Split,
    *,
    task: str,
    epochs: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    augment: Augment | None = None,
    grad_clip: float | None = None,
    label_smoothing: float = 0.0,
) -> dict[str, Any]:
    """Train ``model`` on ``data`` with AdamW + one-cycle schedule and evaluate once at the
    end on the test split.

    ``task`` is ``"classification"`` (cross-entropy; reports ``test_accuracy``) or
    ``"regression"`` (MSE; reports ``test_mse``). Returns the metrics plus ``params``,
    ``seconds`` (training wall time) and ``epochs``.
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"fit: 'task' must be 'classification' or 'regression', got {task!r}.")
    gen = torch.Generator().manual_seed(seed)
    n = len(data.x_train)
    steps_per_epoch = (n + batch_size - 1) // batch_size
    opt, sched = _optimizer(model, lr, weight_decay, epochs * steps_per_epoch)
    if task == "classification":
        loss_fn: nn.Module = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    else:
        loss_fn = nn.MSELoss()
    model.train()
    start = time.perf_counter()
    supervised = _Supervised(model, data, loss_fn, task, batch_size, gen, augment)
    loop = TrainLoop(opt, epochs=epochs, scheduler=sched, grad_clip=grad_clip)
    loop.run(supervised)
    seconds = time.perf_counter() - start
    pred_test = _predict(model, data.x_test)
    pred_train = _predict(model, data.x_train)
    result: dict[str, Any] = {}
    if task == "classification":
        result["test_accuracy"] = float((pred_test.argmax(-1) == data.y_test).float().mean())
        result["train_accuracy"] = float((pred_train.argmax(-1) == data.y_train).float().mean())
    else:
        err = pred_test.reshape(data.y_test.shape) - data.y_test
        result["test_mse"] = float((err**2).mean())
        result["train_mse"] = float(
            ((pred_train.reshape(data.y_train.shape) - data.y_train) ** 2).mean()
        )
    result.update(params=count_params(model), seconds=round(seconds, 2), epochs=epochs)
    return result


class _Supervised(TrainTask):
    """Mini-batches of a shuffled tensor data set (one permutation per epoch, drawn from
    ``gen``, which the augmentation then also uses)."""

    def __init__(
        self,
        model: nn.Module,
        data: Split,
        loss_fn: nn.Module,
        task: str,
        batch_size: int,
        gen: torch.Generator,
        augment: Augment | None,
    ) -> None:
        self.model, self.data, self.loss_fn, self.task = model, data, loss_fn, task
        self.batch_size, self.gen, self.augment = batch_size, gen, augment

    def batches(self, state: LoopState) -> list[torch.Tensor]:
        n = len(self.data.x_train)
        order = torch.randperm(n, generator=self.gen)
        return [order[i : i + self.batch_size] for i in range(0, n, self.batch_size)]

    def step(self, idx: torch.Tensor, lr: float) -> dict[str, float]:
        xb, yb = self.data.x_train[idx], self.data.y_train[idx]
        if self.augment is not None:
            xb = self.augment(xb, self.gen)
        out = self.model(xb)
        loss = self.loss_fn(out.reshape(yb.shape) if self.task == "regression" else out, yb)
        loss.backward()
        return {}


def train_steps(
    loss_of: Callable[[], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    steps: int,
    *,
    scheduler: Any = None,
    grad_clip: float | None = None,
) -> None:
    """``steps`` optimiser steps, each on the loss ``loss_of()`` returns (a fresh batch,
    or the full data set), through the shared :class:`~geodl.training.TrainLoop`."""

    class _Steps(TrainTask):
        def batches(self, state: LoopState) -> list[None]:
            return [None]

        def step(self, batch: None, lr: float) -> dict[str, float]:
            loss_of().backward()
            return {}

    TrainLoop(optimizer, epochs=steps, scheduler=scheduler, grad_clip=grad_clip).run(_Steps())


class num_threads:  # noqa: N801 - used as a context manager
    """Set ``torch.set_num_threads(n)`` inside a ``with`` block and restore it afterwards;
    ``n = 0`` keeps torch's default."""

    def __init__(self, n: int) -> None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InputError(f"threads must be an integer >= 0 (0: torch's default), got {n!r}.")
        self.n, self.old = n, torch.get_num_threads()

    def __enter__(self) -> None:
        self.old = torch.get_num_threads()
        if self.n > 0:
            torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.old)
