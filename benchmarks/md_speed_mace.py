"""MD-step speed of MACE 0.3.16 on the same Cu/Au systems as ``geodl bench md-speed``.

Runs in a SEPARATE virtual environment (geodl never depends on mace)::

    python3 -m venv /work/peers/mace-venv
    /work/peers/mace-venv/bin/pip install torch==2.13.0      # the CPU wheel
    /work/peers/mace-venv/bin/pip install mace-torch==0.3.16
    /work/peers/mace-venv/bin/python benchmarks/md_speed_mace.py --sizes 3,6,9 --json out.json

A step is what MACE's ASE calculator does per MD step: neighbour list
(``AtomicData.from_config``, matscipy) + energy and forces. Model: 32 channels, L=1
(``32x0e + 32x1o``), max_ell 3, correlation 3, 2 interactions, r_max 5 Å, float32.
Systems: rattled fcc Cu/Au (25 % Au, a = 3.75 Å), conventional cell × n³, exactly as
``geodl.bench.md_speed.build_system`` (copied here so this script needs no geodl).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import ase.build
import numpy as np
import torch

# e3nn 0.4.4 (pinned by mace-torch) loads its own constants file with torch.load's
# default, which is weights_only=True since torch 2.6; the file holds `slice` objects.
torch.serialization.add_safe_globals([slice])
from e3nn import o3  # noqa: E402


def build_system(n: int, seed: int = 0) -> ase.Atoms:
    atoms = ase.build.bulk("Cu", "fcc", a=3.75, cubic=True) * (n, n, n)
    rng = np.random.default_rng(seed)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[rng.random(len(atoms)) < 0.25] = "Au"
    atoms.set_chemical_symbols(symbols.tolist())
    atoms.rattle(0.05, seed=seed)
    return atoms


def make_model(channels: int = 32) -> torch.nn.Module:
    from mace import modules

    block = modules.interaction_classes["RealAgnosticResidualInteractionBlock"]
    return modules.ScaleShiftMACE(
        r_max=5.0,
        num_bessel=8,
        num_polynomial_cutoff=5,
        max_ell=3,
        interaction_cls=block,
        interaction_cls_first=block,
        num_interactions=2,
        num_elements=2,
        hidden_irreps=o3.Irreps(f"{channels}x0e + {channels}x1o"),
        MLP_irreps=o3.Irreps("16x0e"),
        atomic_energies=np.zeros(2),
        avg_num_neighbors=42.0,
        atomic_numbers=[29, 79],
        correlation=3,
        gate=torch.nn.functional.silu,
        atomic_inter_scale=1.0,
        atomic_inter_shift=0.0,
    ).eval()


def measure(n: int, repeats: int, threads: int) -> dict:
    from mace import data, tools
    from mace.tools import torch_geometric

    torch.set_num_threads(threads)
    torch.set_default_dtype(torch.float32)
    torch.manual_seed(0)
    model = make_model()
    z_table = tools.AtomicNumberTable([29, 79])
    atoms = build_system(n)

    def step() -> tuple[float, float]:
        c0, t0 = time.process_time(), time.perf_counter()
        config = data.config_from_atoms(atoms)
        ad = data.AtomicData.from_config(config, z_table=z_table, cutoff=5.0)
        batch = next(iter(torch_geometric.dataloader.DataLoader([ad], batch_size=1)))
        out = model(batch.to_dict(), compute_force=True)
        out["forces"].sum().item()
        return time.perf_counter() - t0, time.process_time() - c0

    step()
    walls, cpus = zip(*(step() for _ in range(repeats)), strict=True)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return {
        "atoms": len(atoms),
        "atoms_per_s": len(atoms) / wall,
        "atoms_per_cpu_s": len(atoms) / cpu,
        "ms_per_step": 1000 * wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="3,6,9", help="cell repeats n (n^3 * 4 atoms)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    rows = {}
    for n in map(int, args.sizes.split(",")):
        row = measure(n, args.repeats, args.threads)
        rows[f"MACE N={row['atoms']}"] = row
        print(json.dumps(row), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"task": "md-speed-mace", "results": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
