"""A run directory: the checkpoint (what it holds, how it is restored) and the decision
whether a new command continues the run there, starts over, or finds it complete.

``checkpoint.pt`` holds the weights, the EMA averages, Adam's state, the random states,
the loop state (epoch, step, the position inside an unfinished epoch, the epoch's sums,
best score, history), the seconds spent, and once the run ended its final metrics.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geodl.atoms.train._config import TrainConfig
from geodl.errors import InputError
from geodl.training import LoopState, load_state_file, remove_stale_tmp

__all__ = [
    "CHECKPOINT",
    "MODEL",
    "RunDecision",
    "checkpoint_payload",
    "config_differences",
    "open_run",
    "restore_state",
]

CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"
LOG = "log.csv"
PROGRESS = "progress.json"
_FORMAT = "geodl.atoms.checkpoint"
#: 1: epoch boundaries only; 2: + position inside an epoch, sums, run id, final metrics.
_VERSION = 2
#: Files of a run that ``--force`` removes before starting over.
RUN_FILES = (CHECKPOINT, MODEL, LOG, PROGRESS, "learning_curves.png", "parity.png")
#: Keys that change how a run executes, not what it computes: never a reason to refuse.
VOLATILE = frozenset(
    {
        "out",
        "training.allow_large",
        "training.checkpoint_every_s",
        "training.device",
        "training.num_threads",
        "training.plots",
        "training.progress",
        "training.resume",
    }
)
_FIX = "Delete it, run with --force to start over, or use another --out."


def _flat(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        if isinstance(value, Mapping) and key != "e0s":
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``"key: old -> new"`` for every key that differs, except :data:`VOLATILE` ones
    (``old`` gets the current defaults for keys it predates).

    Examples
    --------
    >>> a = TrainConfig.from_dict({"training": {"lr": 1e-3, "progress": False}})
    >>> config_differences(a.to_dict(), TrainConfig().to_dict())
    ['training.lr: 0.001 -> 0.002']
    """
    try:
        old = TrainConfig.from_dict(old, source="checkpoint").to_dict()
    except (InputError, TypeError):
        pass  # written by another version: compare as stored
    a, b = _flat(old), _flat(new)
    keys = [k for k in dict.fromkeys([*b, *a]) if k not in VOLATILE]
    return [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in keys if a.get(k) != b.get(k)]


def checkpoint_payload(
    config: TrainConfig, parts: Mapping[str, Any], state: LoopState, final: Any = None
) -> dict[str, Any]:
    """The checkpoint dict (``weights_only``-loadable): ``parts`` gives ``model``
    (the module), ``optimizer``, ``ema`` (or None), ``rng``, ``elapsed``, ``run_id``."""
    model, ema = parts["model"], parts["ema"]
    return {
        "format": _FORMAT,
        "version": _VERSION,
        "config": config.to_dict(),
        "model_config": model.config.to_dict(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": parts["optimizer"].state_dict(),
        "ema": ema.state_dict() if ema is not None else None,
        "rng": parts["rng"],
        "epoch": state.epoch,
        "step": state.step,
        "batch": state.batch,
        "sums": dict(state.sums),
        "elapsed": float(parts["elapsed"]),
        "best_score": float(state.best_score),
        "bad_epochs": int(state.bad_epochs),
        "history": state.history,
        "run_id": parts["run_id"],
        "final": final,
    }


def restore_state(ckpt: Mapping[str, Any]) -> LoopState:
    """The :class:`~geodl.training.LoopState` stored in a checkpoint (version 1 or 2)."""
    return LoopState(
        epoch=int(ckpt["epoch"]),
        step=int(ckpt["step"]),
        batch=int(ckpt.get("batch", 0)),
        sums=dict(ckpt.get("sums") or {}),
        best_score=float(ckpt["best_score"]),
        bad_epochs=int(ckpt["bad_epochs"]),
        history=list(ckpt["history"]),
    )


def seconds_spent(out: Path, ckpt: Mapping[str, Any]) -> float:
    """Seconds the run has spent: the checkpoint's, or more when ``progress.json`` of the
    same run shows time spent after it (the run was killed between checkpoints)."""
    spent = float(ckpt["elapsed"])
    try:
        beat = json.loads((out / PROGRESS).read_text())
        if beat.get("run_id") == ckpt.get("run_id") and ckpt.get("run_id"):
            spent = max(spent, float(beat["elapsed"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return spent


@dataclass
class RunDecision:
    """What a new command does in ``out``.

    Attributes
    ----------
    checkpoint : dict or None
        Continue from it; ``None``: start a new run.
    complete : bool
        The stored run finished with this config: nothing to train.
    run_id : str
        Identifies the run across its resumed parts.
    note : str
        One line for the log.
    """

    checkpoint: dict[str, Any] | None
    complete: bool
    run_id: str
    note: str = ""


def open_run(
    out: Path | None, config: TrainConfig, *, force: bool = False, writer: bool = True
) -> RunDecision:
    """Decide between continuing, starting over and "already complete" (see
    ``training.resume`` in :class:`~geodl.atoms.TrainingConfig`); the ``writer`` (rank 0)
    removes temporary files a killed run left in ``out`` (and, with ``force``, the run's
    files).

    Raises
    ------
    InputError
        The checkpoint is unreadable, belongs to another model, or (``resume: auto``)
        was written with another config — the message lists the differences and the ways
        forward; or ``resume: true`` without a checkpoint.
    """
    fresh = RunDecision(None, False, uuid.uuid4().hex)
    resume = config.training.resume
    path = out / CHECKPOINT if out is not None else None
    if out is not None and writer:
        remove_stale_tmp(out)
    if force and out is not None:
        for name in RUN_FILES if writer else ():
            (out / name).unlink(missing_ok=True)
        fresh.note = f"--force: starting over in {out}"
        return fresh
    if path is None or not path.is_file():
        if resume is True:
            raise InputError(
                f"training.resume is true but there is no checkpoint at {path}; "
                "set training.resume=auto or point out to a previous run."
            )
        return fresh
    if resume is False:
        fresh.note = f"training.resume is false: starting over in {out}"
        return fresh
    ckpt = load_state_file(path, _FORMAT, "training checkpoint", _FIX)
    diffs = config_differences(ckpt.get("config") or {}, config.to_dict())
    _refuse_differences(path, diffs, explicit=resume is True)
    complete = ckpt.get("final") is not None and resume == "auto"
    note = "; ".join(diffs)
    return RunDecision(ckpt, complete, str(ckpt.get("run_id") or uuid.uuid4().hex), note)


def _refuse_differences(path: Path, diffs: list[str], explicit: bool) -> None:
    model = [d for d in diffs if d.startswith("model.")]
    if model:
        raise InputError(
            f"{path}: this checkpoint was written with a different 'model' section "
            f"({'; '.join(model)}); its weights cannot be continued. Use a new --out "
            "directory, or --force to start over there."
        )
    if diffs and not explicit:
        listed = "\n  ".join(diffs)
        raise InputError(
            f"{path}: the run there was started with a different configuration:\n  {listed}\n"
            "To continue it with the new settings: --set training.resume=true; to start "
            "over: --force; or use another --out."
        )
