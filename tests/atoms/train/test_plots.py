"""PNG plots of a training run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geodl.atoms.train import plot_learning_curves, plot_parity


def test_learning_curves_and_parity_pngs(tmp_path: Path) -> None:
    history = [
        {
            "epoch": e,
            "lr": 1e-3 / e,
            "valid_e_mae": 10.0 / e,
            "valid_e_rmse": 12.0 / e,
            "valid_f_mae": 50.0 / e,
            "valid_f_rmse": 60.0 / e,
            "train_f_rmse": 70.0 / e,
        }
        for e in (1, 2, 3)
    ]
    lc = plot_learning_curves(history, tmp_path / "lc.png")
    rng = np.random.default_rng(0)
    ref = rng.normal(size=20)
    pred = {
        "energy_ref": ref,
        "energy_pred": ref + 0.01,
        "forces_ref": ref,
        "forces_pred": ref * 1.1,
    }
    parity = plot_parity(pred, tmp_path / "parity.png", title="test")
    for path in (lc, parity):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 10_000
