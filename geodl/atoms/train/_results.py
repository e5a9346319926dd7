"""What a training run returns: :class:`TrainResult`, also for a run found complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geodl.atoms.model import load_model
from geodl.atoms.train._checkpoint import CHECKPOINT, LOG, MODEL

__all__ = ["TrainResult", "plain_metrics", "run_files", "stored_result"]


@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` returns.

    Attributes
    ----------
    model : EnergyModel
        The best model (EMA weights when EMA is on), in eval mode.
    history : list of dict
        One row per validated epoch (the CSV log).
    valid_metrics : dict
        :func:`evaluate` of the best model on the validation set.
    test_metrics : dict or None
        Same on the test set, when there is one.
    stop_reason : str
        ``"epochs"``, ``"max_time"`` or ``"early_stopping"``.
    out : Path or None
        Output directory.
    files : dict
        ``{name: path}`` of the files written.
    already_complete : bool
        ``out`` held this run, finished: nothing was trained, the stored results are
        returned.
    """

    model: Any
    history: list[dict[str, float]]
    valid_metrics: dict[str, Any]
    test_metrics: dict[str, Any] | None = None
    stop_reason: str = "epochs"
    out: Path | None = None
    files: dict[str, str] = field(default_factory=dict)
    already_complete: bool = False


def plain_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """Metrics without the prediction arrays (what results and checkpoints keep).

    Examples
    --------
    >>> plain_metrics({"forces_rmse": 0.1, "predictions": {}})
    {'forces_rmse': 0.1}
    """
    return {k: v for k, v in metrics.items() if k != "predictions"}


def run_files(out: Path) -> dict[str, str]:
    """``{name: path}`` of the run files present in ``out``."""
    names = (("model", MODEL), ("checkpoint", CHECKPOINT), ("log", LOG))
    files = {name: str(out / f) for name, f in names if (out / f).is_file()}
    for name in ("learning_curves", "parity"):
        if (out / f"{name}.png").is_file():
            files[name] = str(out / f"{name}.png")
    return files


def stored_result(out: Path, ckpt: dict[str, Any]) -> TrainResult:
    """The result of the complete run in ``out`` from its checkpoint and ``model.pt``."""
    final = ckpt["final"]
    return TrainResult(
        model=load_model(out / MODEL),
        history=list(ckpt["history"]),
        valid_metrics=dict(final["valid_metrics"]),
        test_metrics=dict(final["test_metrics"]) if final.get("test_metrics") else None,
        stop_reason=str(final["stop_reason"]),
        out=out,
        files=run_files(out),
        already_complete=True,
    )
