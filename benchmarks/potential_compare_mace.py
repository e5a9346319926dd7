"""MACE 0.3.16 on the same data and time budget as ``geodl bench potential-compare``.

Runs in a SEPARATE virtual environment (geodl never depends on mace; mace-torch pins
e3nn 0.4.4)::

    python3 -m venv /work/peers/mace
    /work/peers/mace/bin/pip install torch==2.13.0          # the CPU wheel
    /work/peers/mace/bin/pip install mace-torch==0.3.16
    /work/peers/mace/bin/python benchmarks/potential_compare_mace.py \\
        --data TRAIN --test TEST --max-time S --threads 2 --json OUT

MACE has no wall-clock budget, so the run is sized in epochs: a one-epoch calibration run
gives the time per epoch (validation included) and the real run gets
``floor((S - overhead) / t_epoch)`` epochs (at least 1), with MACE's usual recipe: EMA
(0.99), AMSGrad, lr 0.01 with its plateau scheduler, and stage two (``--swa``: lower lr,
energy weight 1000) over the last 25 % of the epochs. Model: ``--channels`` x (0e + 1o)
hidden irreps (L = 1), max_ell 3, correlation 3, 2 interactions, r_max 5 Å, float32,
batch 5, 10 % of TRAIN held out for validation (as geodl). The printed/JSON row has the
keys of ``geodl bench potential-compare`` (eV, eV/Å), plus the actual training time,
and the 864-atom Cu/Au evaluation speed of the same architecture (``md_speed_mace.py``'s
systems and step).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ase.io
import numpy as np
import torch

# e3nn 0.4.4 (pinned by mace-torch) loads its constants with torch.load's default, which
# is weights_only=True since torch 2.6; the file holds `slice` objects.
torch.serialization.add_safe_globals([slice])


#: the geodl source tree this script belongs to (for ``bundled:NAME`` data)
_REPO = Path(__file__).resolve().parents[1]


def resolve_source(source: str) -> str:
    """``bundled:NAME`` -> the file geodl ships (``geodl.atoms.data.BUNDLED_DATASETS``),
    else ``source`` unchanged. Reads the table from the source tree, so it works in an
    environment without geodl (the MACE one)."""
    prefix = "bundled:"
    if not source.startswith(prefix):
        return source
    import ast

    name = source[len(prefix) :]
    tree = ast.parse((_REPO / "geodl/atoms/data/_formats.py").read_text())
    table: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "BUNDLED_DATASETS":
            table = ast.literal_eval(node.value)  # type: ignore[arg-type]
    if name not in table:
        raise SystemExit(f"unknown bundled dataset {name!r}; valid: {', '.join(sorted(table))}")
    return str(_REPO / "geodl/atoms/data/bundled" / table[name])


def _relabel(src: str, dst: Path) -> int:
    """Copy ``src`` (a file or ``bundled:NAME``) with energies/forces under MACE's
    default REF_ keys."""
    frames = ase.io.read(resolve_source(src), ":")
    for a in frames:
        a.info["REF_energy"] = a.get_potential_energy()
        a.arrays["REF_forces"] = a.get_forces()
        a.calc = None
    ase.io.write(dst, frames, format="extxyz")
    return len(frames)


def _train(args: argparse.Namespace, data: Path, work: Path, epochs: int, name: str) -> float:
    cmd = [
        str(Path(sys.executable).with_name("mace_run_train")),
        f"--name={name}",
        f"--train_file={data / 'train.xyz'}",
        "--valid_fraction=0.1",
        f"--test_file={data / 'test.xyz'}",
        "--E0s=average",
        "--model=MACE",
        f"--hidden_irreps={args.channels}x0e + {args.channels}x1o",
        "--max_ell=3",
        "--correlation=3",
        "--num_interactions=2",
        "--r_max=5.0",
        f"--batch_size={args.batch_size}",
        f"--valid_batch_size={args.batch_size}",
        f"--max_num_epochs={epochs}",
        "--ema",
        "--ema_decay=0.99",
        "--amsgrad",
        "--swa",
        f"--start_swa={max(1, math.ceil(0.75 * epochs))}",
        "--default_dtype=float32",
        "--device=cpu",
        f"--seed={args.seed}",
        "--error_table=PerAtomRMSE",
        "--num_workers=0",
        f"--work_dir={work}",
        f"--model_dir={work}",
        f"--checkpoints_dir={work / 'checkpoints'}",
        f"--results_dir={work / 'results'}",
        f"--log_dir={work / 'logs'}",
    ]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=work)
    if proc.returncode != 0:
        raise RuntimeError(f"mace_run_train failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def _evaluate(model_path: Path, test: str, threads: int) -> dict[str, float]:
    from mace.calculators import MACECalculator

    torch.set_num_threads(threads)
    calc = MACECalculator(model_paths=str(model_path), device="cpu", default_dtype="float32")
    de, df, n = [], [], 0
    for a in ase.io.read(resolve_source(test), ":"):
        e_ref, f_ref = a.get_potential_energy(), a.get_forces()
        a.calc = calc
        de.append((a.get_potential_energy() - e_ref) / len(a))
        df.append((a.get_forces() - f_ref).ravel())
        n += 1
    de, df = np.asarray(de), np.concatenate(df)
    return {
        "forces_rmse": float(np.sqrt(np.mean(df**2))),
        "energy_rmse_per_atom": float(np.sqrt(np.mean(de**2))),
        "forces_mae": float(np.mean(np.abs(df))),
        "energy_mae_per_atom": float(np.mean(np.abs(de))),
        "n_test": n,
    }


def _speed(threads: int, repeats: int) -> dict[str, float]:
    """Energy + forces of the 864-atom Cu/Au cell with the same architecture (a fresh
    2-species model: the speed does not depend on the weights or the species), timed by
    ``md_speed_mace.measure``."""
    sys.path.insert(0, str(Path(__file__).parent))
    from md_speed_mace import measure  # noqa: PLC0415

    row = measure(6, repeats, threads)
    return {
        "eval_atoms": row["atoms"],
        "atoms_per_s": row["atoms_per_s"],
        "atoms_per_cpu_s": row["atoms_per_cpu_s"],
        "eval_ms": row["ms_per_step"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--max-time", type=float, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="skip the calibration")
    parser.add_argument("--json", default=None)
    parser.add_argument("--keep", default=None, help="keep the work folder here")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="mace-compare-"))
    work.mkdir(parents=True, exist_ok=True)
    _relabel(args.data, work / "train.xyz")
    _relabel(args.test, work / "test.xyz")
    load = os.getloadavg()[0]
    calibration = None
    epochs = args.epochs
    if epochs is None:
        for sub in ("cal1", "cal2"):
            (work / sub).mkdir(exist_ok=True)
        t1 = _train(args, work, work / "cal1", 1, "calibration")
        t2 = _train(args, work, work / "cal2", 2, "calibration")
        per_epoch = max(t2 - t1, 1e-3)
        overhead = max(t1 - per_epoch, 0.0)
        epochs = max(1, int((args.max_time - overhead) // per_epoch))
        calibration = {"t_1_epoch_s": t1, "t_2_epochs_s": t2, "per_epoch_s": per_epoch}
    (work / "run").mkdir(exist_ok=True)
    elapsed = _train(args, work, work / "run", epochs, "mace")
    model_path = work / "run" / "mace.model"
    row = _evaluate(model_path, args.test, args.threads)
    model = torch.load(model_path, map_location="cpu", weights_only=False)
    row.update(
        {
            "epochs": epochs,
            "parameters": sum(p.numel() for p in model.parameters()),
            "train_time_s": elapsed,
            "threads": args.threads,
            "load_avg_1min_at_start": load,
            "calibration": calibration,
        }
    )
    row.update(_speed(args.threads, args.repeats))
    result = {
        "task": "potential-compare-mace",
        "settings": {**vars(args), "mace": "0.3.16"},
        "results": {f"MACE {args.channels}ch L=1": row},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
