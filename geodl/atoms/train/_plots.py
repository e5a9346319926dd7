"""PNG plots of a training run: learning curves and parity plots (matplotlib, no pyplot
global state)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geodl.training import atomic_write

__all__ = ["plot_learning_curves", "plot_parity", "time_a_plot"]


def _figure(ncols: int, width: float = 5.0, height: float = 4.0) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # fixed margins: a layout engine (constrained / tight) triples the drawing time
    fig = Figure(figsize=(width * ncols, height))
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.5 / (width * ncols) + 0.04, right=0.98, bottom=0.13, top=0.9)
    fig.subplots_adjust(wspace=0.35)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _save(fig: Any, path: Path) -> None:
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=100))


def _draw_small() -> float:
    import io
    import time

    t0 = time.perf_counter()
    fig, axes = _figure(1, 2.0, 2.0)
    axes[0].plot([1, 2], [1, 2])
    fig.savefig(io.BytesIO(), format="png", dpi=50)
    return time.perf_counter() - t0


def time_a_plot() -> float:
    """Estimated seconds to write the two plots of a run: matplotlib's first-use costs
    (fonts, backends) are paid now by a small figure, a second one measures this
    machine's speed, and the two plots take about twelve times that (measured; 16 is
    returned: loads change).

    Examples
    --------
    >>> time_a_plot() > 0
    True
    """
    _draw_small()
    return 16.0 * _draw_small()


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
    _save(fig, path)
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
    _save(fig, path)
    return path
