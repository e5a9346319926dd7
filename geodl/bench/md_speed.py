"""``geodl bench md-speed``: MD-step throughput of the DeepPot-SE model vs system size.

Times are medians over the timed steps: ``atoms_per_s`` uses wall-clock time,
``atoms_per_cpu_s`` the process CPU time (robust when other jobs share the cores).

One "step" is what an MD code does per time step: a neighbour list (vesin) plus one
forward and backward pass for energy and forces. Systems are rattled fcc Cu/Au cells
(25 % Au) at r_c = 5 Å with a DeePMD-sized model (embedding [25, 50, 100], axis 16,
fitting [240, 240, 240], one embedding net per type pair as DeePMD's default). Each size
runs in a fresh subprocess so its peak resident memory is its own. The scaling exponent
is the slope of log(time per step) against log(N) (1 = linear).

Options (``--set key=value``):

* ``sizes``: list of cell repeats ``[[n1, n2, n3], ...]`` or atom counts;
* ``repeats``: timed steps per size (default 5);
* ``threads``: torch and vesin threads (default 1: robust on a shared 2-core machine);
* ``dtype``: ``"float32"`` (default) or ``"float64"``;
* ``scripted``: run the TorchScript core (default false);
* ``isolate``: one subprocess per size (default ``not quick``);
* ``type_one_side``: one embedding net per neighbour type (default false, as DeePMD);
* ``aggregation``: ``"dense"`` (default) or ``"scatter"`` (the first, slower version).

Reference figures for peers measured on this kind of machine (2 cores, same systems,
energy + forces) are returned under ``"reference"`` and as rows in the table.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from typing import Any

#: Peers measured on this machine class (issue 5): atoms -> atoms·steps/s (None: OOM).
REFERENCE: dict[str, dict[int, float | None]] = {
    "DeePMD-kit 3.1 (pt, se_e2_a)": {108: 1244.0, 864: 836.0, 2916: 273.0, 6912: None},
    "MACE 0.3.16 (32ch, L=1)": {108: 653.0, 864: 458.0, 2916: 375.0, 6912: 356.0},
}

DEFAULT_SIZES: list[list[int]] = [
    [3, 3, 3],
    [4, 4, 4],
    [6, 6, 6],
    [9, 9, 9],
    [12, 12, 12],
    [15, 15, 15],
    [19, 19, 21],
]
QUICK_SIZES: list[list[int]] = [[2, 2, 2], [3, 3, 3]]


def _repeats_for(size: int | list[int]) -> list[int]:
    if isinstance(size, int):
        n = max(1, round((size / 4) ** (1 / 3)))
        return [n, n, n]
    if len(size) != 3:
        raise ValueError(f"md-speed: a size must be an atom count or three repeats, got {size}.")
    return [int(k) for k in size]


def build_system(repeat: list[int], seed: int = 0) -> Any:
    """Rattled fcc Cu/Au cell (conventional 4-atom cell × ``repeat``), 25 % Au."""
    import ase.build
    import numpy as np

    atoms = ase.build.bulk("Cu", "fcc", a=3.75, cubic=True) * tuple(repeat)
    rng = np.random.default_rng(seed)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[rng.random(len(atoms)) < 0.25] = "Au"
    atoms.set_chemical_symbols(symbols.tolist())
    atoms.rattle(0.05, seed=seed)
    return atoms


def measure(
    repeat: list[int],
    seed: int = 0,
    repeats: int = 5,
    threads: int = 1,
    dtype: str = "float32",
    scripted: bool = False,
    type_one_side: bool = False,
    aggregation: str = "dense",
) -> dict[str, Any]:
    """Time ``repeats`` MD steps (after one warm-up) for one system size, in-process."""
    import resource

    import torch

    from geodl.atoms import EnergyModel, EnergyModelConfig, neighbor_list

    if int(threads) > 0:  # 0: torch's default
        torch.set_num_threads(int(threads))
    torch.manual_seed(seed)
    atoms = build_system(repeat, seed)
    type_map = ["Cu", "Au"]
    config = EnergyModelConfig(
        type_map=type_map,
        r_cut=5.0,
        r_smooth=0.5,
        embed_widths=(25, 50, 100),
        axis_neurons=16,
        fitting_widths=(240, 240, 240),
        type_one_side=type_one_side,
        dtype=dtype,
    )
    model = EnergyModel(config).eval()
    descriptor: Any = model.descriptor  # SeADescriptor of the se_e2_a family
    descriptor.aggregation = aggregation
    tdtype = config.torch_dtype
    species = torch.tensor([type_map.index(s) for s in atoms.get_chemical_symbols()])
    pos = torch.tensor(atoms.positions, dtype=tdtype)
    cell = torch.tensor(atoms.cell.array, dtype=tdtype)
    batch = torch.zeros(len(atoms), dtype=torch.long)
    step_fn = model.scripted() if scripted else model.compute
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def step() -> tuple[float, float, float, int]:
        c0, t0 = time.process_time(), time.perf_counter()
        edge_index, shifts = neighbor_list(pos, config.r_cut, cell, True)
        t1 = time.perf_counter()
        out = step_fn(species, pos, edge_index, shifts, cell[None], batch, 1, True, False)
        out["forces"].sum().item()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, time.process_time() - c0, int(edge_index.shape[1])

    step()  # warm-up (library loading, allocator)
    nl_t, model_t, cpu_t = [], [], []
    edges = 0
    for _ in range(repeats):
        a, b, c, edges = step()
        nl_t.append(a)
        model_t.append(b)
        cpu_t.append(c)
    wall = statistics.median(a + b for a, b in zip(nl_t, model_t, strict=True))
    cpu = statistics.median(cpu_t)
    return {
        "atoms": len(atoms),
        "edges": edges,
        "atoms_per_s": len(atoms) / wall,
        "atoms_per_cpu_s": len(atoms) / cpu,
        "ms_per_step": 1000 * wall,
        "nl_ms": 1000 * statistics.median(nl_t),
        "model_ms": 1000 * statistics.median(model_t),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "base_rss_mb": rss_before,
        "threads": int(threads),
    }


def _measure_isolated(kwargs: dict[str, Any]) -> dict[str, Any]:
    code = (
        "import json, sys; from geodl.bench.md_speed import measure; "
        "print('RESULT' + json.dumps(measure(**json.loads(sys.argv[1]))))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)], capture_output=True, text=True
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[len("RESULT") :])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": f"exit code {proc.returncode}: {' | '.join(tail)}"}


def scaling_exponent(atoms: list[int], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) against log(atoms)."""
    if len(atoms) < 2:
        return float("nan")
    xs = [math.log(a) for a in atoms]
    ys = [math.log(s) for s in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return (
        sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
        if sxx > 0
        else float("nan")
    )


def run(seed: int = 0, quick: bool = False, **options: Any) -> dict[str, Any]:
    """Benchmark entry point (see the module docstring for options)."""
    valid = {
        "sizes",
        "repeats",
        "threads",
        "dtype",
        "scripted",
        "isolate",
        "type_one_side",
        "aggregation",
    }
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ValueError(
            f"md-speed: unknown options {unknown}. Valid options: {', '.join(sorted(valid))}."
        )
    sizes = options.get("sizes", QUICK_SIZES if quick else DEFAULT_SIZES)
    if not isinstance(sizes, list) or not sizes:
        raise ValueError(f"md-speed: 'sizes' must be a non-empty list, got {sizes!r}.")
    isolate = bool(options.get("isolate", not quick))
    kwargs: dict[str, Any] = {
        "seed": seed,
        "repeats": int(options.get("repeats", 1 if quick else 5)),
        "threads": int(options.get("threads", 1)),
        "dtype": str(options.get("dtype", "float32")),
        "scripted": bool(options.get("scripted", False)),
        "type_one_side": bool(options.get("type_one_side", False)),
        "aggregation": str(options.get("aggregation", "dense")),
    }
    results: dict[str, dict[str, Any]] = {}
    ok_atoms: list[int] = []
    ok_seconds: list[float] = []
    for size in sizes:
        repeat = _repeats_for(size)
        args = {**kwargs, "repeat": repeat}
        row = _measure_isolated(args) if isolate else measure(**args)
        natoms = 4 * repeat[0] * repeat[1] * repeat[2]
        row.setdefault("atoms", natoms)
        if "error" not in row:
            ok_atoms.append(row["atoms"])
            ok_seconds.append(row["ms_per_step"] / 1000)
            for peer, table in REFERENCE.items():
                ref = table.get(row["atoms"])
                if ref:
                    key = "x_" + peer.split()[0].lower().replace("-kit", "")
                    row[key] = row["atoms_per_s"] / ref
                    row[key + "_cpu"] = row["atoms_per_cpu_s"] / ref
        results[f"geodl N={natoms}"] = row
        print(f"md-speed: {natoms} atoms done", file=sys.stderr)
    cpu_seconds = [
        r["atoms"] / r["atoms_per_cpu_s"] for r in results.values() if "atoms_per_cpu_s" in r
    ]
    exponent = scaling_exponent(ok_atoms, ok_seconds)
    exponent_cpu = scaling_exponent(ok_atoms, cpu_seconds)
    # A row of its own so that `geodl bench md-speed` prints it in the table.
    results["scaling exponent (1 = linear)"] = {
        "exponent_wall": exponent,
        "exponent_cpu": exponent_cpu,
        "from_atoms": min(ok_atoms) if ok_atoms else 0,
        "to_atoms": max(ok_atoms) if ok_atoms else 0,
    }
    for peer, table in REFERENCE.items():
        for n, value in table.items():
            results[f"{peer} N={n}"] = {
                "atoms": n,
                "atoms_per_s": value if value is not None else "OOM",
                "source": "issue 5 (same machine class)",
            }
    return {
        "task": "md-speed",
        "seed": seed,
        "options": {**kwargs, "sizes": sizes, "isolate": isolate},
        "results": results,
        "scaling_exponent": exponent,
        "scaling_exponent_cpu": exponent_cpu,
        "reference": {k: {str(n): v for n, v in t.items()} for k, t in REFERENCE.items()},
    }
