"""The shared loop: the same numbers as a hand-written loop, validation cadence, early
stopping and best state, the budget, interval checkpoints, mid-epoch continuation and the
clean stop on a signal."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
import torch

from geodl.training import (
    EMA,
    Budget,
    GracefulStop,
    LoopState,
    TrainingInterrupted,
    TrainLoop,
    TrainTask,
)

X = torch.linspace(-1, 1, 12).unsqueeze(1)
Y = torch.sin(3 * X)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


class Regression(TrainTask):
    """Four batches of three points per epoch, shuffled by its own generator."""

    def __init__(self, model: torch.nn.Module, scores: list[float] | None = None) -> None:
        self.model, self.scores = model, list(scores or [])
        self.gen = torch.Generator().manual_seed(1)
        self.events: list[Any] = []

    def batches(self, state: LoopState) -> list[torch.Tensor]:
        perm = torch.randperm(12, generator=self.gen)
        return [perm[i : i + 3] for i in range(0, 12, 3)]

    def step(self, idx: torch.Tensor, lr: float) -> dict[str, float]:
        loss = ((self.model(X[idx]) - Y[idx]) ** 2).mean()
        loss.backward()
        return {"loss": float(loss.detach())}

    def validate(self, state: LoopState) -> float | None:
        if self.scores:
            return self.scores.pop(0)
        with torch.no_grad():
            return float(((self.model(X) - Y) ** 2).mean())

    def on_best(self, state: LoopState) -> None:
        self.events.append(("best", state.epoch))

    def record(self, state: LoopState, completed: bool, improved: bool) -> None:
        state.history.append({"epoch": state.epoch + state.batch / 4, "steps": state.sums["steps"]})

    def save(self, state: LoopState) -> None:
        self.events.append(("save", state.epoch, state.batch))


def test_same_numbers_as_a_hand_written_loop() -> None:
    ref = _model()
    opt = torch.optim.AdamW(ref.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=20)
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):
        perm = torch.randperm(12, generator=gen)
        for i in range(0, 12, 3):
            idx = perm[i : i + 3]
            loss = ((ref(X[idx]) - Y[idx]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
            opt.step()
            sched.step()
    model = _model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=20)
    state = TrainLoop(opt, epochs=5, scheduler=sched, grad_clip=0.5).run(Regression(model))
    assert state.step == 20 and state.stop_reason == "epochs"
    for a, b in zip(ref.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_validation_cadence_early_stopping_and_best_state() -> None:
    model = _model()
    task = Regression(model, scores=[3.0, 2.0, 2.5, 2.4, 2.2])
    loop = TrainLoop(
        torch.optim.SGD(model.parameters(), lr=1e-2), epochs=20, patience=3, valid_every=2
    )
    state = loop.run(task)
    assert state.stop_reason == "early_stopping"
    assert [r["epoch"] for r in state.history] == [2, 4, 6, 8, 10]
    assert [e for e in task.events if e[0] == "best"] == [("best", 2), ("best", 4)]
    # every completed epoch is saved: validated or not
    assert [e[1] for e in task.events if e[0] == "save"] == list(range(1, 11))
    assert state.best_score == 2.0 and state.bad_epochs == 3


def test_a_resumed_early_stopped_run_stays_stopped() -> None:
    model = _model()
    done = LoopState(epoch=4, bad_epochs=3, best_score=1.0)
    state = TrainLoop(torch.optim.SGD(model.parameters(), lr=1e-2), epochs=9, patience=3).run(
        Regression(model), done
    )
    assert state.stop_reason == "early_stopping" and state.step == 0


def test_budget_stops_mid_epoch_and_validates_the_partial_epoch() -> None:
    now = [0.0]

    class Slow(Regression):
        def step(self, idx: torch.Tensor, lr: float) -> dict[str, float]:
            now[0] += 1.0  # each step "takes" one second
            return super().step(idx, lr)

    model = _model()
    budget = Budget(6.5, clock=lambda: now[0])
    loop = TrainLoop(torch.optim.SGD(model.parameters(), lr=1e-2), epochs=10, budget=budget)
    state = loop.run(Slow(model))
    assert state.stop_reason == "max_time"
    assert state.epoch == 1 and state.batch == 2  # 6 steps: one epoch and a half
    assert state.history[-1]["epoch"] == 1.5 and state.history[-1]["steps"] == 2


def test_interval_checkpoints_and_mid_epoch_continuation_match_an_uninterrupted_run() -> None:
    full = _model()
    TrainLoop(torch.optim.Adam(full.parameters(), lr=1e-2), epochs=3).run(Regression(full))

    class Crash(Exception):
        pass

    saved: dict[str, Any] = {}

    class Interrupted(Regression):
        def step(self, idx: torch.Tensor, lr: float) -> dict[str, float]:
            if state_ref[0] is not None and state_ref[0].step == 6:
                raise Crash
            return super().step(idx, lr)

        def save(self, state: LoopState) -> None:
            saved.update(
                model={k: v.clone() for k, v in self.model.state_dict().items()},
                opt=opt.state_dict(),
                gen=self.epoch_gen,
                state=LoopState(**{**vars(state), "sums": dict(state.sums)}),
            )

        def batches(self, state: LoopState) -> list[torch.Tensor]:
            self.epoch_gen = self.gen.get_state()
            state_ref[0] = state
            return super().batches(state)

    state_ref: list[LoopState | None] = [None]
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loop = TrainLoop(opt, epochs=3, checkpoint_every_s=0.0)
    with pytest.raises(Crash):
        loop.run(Interrupted(model))
    assert saved["state"].epoch == 1 and saved["state"].batch == 2  # mid-epoch

    resumed = _model()
    resumed.load_state_dict(saved["model"])
    opt2 = torch.optim.Adam(resumed.parameters(), lr=1e-2)
    opt2.load_state_dict(saved["opt"])
    task = Regression(resumed)
    task.gen.set_state(saved["gen"])
    TrainLoop(opt2, epochs=3).run(task, saved["state"])
    for a, b in zip(full.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_signal_checkpoints_and_raises_with_the_exit_code() -> None:
    model = _model()

    class Signalled(Regression):
        def step(self, idx: torch.Tensor, lr: float) -> dict[str, float]:
            out = super().step(idx, lr)
            os.kill(os.getpid(), signal.SIGTERM)  # arrives during the step
            return out

    task = Signalled(model)
    before = signal.getsignal(signal.SIGTERM)
    loop = TrainLoop(torch.optim.SGD(model.parameters(), lr=1e-2), epochs=5)
    with GracefulStop() as stop, pytest.raises(TrainingInterrupted) as info:
        loop.stop = stop
        loop.run(task)
    assert info.value.exit_code == 128 + signal.SIGTERM
    assert task.events[-1] == ("save", 0, 1)  # the step finished, then the checkpoint
    assert signal.getsignal(signal.SIGTERM) is before


def test_validation_uses_the_ema_weights() -> None:
    model = _model()
    params = list(model.parameters())
    ema = EMA(params, decay=0.9)
    seen: list[torch.Tensor] = []

    class Check(Regression):
        def validate(self, state: LoopState) -> float:
            seen.append(params[0].detach().clone())
            return 0.0

    loop = TrainLoop(torch.optim.SGD(params, lr=1e-1), epochs=1, ema=ema)
    loop.run(Check(model))
    assert torch.equal(seen[0], ema.shadow[0])
    assert not torch.equal(params[0], ema.shadow[0])
