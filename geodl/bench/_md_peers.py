"""DeePMD-kit as a peer of ``geodl bench md-speed``: models of the same shape, built and
timed in DeePMD-kit's own Python environment (``--set peer_python=PATH``).

:func:`prepare_deepmd` writes a small training set (ASE EMT, fixed composition), a
DeePMD-kit input with geodl's descriptor shape (``se_e2_a``, same ``r_cut``,
``rcut_smth``, embedding and fitting widths, axis neurons, ``type_one_side``, float32)
and runs ``dp train`` (a short run: speed does not depend on how well it fits),
``dp freeze`` and ``dp compress`` for the TensorFlow and PyTorch backends. The models are
cached in ``peer_dir`` (default ``~/.cache/geodl/peers/deepmd-rc{r_cut}``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: engine name -> (backend, model file in the peer folder)
PEER_ENGINES: dict[str, tuple[str, str]] = {
    "deepmd-tf-compressed": ("tf", "tf/compressed.pb"),
    "deepmd-tf": ("tf", "tf/frozen.pb"),
    "deepmd-pt": ("pt", "pt/frozen.pth"),
    "deepmd-pt-compressed": ("pt", "pt/compressed.pth"),
}


def deepmd_input(config: Any, sel: tuple[int, int], steps: int) -> dict[str, Any]:
    """A DeePMD-kit training input with the descriptor and fitting shape of ``config``."""
    return {
        "model": {
            "type_map": list(config.type_map),
            "descriptor": {
                "type": "se_e2_a",
                "sel": list(sel),
                "rcut_smth": float(config.r_smooth),
                "rcut": float(config.r_cut),
                "neuron": list(config.embed_widths),
                "axis_neuron": int(config.axis_neurons),
                "type_one_side": bool(config.type_one_side),
                "resnet_dt": False,
                "precision": config.dtype,
                "seed": 1,
            },
            "fitting_net": {
                "neuron": list(config.fitting_widths),
                "resnet_dt": True,
                "precision": config.dtype,
                "seed": 1,
            },
        },
        "learning_rate": {"type": "exp", "decay_steps": 50, "start_lr": 1e-3, "stop_lr": 1e-4},
        "loss": {
            "type": "ener",
            "start_pref_e": 0.02,
            "limit_pref_e": 1,
            "start_pref_f": 1000,
            "limit_pref_f": 1,
        },
        "training": {
            "training_data": {"systems": ["../data"], "batch_size": 1},
            "numb_steps": int(steps),
            "disp_freq": max(1, steps),
            "save_freq": max(1, steps),
            "seed": 1,
        },
    }


def _write_data(folder: Path, structure: Any, frames: int = 20) -> None:
    import numpy as np
    from ase.calculators.emt import EMT

    type_map = sorted(set(structure.get_chemical_symbols()), key=["Cu", "Au"].index)
    coords, boxes, energies, forces = [], [], [], []
    for k in range(frames):
        atoms = structure.copy()
        atoms.rattle(0.05, seed=100 + k)
        atoms.calc = EMT()
        energies.append(atoms.get_potential_energy())
        forces.append(atoms.get_forces().reshape(-1))
        coords.append(atoms.positions.reshape(-1))
        boxes.append(atoms.cell.array.reshape(-1))
    (folder / "set.000").mkdir(parents=True, exist_ok=True)
    for name, value in (("coord", coords), ("box", boxes), ("energy", energies), ("force", forces)):
        np.save(folder / "set.000" / f"{name}.npy", np.array(value))
    types = [type_map.index(s) for s in structure.get_chemical_symbols()]
    (folder / "type.raw").write_text("\n".join(map(str, types)) + "\n")
    (folder / "type_map.raw").write_text("\n".join(type_map) + "\n")


def _dp(peer_python: str, args: list[str], cwd: Path) -> None:
    dp = Path(peer_python).parent / "dp"
    cmd = [str(dp) if dp.exists() else peer_python, *([] if dp.exists() else ["-m", "deepmd"])]
    proc = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-4:])
        raise RuntimeError(f"dp {' '.join(args)} failed in {cwd}: {tail}")


def prepare_deepmd(
    peer_python: str,
    peer_dir: Path,
    config: Any,
    structure: Any,
    sel: tuple[int, int],
    backends: set[str],
    steps: int = 20,
) -> dict[str, Path]:
    """Train/freeze/compress DeePMD-kit models of ``config``'s shape (cached); returns
    engine -> model file for the engines of ``backends`` that could be built."""
    peer_dir.mkdir(parents=True, exist_ok=True)
    if not (peer_dir / "data" / "type.raw").exists():
        _write_data(peer_dir / "data", structure)
    made: dict[str, Path] = {}
    for backend in sorted(backends):
        folder = peer_dir / backend
        folder.mkdir(exist_ok=True)
        ext = "pb" if backend == "tf" else "pth"
        frozen, compressed = folder / f"frozen.{ext}", folder / f"compressed.{ext}"
        if not frozen.exists():
            (folder / "input.json").write_text(json.dumps(deepmd_input(config, sel, steps)))
            try:
                _dp(
                    peer_python,
                    [f"--{backend}", "train", "input.json"],
                    folder,
                )
                _dp(peer_python, [f"--{backend}", "freeze", "-o", frozen.name], folder)
            except RuntimeError as exc:  # e.g. a PyTorch backend built for another torch
                print(f"md-speed: skipping DeePMD-kit's {backend} backend: {exc}", file=sys.stderr)
                continue
        if not compressed.exists() and frozen.exists():
            try:
                _dp(
                    peer_python,
                    [f"--{backend}", "compress", "-i", frozen.name, "-o", compressed.name],
                    folder,
                )
            except RuntimeError as exc:
                print(f"md-speed: {exc}", file=sys.stderr)
        for engine, (b, rel) in PEER_ENGINES.items():
            if b == backend and (peer_dir / rel).exists():
                made[engine] = peer_dir / rel
    return made


def run_peer(
    peer_python: str, model: Path, npz: Path, repeats: int, threads: int, timeout: float
) -> dict[str, Any]:
    """One timing run of DeePMD-kit in its own interpreter (see ``_deepmd_worker``)."""
    worker = Path(__file__).with_name("_deepmd_worker.py")
    args = {"model": str(model), "npz": str(npz), "repeats": repeats, "threads": threads}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        proc = subprocess.run(
            [peer_python, str(worker), json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-2:])
    return {"error": f"exit code {proc.returncode}: {tail[-300:]}"}
