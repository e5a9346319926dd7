"""``geodl bench uap``: universal approximation by two-layer networks of growing width.

A continuous target on [-1, 1] is fitted by trained two-layer networks
``A σ(Bx + c)`` and by random-feature models (B, c frozen, A by ridge regression) of
widths m = 1, 2, 4, ..., 256; the test error decreases with m. A figure shows the fits and
the error-versus-width curve.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from geodl.bench._training import count_params, num_threads, train_steps
from geodl.nn import RandomFeatureModel, TwoLayerNet

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def target(x: torch.Tensor) -> torch.Tensor:
    r"""The continuous target :math:`f(x) = \sin(2\pi x) + |x| - 0.5` (a kink at 0)."""
    return torch.sin(2 * math.pi * x) + x.abs() - 0.5


def _train_two_layer(
    m: int,
    x: torch.Tensor,
    y: torch.Tensor,
    steps: int,
    lr: float,
    activation: str,
    polish: int = 0,
) -> TwoLayerNet:
    net = TwoLayerNet(1, m, 1, activation=activation).double()
    with torch.no_grad():  # spread the kinks/transitions over the domain
        net.inner.weight.normal_(0.0, 3.0)
        net.inner.bias.uniform_(-3.0, 3.0)
        net.outer.weight.normal_(0.0, 1.0 / math.sqrt(m))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    train_steps(lambda: ((net(x) - y) ** 2).mean(), opt, steps, scheduler=sched)
    if polish:  # full-batch quasi-Newton refinement of the Adam solution
        lbfgs = torch.optim.LBFGS(
            net.parameters(),
            lr=1.0,
            max_iter=polish,
            history_size=50,
            tolerance_grad=1e-12,
            tolerance_change=1e-15,
            line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            lbfgs.zero_grad(set_to_none=True)
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            return loss

        lbfgs.step(closure)
    return net


def _errors(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    with torch.no_grad():
        err = model(x) - y
    return {"test_mse": float((err**2).mean()), "sup_error": float(err.abs().max())}


def _plot(
    path: Path,
    x: torch.Tensor,
    y: torch.Tensor,
    fits: dict[int, torch.Tensor],
    results: dict[str, dict[str, Any]],
    widths: list[int],
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(x.squeeze(1), y.squeeze(1), "k-", lw=2, label="target f")
    for m, pred in fits.items():
        ax1.plot(x.squeeze(1), pred.squeeze(1), lw=1, label=f"m = {m}")
    ax1.set_xlabel("x")
    ax1.set_title("trained two-layer nets A σ(Bx + c)")
    ax1.legend(fontsize=8)
    for prefix, label, marker in (
        ("two_layer", "trained (Adam + L-BFGS)", "o-"),
        ("random_features", "random features (ridge)", "s--"),
    ):
        errs = [results[f"{prefix} m={m}"]["test_mse"] for m in widths]
        ax2.loglog(widths, errs, marker, label=label)
    ax2.set_xlabel("width m")
    ax2.set_ylabel("test MSE")
    ax2.set_title("error decreases with width")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def run(
    seed: int = 0,
    quick: bool = False,
    widths: list[int] | None = None,
    steps: int = 4000,
    lr: float = 1e-2,
    activation: str = "tanh",
    plot: str | None = "uap.png",
    polish: int = 1000,
    n_train: int = 1024,
    threads: int = 2,
) -> dict[str, Any]:
    """Fit ``target`` with two-layer nets of each width.

    Options: ``widths`` (list), ``steps`` (Adam steps, 4000), ``lr`` (1e-2),
    ``polish`` (L-BFGS iterations after Adam, 1000), ``n_train`` (training samples, 1024),
    ``activation`` (``"tanh"``), ``plot`` (PNG path, ``null`` for none; default
    ``uap.png``), ``threads``.
    """
    with num_threads(threads):
        return _run(seed, quick, widths, steps, lr, activation, plot, polish, n_train)


def _run(
    seed: int,
    quick: bool,
    widths: list[int] | None,
    steps: int,
    lr: float,
    activation: str,
    plot: str | None,
    polish: int,
    n_train: int,
) -> dict[str, Any]:
    widths = list(WIDTHS if widths is None else widths)
    if quick:
        widths, steps, polish, n_train = [w for w in widths if w <= 4][:2] or [2], 20, 5, 64
    gen = torch.Generator().manual_seed(seed)
    x_train = torch.rand(n_train, 1, generator=gen, dtype=torch.float64) * 2 - 1
    y_train = target(x_train)
    x_test = torch.linspace(-1, 1, 2001, dtype=torch.float64).unsqueeze(1)
    y_test = target(x_test)
    results: dict[str, dict[str, Any]] = {}
    fits: dict[int, torch.Tensor] = {}
    for m in widths:
        torch.manual_seed(seed)
        start = time.perf_counter()
        net = _train_two_layer(m, x_train, y_train, steps, lr, activation, polish)
        results[f"two_layer m={m}"] = {
            **_errors(net, x_test, y_test),
            "params": count_params(net),
            "width": m,
            "seconds": round(time.perf_counter() - start, 2),
        }
        with torch.no_grad():
            fits[m] = net(x_test)
        torch.manual_seed(seed)
        start = time.perf_counter()
        rf = RandomFeatureModel(
            1, m, 1, activation=activation, weight_scale=3.0, bias_scale=3.0
        ).double()
        rf.fit_ridge(x_train, y_train, l2=1e-10)
        results[f"random_features m={m}"] = {
            **_errors(rf, x_test, y_test),
            "params": count_params(rf),
            "width": m,
            "seconds": round(time.perf_counter() - start, 2),
        }
    out: dict[str, Any] = {
        "task": "uap",
        "seed": seed,
        "quick": quick,
        "target": "sin(2 pi x) + |x| - 0.5 on [-1, 1]",
        "activation": activation,
        "n_train": n_train,
        "optimiser": f"Adam {steps} steps + L-BFGS {polish} iterations",
        "results": results,
    }
    if plot and not quick:
        shown = {m: fits[m] for m in widths if m in (2, 8, 32, 256)} or fits
        _plot(Path(plot), x_test, y_test, shown, results, widths)
        out["plot"] = str(plot)
    return out
