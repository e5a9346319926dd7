"""PNG of a ``geodl bench symmetry-curve`` result (private; matplotlib Agg, no pyplot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: line styles: symmetric models solid, trivial ones dashed; augmented ones hollow markers
_MARKERS = ("o", "s", "^", "D", "v", "P")


def plot_curves(result: dict[str, Any], path: Path) -> Path:
    """Test error against training-set size, log-log: the mean over seeds with a band of
    plus/minus one standard deviation (clipped at the error floor), one line per model.

    Parameters
    ----------
    result : dict
        What :func:`geodl.bench.symmetry_curve.run` returns.
    path : Path
        PNG file to write (parent folders are created).

    Returns
    -------
    Path
        ``path``.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sizes = np.asarray(result["sizes"], dtype=float)
    floor = result["settings"]["error_floor_for_logs"]
    fig = Figure(figsize=(6.4, 4.6))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for k, (name, row) in enumerate(result["models"].items()):
        errs = np.asarray(row["errors"], dtype=float)  # (sizes, seeds)
        mean, std = errs.mean(1), errs.std(1)
        mean = np.maximum(mean, floor)
        trivial = row["symmetry"] == "trivial"
        slope = result["fits"][name]["slope"]
        label = f"{name} [{row['symmetry']}, {row['params'] / 1e3:.0f}k], slope {slope:.2f}"
        line = ax.plot(
            sizes,
            mean,
            linestyle="--" if trivial else "-",
            marker=_MARKERS[k % len(_MARKERS)],
            markerfacecolor="none" if row.get("augmentation") else None,
            label=label,
        )[0]
        lo = np.maximum(mean - std, floor)
        ax.fill_between(sizes, lo, mean + std, color=line.get_color(), alpha=0.15, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(sizes, [str(int(n)) for n in sizes])
    ax.minorticks_off()
    ax.yaxis.set_minor_locator(_log_minor())
    ax.set_xlabel("training-set size n")
    ax.set_ylabel(_short_metric(result["metric"]))
    seeds = len(result.get("seeds", [])) or "?"
    ax.set_title(f"symmetry-curve: {result['task']} (mean ± std over {seeds} seeds)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def _log_minor() -> Any:
    from matplotlib.ticker import LogLocator

    return LogLocator(base=10, subs=(0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9))


def _short_metric(metric: str) -> str:
    """The metric up to its first parenthesis (axis labels stay short)."""
    return metric.split(" (")[0]
