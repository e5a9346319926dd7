"""``geodl bench adding``: the adding problem (Hochreiter & Schmidhuber 1997).

Two input channels (values, markers), target = sum of the two marked values, sequence
length T (default 100). Predicting the constant 1 scores MSE 1/6 ~ 0.167; the LSTM must
get below 0.01, the vanilla RNN stays near the baseline (vanishing gradients over T steps).
"""

from __future__ import annotations

import time
from typing import Any

import torch
from torch import nn

from geodl.bench._training import count_params, num_threads, train_steps
from geodl.data import adding_problem
from geodl.nn import LSTM, VanillaRNN

BASELINE_MSE = 1.0 / 6.0
TARGETS = {"lstm": 0.01}
_MODELS = ("lstm", "rnn", "lstm_lecture")


def _build(name: str, hidden: int) -> nn.Module:
    if name == "lstm":
        return LSTM(2, hidden, 1, readout="last", forget_bias=1.0)
    if name == "lstm_lecture":
        return LSTM(2, hidden, 1, variant="lecture", readout="last", forget_bias=1.0)
    return VanillaRNN(2, hidden, 1, bias=True, readout="last")


def _train(
    model: nn.Module,
    length: int,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.05)
    start = time.perf_counter()

    def loss_of() -> torch.Tensor:
        x, y = adding_problem(batch_size, length, generator=gen)  # fresh data every step
        return ((model(x).squeeze(-1) - y) ** 2).mean()

    train_steps(loss_of, opt, steps, scheduler=sched, grad_clip=1.0)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        pred = torch.cat(
            [model(x_test[i : i + 500]).squeeze(-1) for i in range(0, len(x_test), 500)]
        )
    mse = float(((pred - y_test) ** 2).mean())
    return {
        "test_mse": mse,
        "params": count_params(model),
        "seconds": round(seconds, 2),
        "steps": steps,
        "solved": mse < TARGETS["lstm"],
    }


def run(
    seed: int = 0,
    quick: bool = False,
    length: int = 100,
    steps: int | None = None,
    hidden: int = 64,
    batch_size: int = 64,
    lr: float = 1e-2,
    models: list[str] | str | None = None,
    threads: int = 2,
) -> dict[str, Any]:
    """Adding problem at sequence length ``length``.

    Options: ``length`` (T, default 100), ``steps`` (training steps, default 2500),
    ``hidden`` (64), ``batch_size`` (64), ``lr`` (1e-2), ``models`` (subset of
    ``lstm,rnn,lstm_lecture``; default ``lstm,rnn``), ``threads``.
    """
    if isinstance(models, str):
        models = [m.strip() for m in models.split(",") if m.strip()]
    models = ["lstm", "rnn"] if models is None else list(models)
    unknown = [m for m in models if m not in _MODELS]
    if unknown:
        raise ValueError(f"adding: unknown model(s) {unknown}. Valid: {', '.join(_MODELS)}.")
    if quick:
        length, steps, hidden = min(length, 10), 5, 8
    steps = 2500 if steps is None else int(steps)
    x_test, y_test = adding_problem(200 if quick else 2000, length, seed=10_000 + seed)
    results: dict[str, dict[str, Any]] = {
        "predict_1": {"test_mse": float(((y_test - 1.0) ** 2).mean()), "params": 0, "seconds": 0.0}
    }
    with num_threads(threads):
        for name in models:
            torch.manual_seed(seed)
            results[name] = _train(
                _build(name, hidden), length, steps, batch_size, lr, seed, x_test, y_test
            )
    return {
        "task": "adding",
        "seed": seed,
        "quick": quick,
        "length": length,
        "results": results,
        "baseline_mse": BASELINE_MSE,
        "anchor_source": "Hochreiter & Schmidhuber (1997): LSTM solves T=100, RNNs do not",
    }
