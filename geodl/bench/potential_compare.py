"""``geodl bench potential-compare``: model families side by side at equal training time.

::

    geodl bench potential-compare --data TRAIN --test TEST --max-time S \\
        [--models se_e2_a,equivariant] [--json OUT] [--set threads=2] [--set seed=0]

Each family of ``--models`` is trained exactly as ``geodl train --data TRAIN --set
model.type=FAMILY --max-time S`` would train it (the family's defaults, 10 % of TRAIN held
out for validation, the learning rate annealed over the time budget), for the same wall
time on the same data, then evaluated on TEST. Reported per model: ``forces_rmse`` (eV/Å),
``energy_rmse_per_atom`` (eV/atom) and the MAEs, the epochs done, the parameter count, and
the energy + force evaluation speed (neighbour list included) of the same architecture on
a rattled 864-atom fcc Cu/Au cell (``atoms_per_s``: wall clock, median of ``repeats``;
``atoms_per_cpu_s``: process CPU time, robust on a shared machine), with the thread count.

Options (``--set key=value``): ``threads`` (torch threads for training and timing, 2),
``seed`` (0), ``repeats`` (timed evaluations, 5), ``model`` (per-family overrides of the
``model`` section, e.g. ``--set 'model={"equivariant": {"channels": 16}}'``), ``out``
(keep each run's output directory under this folder). ``--quick`` trains 2 epochs of a
tiny model on at most 16 structures (smoke test).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from geodl.errors import InputError

#: the speed system: conventional fcc cell x 6^3 = 864 atoms (as ``geodl bench md-speed``)
SPEED_REPEAT = [6, 6, 6]

_QUICK_MODELS: dict[str, dict[str, Any]] = {
    "se_e2_a": {"embed_widths": [4, 8], "axis_neurons": 2, "fitting_widths": [8]},
    "equivariant": {"channels": 4, "radial_mlp": [8], "readout_mlp": [4]},
}


def _split_models(models: Any) -> list[str]:
    from geodl.atoms import MODEL_TYPES

    names = models.split(",") if isinstance(models, str) else list(models)
    names = [str(n).strip() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in MODEL_TYPES]
    if not names or unknown:
        raise InputError(
            f"potential-compare: --models must name model types separated by commas, got "
            f"{models!r}. Valid model types: {', '.join(MODEL_TYPES)}."
        )
    return names


def measure_speed(
    model_config: dict[str, Any], threads: int = 2, repeats: int = 5, seed: int = 0
) -> dict[str, Any]:
    """Energy + forces of a rattled 864-atom fcc Cu/Au cell with the architecture of
    ``model_config`` (its ``type_map`` replaced by Cu, Au; random weights: the speed does
    not depend on them). Returns atoms/s (wall and CPU), ms per step, edges, threads."""
    import torch

    from geodl.atoms import AtomisticModel, model_config_from_dict, neighbor_list
    from geodl.bench.md_speed import build_system

    old = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        torch.manual_seed(seed)
        cfg = model_config_from_dict({**model_config, "type_map": ["Cu", "Au"], "e0s": "fit"})
        model = AtomisticModel(cfg).eval()
        atoms = build_system(SPEED_REPEAT, seed)
        dtype = cfg.torch_dtype
        species = torch.tensor([cfg.type_map.index(s) for s in atoms.get_chemical_symbols()])
        pos = torch.tensor(atoms.positions, dtype=dtype)
        cell = torch.tensor(atoms.cell.array, dtype=dtype)
        batch = torch.zeros(len(atoms), dtype=torch.long)

        def step() -> tuple[float, float, int]:
            c0, t0 = time.process_time(), time.perf_counter()
            edge_index, shifts = neighbor_list(pos, cfg.r_cut, cell, True)
            out = model.compute(species, pos, edge_index, shifts, cell[None], batch, 1)
            out["forces"].sum().item()
            return time.perf_counter() - t0, time.process_time() - c0, int(edge_index.shape[1])

        step()  # warm-up
        walls, cpus, edges = zip(*(step() for _ in range(max(1, int(repeats)))), strict=True)
    finally:
        torch.set_num_threads(old)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return {
        "eval_atoms": len(atoms),
        "eval_edges": edges[0],
        "atoms_per_s": len(atoms) / wall,
        "atoms_per_cpu_s": len(atoms) / cpu,
        "eval_ms": 1000 * wall,
        "threads": int(threads),
    }


def train_one(
    family: str,
    data: str,
    test: str,
    max_time: float,
    *,
    threads: int = 2,
    seed: int = 0,
    model: dict[str, Any] | None = None,
    quick: bool = False,
    out: str | None = None,
) -> dict[str, Any]:
    """Train one family as ``geodl train`` does and evaluate it on ``test``."""
    from geodl.atoms import load_config, train

    overrides = [
        f"data.train={data}",
        f"data.test={test}",
        f"model.type={family}",
        f"training.seed={seed}",
        f"training.num_threads={int(threads)}",
        "training.progress=false",
        "training.plots=false",
        "training.resume=false",
    ]
    if quick:
        overrides += ["data.max_structures=16", "training.epochs=2"]
    else:
        overrides.append(f"training.max_time={float(max_time)}")
    model_keys = dict(_QUICK_MODELS.get(family, {}) if quick else {})
    model_keys.update(model or {})
    cfg = load_config(overrides=overrides)
    cfg.model.update(model_keys)
    cfg = type(cfg).from_dict(cfg.to_dict(), source="potential-compare")
    with tempfile.TemporaryDirectory() as tmp:
        cfg.out = str(Path(out) / family) if out else tmp
        t0 = time.perf_counter()
        result = train(cfg, log=lambda line: None)
        elapsed = time.perf_counter() - t0
    metrics = result.test_metrics or {}
    return {
        "forces_rmse": metrics["forces_rmse"],
        "energy_rmse_per_atom": metrics["energy_rmse_per_atom"],
        "forces_mae": metrics["forces_mae"],
        "energy_mae_per_atom": metrics["energy_mae_per_atom"],
        "epochs": result.history[-1]["epoch"] if result.history else 0,
        "parameters": sum(p.numel() for p in result.model.parameters()),
        "train_time_s": elapsed,
        "stop_reason": result.stop_reason,
        "n_test": metrics.get("n_structures", 0),
        "model_config": result.model.config.to_dict(),
    }


def run(
    seed: int = 0,
    quick: bool = False,
    *,
    data: str | None = None,
    test: str | None = None,
    max_time: float = 600.0,
    models: Any = "se_e2_a,equivariant",
    threads: int = 2,
    repeats: int = 5,
    model: dict[str, dict[str, Any]] | None = None,
    out: str | None = None,
) -> dict[str, Any]:
    """Benchmark entry point (see the module docstring)."""
    import os

    import torch

    from geodl.atoms.data import resolve_source
    from geodl.training import Bound

    if not data or not test:
        raise InputError(
            "potential-compare: give the training and test data, --data TRAIN --test TEST "
            "(labelled structures: extxyz, a DeePMD folder, ... or bundled:NAME)."
        )
    for name, source in (("--data", data), ("--test", test)):
        if not resolve_source(str(source)).exists():
            raise InputError(f"potential-compare: {name}: no such file or folder {source!r}.")
    max_time = Bound("float", 0, 1e9, low_open=True, cli="--max-time").check(max_time, "max_time")
    threads = Bound("int", 1, 4096, cli="--set threads").check(threads, "threads")
    families = _split_models(models)
    overrides = model or {}
    if not isinstance(overrides, dict) or any(k not in families for k in overrides):
        raise InputError(
            "potential-compare: 'model' must map model types of --models to overrides of "
            f'their model section, e.g. {{"equivariant": {{"channels": 16}}}}; got {model!r}.'
        )
    results: dict[str, dict[str, Any]] = {}
    old_threads = torch.get_num_threads()
    try:
        for family in families:
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            row = train_one(
                family,
                str(data),
                str(test),
                float(max_time),
                threads=threads,
                seed=seed,
                model=overrides.get(family),
                quick=quick,
                out=out,
            )
            config = row.pop("model_config")
            row.update(measure_speed(config, threads, 1 if quick else repeats, seed))
            row["load_avg_1min_at_start"] = load
            results[f"geodl {family}"] = row
    finally:
        torch.set_num_threads(old_threads)
    return {
        "task": "potential-compare",
        "seed": seed,
        "results": results,
        "settings": {
            "data": str(data),
            "test": str(test),
            "max_time": float(max_time),
            "threads": threads,
            "models": families,
            "model": overrides,
            "quick": quick,
            "torch": torch.__version__,
        },
    }
