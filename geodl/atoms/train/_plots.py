"""PNG plots of a training run: learning curves and parity plots (matplotlib, no pyplot
global state)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_learning_curves", "plot_parity"]


def _figure(ncols: int, width: float = 5.0, height: float = 4.0) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def plot_learning_curves(history: Sequence[dict[str, float]], path: str | Path) -> Path:
    """Validation energy and force errors and the learning rate against the epoch.

    Parameters
    ----------
    history : list of dict
        Rows of the training log (``epoch``, ``valid_e_rmse``, ``valid_f_rmse``, ``lr``...).
    path : path
        Output PNG.
    """
    path = Path(path)
    epochs = np.array([r["epoch"] for r in history], dtype=float)
    fig, (ax_e, ax_f, ax_lr) = _figure(3)
    for key, label in (("valid_e_mae", "MAE"), ("valid_e_rmse", "RMSE")):
        ax_e.plot(epochs, [r[key] for r in history], label=label)
    ax_e.set(
        xlabel="epoch", ylabel="energy error (meV/atom)", yscale="log", title="validation energy"
    )
    for key, label in (
        ("valid_f_mae", "MAE"),
        ("valid_f_rmse", "RMSE"),
        ("train_f_rmse", "train RMSE"),
    ):
        ax_f.plot(epochs, [r[key] for r in history], label=label)
    ax_f.set(xlabel="epoch", ylabel="force error (meV/Å)", yscale="log", title="forces")
    ax_lr.plot(epochs, [r["lr"] for r in history])
    ax_lr.set(xlabel="epoch", ylabel="learning rate", yscale="log", title="schedule")
    ax_e.legend()
    ax_f.legend()
    fig.savefig(path, dpi=100)
    return path


def plot_parity(predictions: dict[str, np.ndarray], path: str | Path, title: str = "") -> Path:
    """Predicted against reference energies per atom and force components.

    Parameters
    ----------
    predictions : dict
        ``energy_ref``, ``energy_pred`` (eV/atom), ``forces_ref``, ``forces_pred`` (eV/Å),
        as returned by :func:`geodl.atoms.evaluate` with ``return_predictions=True``.
    path : path
        Output PNG.
    """
    path = Path(path)
    fig, (ax_e, ax_f) = _figure(2, 4.5, 4.5)
    for ax, key, unit in ((ax_e, "energy", "eV/atom"), (ax_f, "forces", "eV/Å")):
        ref = np.asarray(predictions[f"{key}_ref"])
        pred = np.asarray(predictions[f"{key}_pred"])
        ax.scatter(ref, pred, s=3, alpha=0.5)
        lo, hi = float(min(ref.min(), pred.min())), float(max(ref.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
        rmse = float(np.sqrt(np.mean((pred - ref) ** 2)))
        ax.set(
            xlabel=f"reference {key} ({unit})",
            ylabel=f"predicted {key} ({unit})",
            title=f"{title} {key}: RMSE {rmse * 1e3:.1f} m{unit}".strip(),
        )
    fig.savefig(path, dpi=100)
    return path
