"""``geodl bench md-speed``: MD-step throughput through ``GeoDLCalculator`` vs system size,
side by side with DeePMD-kit.

One step is what an MD code asks of a calculator: energy and forces (and, for these
periodic cells, the stress) after the atoms moved, neighbour list included. Systems are
rattled fcc Cu/Au cells (25 % Au, a = 3.75 Å). The geodl model is the default
``se_e2_a`` (r_c 6 Å, embedding [25, 50, 100], axis 16, fitting [240, 240, 240], one
embedding net per neighbour type, float32) with statistics from a 108-atom cell, or
``--set model=FILE``; engine ``geodl-compressed`` is the same model after
:func:`~geodl.atoms.compress_model` (``geodl compress``); engine ``geodl-equivariant`` is
the ``equivariant`` family at its defaults (r_c 5 Å, float32 unless ``dtype``).

With ``--set peer_python=PATH`` (a Python with ``deepmd-kit``), DeePMD-kit models of the
same shape (same r_c, widths, axis neurons, precision; trained briefly, frozen and
compressed by ``dp`` in that environment, cached) are timed through ``DeepPot.eval`` on
the same structures. Every (size, threads) point runs each engine in a fresh process,
``rounds`` times, the engine order rotating between rounds, so that the load of a shared
machine hits every engine alike; the median over rounds is reported, with the ratio to
``deepmd-tf-compressed`` and the load average at the time.

Options (``--set key=value``):

* ``sizes``: cell repeats ``[[n1, n2, n3], ...]`` or cube edges / atom counts (default
  repeats 3, 6, 9, 12, 15, 20, 30: 108 ... 108,000 atoms);
* ``engines``: among ``geodl``, ``geodl-compressed``, ``geodl-equivariant``,
  ``deepmd-tf-compressed``, ``deepmd-tf``, ``deepmd-pt``, ``deepmd-pt-compressed``
  (default: the geodl engines,
  plus ``deepmd-tf-compressed`` and ``deepmd-tf`` with a peer; DeePMD-kit's PyTorch
  backend needs the exact torch its wheel was built with, 2.10 for deepmd-kit 3.1.3);
* ``threads``: list of thread counts (default ``[1, 2]``);
* ``repeats`` (timed steps per run, default 3), ``rounds`` (default 2);
* ``max_atoms``: per-engine size caps (default 32,000 for ``geodl-equivariant``, 13,500
  for the uncompressed ``geodl`` and ``deepmd-tf``, 6,912 for ``deepmd-pt``, which
  builds a dense N x N distance matrix);
* ``model`` (a geodl model file), ``tolerance`` (compression, default 1e-5), ``dtype``;
* ``peer_python``, ``peer_dir`` (DeePMD-kit models, default
  ``~/.cache/geodl/peers/deepmd-rc6``), ``timeout`` (s per run, default 900).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GEODL_ENGINES = ("geodl", "geodl-compressed", "geodl-equivariant")
DEFAULT_SIZES: list[list[int]] = [[k, k, k] for k in (3, 6, 9, 12, 15, 20, 30)]
QUICK_SIZES: list[list[int]] = [[2, 2, 2], [3, 3, 3]]
DEFAULT_MAX_ATOMS = {
    "geodl": 13_500,
    "geodl-equivariant": 32_000,
    "deepmd-tf": 13_500,
    "deepmd-pt": 6_912,
    "deepmd-pt-compressed": 6_912,
}
OPTIONS = {
    "sizes",
    "engines",
    "threads",
    "repeats",
    "rounds",
    "max_atoms",
    "model",
    "tolerance",
    "dtype",
    "peer_python",
    "peer_dir",
    "timeout",
    "isolate",
}


def _repeats_for(size: int | list[int]) -> list[int]:
    if isinstance(size, int):
        n = size if size < 60 else max(1, round((size / 4) ** (1 / 3)))
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


def prepare_models(
    folder: Path,
    model: str | None,
    tolerance: float,
    dtype: str,
    engines: Sequence[str] = GEODL_ENGINES,
) -> Any:
    """Write ``ENGINE.pt`` into ``folder`` for the geodl ``engines`` asked for (``geodl.pt``
    always: its config sizes the DeePMD-kit peers); returns that config."""
    import torch

    from geodl.atoms import (
        EnergyModel,
        EnergyModelConfig,
        atoms_to_graph,
        compress_model,
        load_model,
        save_model,
    )

    if model is not None:
        net = load_model(model)
    else:
        torch.manual_seed(0)
        net = EnergyModel(EnergyModelConfig(type_map=["Cu", "Au"], dtype=dtype))
        cell = build_system([3, 3, 3], seed=1)
        net.fit_statistics([atoms_to_graph(cell, net.type_map, net.r_cut)])
    net = net.to(getattr(torch, dtype)).eval()
    net.config.dtype = dtype
    save_model(net, folder / "geodl.pt")
    if "geodl-compressed" in engines:
        compressed, _ = compress_model(net, tolerance=tolerance)
        save_model(compressed, folder / "geodl-compressed.pt")
    if "geodl-equivariant" in engines:
        save_model(_equivariant_model(dtype), folder / "geodl-equivariant.pt")
    return net.config


def _equivariant_model(dtype: str) -> Any:
    """The ``equivariant`` family at its defaults (random weights: speed does not depend
    on them), statistics from a 108-atom cell."""
    import torch

    from geodl.atoms import AtomisticModel, atoms_to_graph, model_config_from_dict

    torch.manual_seed(0)
    config = model_config_from_dict({"type": "equivariant", "type_map": ["Cu", "Au"]})
    config.dtype = dtype
    net = AtomisticModel(config)
    cell = build_system([3, 3, 3], seed=1)
    net.fit_statistics([atoms_to_graph(cell, net.type_map, net.r_cut)])
    return net.to(getattr(torch, dtype)).eval()


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss survives exec on Linux, so
    it would report the parent's peak)."""
    import resource

    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(model_file: str, npz: str, repeats: int = 3, threads: int = 1) -> dict[str, Any]:
    """Time ``repeats`` calculator steps (after one warm-up), in-process."""
    import numpy as np
    import torch
    from ase import Atoms

    from geodl.atoms.ase import GeoDLCalculator

    torch.set_num_threads(int(threads))
    data = np.load(npz)
    atoms = Atoms(
        [str(s) for s in data["symbols"]], positions=data["positions"], cell=data["cell"], pbc=True
    )
    base = _peak_rss_mb()
    atoms.calc = GeoDLCalculator(model_file)
    rng = np.random.default_rng(0)
    wall, cpu = [], []
    for step in range(int(repeats) + 1):
        atoms.positions = atoms.positions + rng.normal(scale=1e-4, size=(len(atoms), 3))
        c0, t0 = time.process_time(), time.perf_counter()
        atoms.get_forces()
        if step > 0:
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    n, w, c = len(atoms), statistics.median(wall), statistics.median(cpu)
    return {
        "atoms": n,
        "ms_per_step": 1000 * w,
        "atoms_per_s": n / w,
        "atoms_per_cpu_s": n / c,
        "peak_rss_mb": _peak_rss_mb(),
        "base_rss_mb": base,
    }


def _run_geodl(kwargs: dict[str, Any], isolate: bool, timeout: float) -> dict[str, Any]:
    if not isolate:
        return measure(**kwargs)
    code = (
        "import json, sys; from geodl.bench.md_speed import measure; "
        "print('RESULT ' + json.dumps(measure(**json.loads(sys.argv[1]))))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, json.dumps(kwargs)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    return {"error": f"exit code {proc.returncode}: {tail[-300:]}"}


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


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[-1]["error"] if runs else "not run"}
    row = {
        k: statistics.median(r[k] for r in ok)
        for k in ("ms_per_step", "atoms_per_s", "atoms_per_cpu_s", "peak_rss_mb")
    }
    row["atoms"] = ok[0]["atoms"]
    row["mb_per_atom"] = (
        max(0.0, row["peak_rss_mb"] - min(r["base_rss_mb"] for r in ok)) / row["atoms"]
    )
    row["runs"] = len(ok)
    return row


def _options(quick: bool, options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - OPTIONS)
    if unknown:
        raise ValueError(
            f"md-speed: unknown options {unknown}. Valid options: {', '.join(sorted(OPTIONS))}."
        )
    sizes = options.get("sizes", QUICK_SIZES if quick else DEFAULT_SIZES)
    if not isinstance(sizes, list) or not sizes:
        raise ValueError(f"md-speed: 'sizes' must be a non-empty list, got {sizes!r}.")
    peer = options.get("peer_python")
    if peer is not None and not Path(str(peer)).exists():
        raise ValueError(
            f"md-speed: peer_python {peer!r} does not exist; pass a Python "
            "interpreter with deepmd-kit installed."
        )
    from geodl.bench._md_peers import PEER_ENGINES

    default_engines = [*GEODL_ENGINES, *(["deepmd-tf-compressed", "deepmd-tf"] if peer else [])]
    engines = list(options.get("engines", default_engines))
    valid = [*GEODL_ENGINES, *PEER_ENGINES]
    bad = [e for e in engines if e not in valid]
    if bad or not engines:
        raise ValueError(f"md-speed: unknown engines {bad}. Valid engines: {', '.join(valid)}.")
    if any(e in PEER_ENGINES for e in engines) and peer is None:
        raise ValueError("md-speed: DeePMD-kit engines need --set peer_python=PATH.")
    threads = options.get("threads", [1] if quick else [1, 2])
    threads = [int(t) for t in (threads if isinstance(threads, list) else [threads])]
    return {
        "sizes": [_repeats_for(s) for s in sizes],
        "engines": engines,
        "threads": threads,
        "repeats": int(options.get("repeats", 1 if quick else 3)),
        "rounds": int(options.get("rounds", 1 if quick else 2)),
        "max_atoms": {**DEFAULT_MAX_ATOMS, **dict(options.get("max_atoms", {}))},
        "model": options.get("model"),
        "tolerance": float(options.get("tolerance", 1e-5)),
        "dtype": str(options.get("dtype", "float32")),
        "peer_python": str(peer) if peer else None,
        "peer_dir": Path(
            str(options.get("peer_dir", Path.home() / ".cache/geodl/peers/deepmd-rc6"))
        ),
        "timeout": float(options.get("timeout", 900)),
        "isolate": bool(options.get("isolate", not quick)),
    }


def run(seed: int = 0, quick: bool = False, **options: Any) -> dict[str, Any]:
    """Benchmark entry point (see the module docstring for options)."""
    import numpy as np

    from geodl.bench._md_peers import PEER_ENGINES, prepare_deepmd, run_peer

    opt = _options(quick, options)
    work = Path(tempfile.mkdtemp(prefix="geodl-md-speed-"))
    config = prepare_models(work, opt["model"], opt["tolerance"], opt["dtype"], opt["engines"])
    files = {e: work / f"{e}.pt" for e in GEODL_ENGINES if e in opt["engines"]}
    peers = [e for e in opt["engines"] if e in PEER_ENGINES]
    if peers:
        backends = {PEER_ENGINES[e][0] for e in peers}
        files.update(
            prepare_deepmd(
                opt["peer_python"],
                opt["peer_dir"],
                config,
                build_system([2, 2, 2], seed=7),
                (80, 40),
                backends,
            )
        )
    engines = [e for e in opt["engines"] if e in files]
    runs: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    loads: dict[tuple[int, int], list[float]] = {}
    for repeat in opt["sizes"]:
        atoms = build_system(repeat, seed)
        n = len(atoms)
        npz = work / f"system-{n}.npz"
        np.savez(
            npz,
            positions=atoms.positions,
            cell=atoms.cell.array,
            symbols=np.array(atoms.get_chemical_symbols()),
        )
        todo = [e for e in engines if n <= opt["max_atoms"].get(e, 10**9)]
        for threads in opt["threads"]:
            for rnd in range(opt["rounds"]):
                order = todo[rnd % max(1, len(todo)) :] + todo[: rnd % max(1, len(todo))]
                for engine in order:
                    loads.setdefault((n, threads), []).append(_load())
                    if engine in PEER_ENGINES:
                        row = run_peer(
                            opt["peer_python"],
                            files[engine],
                            npz,
                            opt["repeats"],
                            threads,
                            opt["timeout"],
                        )
                    else:
                        kwargs = {
                            "model_file": str(files[engine]),
                            "npz": str(npz),
                            "repeats": opt["repeats"],
                            "threads": threads,
                        }
                        row = _run_geodl(kwargs, opt["isolate"], opt["timeout"])
                    runs.setdefault((engine, threads, n), []).append(row)
            print(f"md-speed: {n} atoms, {threads} thread(s) done", file=sys.stderr)
    return _report(seed, opt, engines, runs, loads)


def _report(
    seed: int,
    opt: dict[str, Any],
    engines: list[str],
    runs: dict[tuple[str, int, int], list[dict[str, Any]]],
    loads: dict[tuple[int, int], list[float]],
) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    rows = {key: _median_row(value) for key, value in runs.items()}
    for (engine, threads, n), row in sorted(
        rows.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
    ):
        ref = rows.get(("deepmd-tf-compressed", threads, n), {})
        if "atoms_per_s" in row and "atoms_per_s" in ref and engine != "deepmd-tf-compressed":
            row["x_vs_deepmd_tf_compressed"] = row["atoms_per_s"] / ref["atoms_per_s"]
            row["x_cpu_vs_deepmd_tf_compressed"] = row["atoms_per_cpu_s"] / ref["atoms_per_cpu_s"]
        row["load_avg"] = statistics.median(loads.get((n, threads), [float("nan")]))
        results[f"{engine} t={threads} N={n}"] = row
    exponents: dict[str, float] = {}
    for engine in engines:
        for threads in opt["threads"]:
            pts = [
                (n, r["ms_per_step"], r["atoms"] / r["atoms_per_cpu_s"])
                for (e, t, n), r in rows.items()
                if e == engine and t == threads and "atoms" in r
            ]
            if len(pts) >= 2:
                pts.sort()
                exp = scaling_exponent([p[0] for p in pts], [p[1] / 1000 for p in pts])
                exp_cpu = scaling_exponent([p[0] for p in pts], [p[2] for p in pts])
                exponents[f"{engine} t={threads}"] = exp
                results[f"scaling {engine} t={threads} (1 = linear)"] = {
                    "exponent_wall": exp,
                    "exponent_cpu": exp_cpu,
                    "from_atoms": pts[0][0],
                    "to_atoms": pts[-1][0],
                }
    return {
        "task": "md-speed",
        "seed": seed,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in opt.items()},
        "results": results,
        "scaling_exponents": exponents,
        "conditions": {
            "cpus": os.cpu_count(),
            "uname": " ".join(os.uname()),
            "python": sys.version.split()[0],
        },
    }
