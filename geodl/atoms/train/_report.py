"""What a training run shows and writes: the per-epoch table, ``log.csv``, the tqdm
progress bar and the PNG plots."""

from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path
from typing import Any

from geodl.training import atomic_write_text

__all__ = ["COLUMNS", "progress_bar", "table_header", "table_row", "write_csv", "write_plots"]

#: columns of the per-epoch table / CSV log (values in meV, meV/Å, s).
COLUMNS = (
    "epoch",
    "lr",
    "loss",
    "train_f_rmse",
    "valid_e_mae",
    "valid_e_rmse",
    "valid_f_mae",
    "valid_f_rmse",
    "valid_s_rmse",
    "time",
)


def table_header() -> str:
    """The two header lines of the per-epoch table (names, units)."""
    return (
        f"{'epoch':>7} {'lr':>9} {'loss':>9} {'trainF':>8} | {'E MAE':>7} {'E RMSE':>7} "
        f"{'F MAE':>7} {'F RMSE':>7} {'S RMSE':>7} {'time':>7}\n"
        f"{'':>7} {'':>9} {'':>9} {'meV/Å':>8} | {'meV/at':>7} {'meV/at':>7} {'meV/Å':>7} "
        f"{'meV/Å':>7} {'meV/Å³':>7} {'s':>7}"
    )


def table_row(row: dict[str, float], improved: bool) -> str:
    """One line of the table; a ``*`` marks a new best validation score.

    Examples
    --------
    >>> row = dict(epoch=2, lr=1e-3, loss=0.5, train_f_rmse=90.0, valid_e_mae=1.0,
    ...            valid_e_rmse=2.0, valid_f_mae=40.0, valid_f_rmse=50.0,
    ...            valid_s_rmse=float("nan"), time=3.0)
    >>> table_row(row, True)
    '      2  1.00e-03       0.5     90.0 |    1.00    2.00    40.0    50.0       -     3.0 *'
    """
    epoch = row["epoch"]
    ep = f"{int(epoch)}" if float(epoch).is_integer() else f"{epoch:.2f}"
    s = row["valid_s_rmse"]
    s_txt = f"{s:7.3f}" if math.isfinite(s) else f"{'-':>7}"
    return (
        f"{ep:>7} {row['lr']:9.2e} {row['loss']:9.3g} {row['train_f_rmse']:8.1f} | "
        f"{row['valid_e_mae']:7.2f} {row['valid_e_rmse']:7.2f} {row['valid_f_mae']:7.1f} "
        f"{row['valid_f_rmse']:7.1f} {s_txt} {row['time']:7.1f}{' *' if improved else ''}"
    )


def write_csv(history: list[dict[str, float]], path: Path) -> None:
    """``log.csv``: one row per validation, written atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS))
    writer.writeheader()
    for row in history:
        writer.writerow({k: f"{row[k]:.6g}" for k in COLUMNS})
    atomic_write_text(buf.getvalue(), path)


def progress_bar(total: int, epoch: int, enabled: bool | None) -> Any:
    """A tqdm bar on stderr for one epoch (``None`` when disabled; ``enabled=None``: only
    on a terminal)."""
    if enabled is False:
        return None
    from tqdm.auto import tqdm

    disable = None if enabled is None else not enabled
    return tqdm(total=total, desc=f"epoch {epoch}", leave=False, disable=disable, file=sys.stderr)


def write_plots(
    history: list[dict[str, float]], metrics: dict[str, Any], title: str, out: Path
) -> dict[str, str]:
    """``learning_curves.png`` and ``parity.png`` (of ``metrics["predictions"]``) in
    ``out``; returns ``{name: path}``."""
    from geodl.atoms.train._plots import plot_learning_curves, plot_parity

    plot_learning_curves(history, out / "learning_curves.png")
    plot_parity(metrics["predictions"], out / "parity.png", title=title)
    return {"learning_curves": str(out / "learning_curves.png"), "parity": str(out / "parity.png")}
