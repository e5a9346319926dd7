"""``geodl bench finetune``: does fine-tuning a trained potential on a few frames with a
new element beat training from scratch in the same time?

1. pre-train a DeepPot-SE model on the bundled Cu/Au EMT set for ``pretrain_time`` s;
2. new data: Cu/Au/Ag alloys (a quarter of the sites Ag) from the same EMT MD recipe;
   ``n_new`` training frames, ``n_test`` held-out test frames (other seeds);
3. within the same ``max_time`` budget on the same ``n_new`` frames, train (a) from
   scratch and (b) from the pre-trained model (``training.init_model``: the type map is
   extended by Ag, reference energies refitted on the residuals);
4. report test energy / force RMSE of both.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

_MODEL = {
    "r_cut": 5.0,
    "r_smooth": 0.5,
    "embed_widths": [16, 32, 64],
    "axis_neurons": 8,
    "fitting_widths": [128, 128, 128],
}
_QUICK_MODEL = {"r_cut": 4.0, "embed_widths": [4, 8], "axis_neurons": 2, "fitting_widths": [12]}


def _fit(train: Any, valid: Any, model: dict, training: dict, out: Path) -> tuple[Any, float]:
    from geodl.atoms import TrainConfig, Trainer

    cfg = TrainConfig.from_dict({"model": model, "training": training}, source="bench finetune")
    t0 = time.perf_counter()
    result = Trainer(cfg, out=out, log=lambda s: None).fit(train, valid)
    return result, time.perf_counter() - t0


def _errors(model: Any, data: Any) -> dict[str, float]:
    from geodl.atoms import evaluate

    m = evaluate(model, data)
    return {
        "energy_rmse_meV_atom": 1e3 * m["energy_rmse_per_atom"],
        "forces_rmse_meV_A": 1e3 * m["forces_rmse"],
    }


def run(
    seed: int = 0,
    quick: bool = False,
    *,
    n_new: int = 50,
    n_test: int = 100,
    max_time: float = 120.0,
    pretrain_time: float = 300.0,
    threads: int = 1,
) -> dict[str, Any]:
    """Pre-train on Cu/Au, then fine-tune vs scratch on ``n_new`` Cu/Au/Ag frames.

    Parameters
    ----------
    seed : int
        Seed of the data, the initialisation and the shuffling.
    quick : bool
        Smoke-test size (tiny model, a handful of frames, 1–2 epochs).
    n_new, n_test : int
        New training frames and held-out test frames.
    max_time : float
        Budget (s) of each of the two compared runs.
    pretrain_time : float
        Budget (s) of the Cu/Au pre-training.
    threads : int
        torch intra-op threads.
    """
    import torch

    from geodl.atoms import bundled_dataset, make_cuau_emt, read_structures

    for name, value in (("n_new", n_new), ("n_test", n_test)):
        if int(value) < 2:
            raise ValueError(f"bench finetune: {name} must be >= 2, got {value}.")
    if quick:
        n_new, n_test = 8, 8
    model = {**_MODEL, **(_QUICK_MODEL if quick else {})}
    base = {"batch_size": 4, "seed": seed, "patience": None, "progress": False, "plots": False}
    budget = {"epochs": 1} if quick else {"epochs": 100000, "max_time": float(max_time)}
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1 if quick else int(threads))
    try:
        new = read_structures(make_cuau_emt(n_new, seed=100 + seed, others={"Ag": 0.25}))
        test = read_structures(make_cuau_emt(n_test, seed=200 + seed, others={"Ag": 0.25}))
        train, valid = new.split([0.2], seed=seed)
        cuau = read_structures(bundled_dataset("cuau"), index=":24" if quick else ":")
        pre_train, pre_valid = cuau.split([0.1], seed=seed)
        with tempfile.TemporaryDirectory() as tmp:
            pre_budget = {"epochs": 1} if quick else {"epochs": 100000, "max_time": pretrain_time}
            pre, pre_s = _fit(pre_train, pre_valid, model, {**base, **pre_budget}, Path(tmp, "p"))
            scratch, scratch_s = _fit(train, valid, model, {**base, **budget}, Path(tmp, "s"))
            tuned_training = {**base, **budget, "init_model": str(Path(tmp, "p", "model.pt"))}
            tuned, tuned_s = _fit(train, valid, {}, tuned_training, Path(tmp, "f"))
    finally:
        torch.set_num_threads(old_threads)
    results = {
        "from scratch": {**_errors(scratch.model, test), "train_time_s": scratch_s},
        "fine-tuned from Cu/Au": {**_errors(tuned.model, test), "train_time_s": tuned_s},
    }
    for row, result in zip(results.values(), (scratch, tuned), strict=True):
        row["epochs"] = result.history[-1]["epoch"] if result.history else 0
    return {
        "task": "finetune",
        "seed": seed,
        "results": results,
        "settings": {
            "n_new": n_new,
            "n_test": n_test,
            "max_time": max_time,
            "pretrain_time": pretrain_time,
            "pretrain_time_measured_s": pre_s,
            "pretrain_type_map": pre.model.type_map,
            "threads": threads,
            "model": model,
            "quick": quick,
        },
    }
