"""``pair_style geodl`` in LAMMPS (geodl/deploy/lammps/pair_geodl.cpp) against the ASE
calculator: energies, forces, pressure, per-atom energies and virials on orthogonal and
triclinic cells, a slab and a cluster; newton on/off; 1, 2 and 4 MPI ranks; the local
(se_e2_a), exchange (equivariant: node features exchanged between layers, the default)
and ghost-shell (``pair_style geodl shell``; a message-passing family without a
per-layer path) modes; format 1 files; NVE."""

from __future__ import annotations

from pathlib import Path

import ase
import numpy as np
import pytest
import torch
from ase import units
from ase.md.verlet import VelocityVerlet

from geodl.atoms import MODEL_TYPES, GeoDLCalculator
from geodl.deploy import load_deployed
from geodl.geometry import neighbor_list

from .conftest import (
    NKTV2P,
    TYPE_MAP,
    Deployed,
    cuau_cell,
    family_model,
    finished_run,
    run_lammps,
    shared_dir,
    structures,
    write_data,
)

pytestmark = pytest.mark.slow

SECTION = """
clear
units metal
atom_style atomic
atom_modify map yes
newton {newton}
boundary {boundary}
read_data {data}
pair_style {style}
pair_coeff * * {model} Cu Au
compute pe all pe/atom
compute st all stress/atom NULL virial
thermo_style custom step pe pxx pyy pzz pxy pxz pyz
dump d all custom 1 {tag}.dump id fx fy fz c_pe c_st[1] c_st[2] c_st[3] c_st[4] c_st[5] c_st[6]
dump_modify d sort id format float %.17g
run 0
print "{tag} $(pe:%.17g) $(pxx:%.17g) $(pyy:%.17g) $(pzz:%.17g) $(pxy:%.17g) $(pxz:%.17g) \
$(pyz:%.17g)" append results.txt screen no
undump d
"""

# (structure, newton, pair_style): chunk 7 splits the local atoms into many model calls;
# "shell" is the full ghost shell of message passing (no effect on a local model)
CASES = [(tag, newton, "geodl") for tag in structures() for newton in ("on", "off")]
CASES += [("tric", "off", "geodl chunk 7")]
CASES += [("tric", "on", "geodl shell"), ("slab", "off", "geodl shell")]
CASES += [("cluster", "on", "geodl shell chunk 9")]


def _key(tag: str, newton: str, style: str) -> str:
    return "_".join([tag, newton, *style.split()[1:]])


def _script(model: Path, cwd: Path) -> str:
    parts = []
    for tag, (atoms, _) in structures().items():
        write_data(atoms, cwd / f"{tag}.data")
    for tag, newton, style in CASES:
        parts.append(
            SECTION.format(
                newton=newton,
                boundary=structures()[tag][1],
                data=cwd / f"{tag}.data",
                style=style,
                model=model,
                tag=_key(tag, newton, style),
            )
        )
    return "".join(parts)


#: se_e2_a, the test-only message-passing family, and every other registered family
FAMILIES = ["se_e2_a", "toy_message_passing", *[f for f in MODEL_TYPES if f != "se_e2_a"]]


@pytest.fixture(scope="module", params=FAMILIES)
def runs(request: pytest.FixtureRequest, lammps_bin: Path, tmp_path_factory) -> tuple:
    """(deployed model, {nprocs: LAMMPS run of every case})."""
    if request.param == "se_e2_a":
        deployed: Deployed = request.getfixturevalue("se_model")
    elif request.param == "toy_message_passing":
        deployed = request.getfixturevalue("mp_model")
    else:
        deployed = family_model(request.param, tmp_path_factory)
    out = {}
    with shared_dir(tmp_path_factory, f"runs_{request.param}") as (root, done):
        for nprocs in (1, 2, 4):
            cwd = root / f"np{nprocs}"
            if done:
                run = finished_run(cwd)
            else:
                cwd.mkdir(exist_ok=True)
                run = run_lammps(lammps_bin, _script(deployed.pth, cwd), cwd, nprocs=nprocs)
            assert run.returncode == 0, run.output[-3000:]
            out[nprocs] = run
    return deployed, out


def _per_atom_virial(pth: Path, atoms: ase.Atoms) -> np.ndarray:
    """Half of each edge's -r (x) dE/dr to either end, symmetrised (the plugin's split)."""
    module = load_deployed(pth)
    pos = torch.tensor(atoms.positions)
    cell = torch.tensor(atoms.cell.array)
    edge_index, shifts = neighbor_list(pos, float(module.r_cut), cell, tuple(atoms.pbc))
    vec = pos[edge_index[1]] - pos[edge_index[0]] + shifts.to(pos.dtype) @ cell
    species = torch.tensor([TYPE_MAP.index(s) for s in atoms.get_chemical_symbols()])
    _, _, grad = module(species, vec, edge_index, len(atoms))
    w = -vec.unsqueeze(-1) * grad.unsqueeze(-2)
    w = 0.5 * (w + w.transpose(1, 2))
    v6 = torch.stack([w[:, 0, 0], w[:, 1, 1], w[:, 2, 2], w[:, 0, 1], w[:, 0, 2], w[:, 1, 2]], 1)
    va = torch.zeros(len(atoms), 6, dtype=v6.dtype)
    va.index_add_(0, edge_index[0], 0.5 * v6).index_add_(0, edge_index[1], 0.5 * v6)
    return va.numpy()


@pytest.mark.parametrize("tag,newton,style", CASES)
def test_lammps_equals_ase_calculator(runs: tuple, tag: str, newton: str, style: str) -> None:
    deployed, by_ranks = runs
    run = by_ranks[1]
    atoms, _ = structures()[tag]
    n = len(atoms)
    atoms.calc = GeoDLCalculator(deployed.model, dtype="float64")
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    energies = atoms.get_potential_energies()
    thermo = run.results()[_key(tag, newton, style)]
    dump = run.dump(_key(tag, newton, style))
    assert abs(thermo[0] - energy) / n <= 1e-8
    np.testing.assert_allclose(dump[:, 1:4], forces, rtol=0, atol=1e-8)
    np.testing.assert_allclose(dump[:, 4], energies, rtol=0, atol=1e-8)
    # per-atom virial: compute stress/atom = -W_i (bar A^3); the sum is the global virial
    w_atoms = _per_atom_virial(deployed.pth, atoms)
    scale = np.abs(w_atoms).max() * NKTV2P
    np.testing.assert_allclose(dump[:, 5:11], -w_atoms * NKTV2P, rtol=0, atol=1e-9 * scale)
    if atoms.pbc.all():
        s = atoms.get_stress(voigt=False)
        pressure = -np.array([s[0, 0], s[1, 1], s[2, 2], s[0, 1], s[0, 2], s[1, 2]]) * NKTV2P
        np.testing.assert_allclose(thermo[1:], pressure, rtol=0, atol=1e-9 * np.abs(pressure).max())
        volume = atoms.get_volume()
        np.testing.assert_allclose(
            -dump[:, 5:11].sum(0) / volume, thermo[1:], rtol=0, atol=1e-9 * np.abs(pressure).max()
        )


@pytest.mark.parametrize("nprocs", [2, 4])
def test_any_number_of_ranks_gives_the_same_result(runs: tuple, nprocs: int) -> None:
    _, by_ranks = runs
    one, many = by_ranks[1], by_ranks[nprocs]
    for case in CASES:
        key = _key(*case)
        a, b = one.results()[key], many.results()[key]
        assert abs(a[0] - b[0]) <= 1e-11 * abs(a[0]), key
        np.testing.assert_allclose(b[1:], a[1:], rtol=0, atol=1e-9 * np.abs(a[1:]).max())
        da, db = one.dump(key), many.dump(key)
        np.testing.assert_array_equal(da[:, 0], db[:, 0])
        np.testing.assert_allclose(db[:, 1:5], da[:, 1:5], rtol=0, atol=1e-11)
        np.testing.assert_allclose(
            db[:, 5:], da[:, 5:], rtol=0, atol=1e-9 * np.abs(da[:, 5:]).max()
        )


def test_log_names_the_mode(runs: tuple) -> None:
    deployed, by_ranks = runs
    log = (by_ranks[2].cwd / "log.lammps").read_text()
    assert "pair_style geodl:" in log
    if deployed.model.receptive_field <= deployed.model.r_cut:
        assert "local model: edges from owned atoms" in log
        assert "(the exchange / shell keyword has no effect)" in log
        return
    assert "message passing: ghost shell over the receptive field\n" in log  # "shell" cases
    assert "ghost cutoff set to" in log
    if hasattr(deployed.model.core.atomic, "layer"):
        assert "node features exchanged between layers" in log
    else:
        assert "(the model file has no per-layer path)" in log


NVE = """
units metal
atom_style atomic
atom_modify map yes
boundary p p p
read_data {data}
pair_style geodl
pair_coeff * * {model} Cu Au
timestep 0.001
fix 1 all nve
thermo_style custom step pe ke etotal
thermo_modify format float %.17g
thermo 1
run {steps}
write_dump all custom final.dump id x y z modify sort id format float %.17g
"""


def _thermo(log: str) -> np.ndarray:
    block = log.split("Step")[-1].split("Loop time")[0]
    return np.array([[float(v) for v in line.split()] for line in block.splitlines()[1:] if line])


@pytest.mark.parametrize("family", ["se_e2_a", "equivariant"])
def test_nve_conserves_energy_like_the_ase_route(
    lammps_bin: Path, family: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """100 steps of NVE on 2 ranks (equivariant: exchange mode) follow ASE's velocity
    Verlet with the same model."""
    if family == "se_e2_a":
        deployed: Deployed = request.getfixturevalue("se_model")
    else:
        deployed = family_model(family, request.getfixturevalue("tmp_path_factory"))
    steps = 100
    atoms = cuau_cell(seed=3)
    rng = np.random.default_rng(0)
    atoms.set_momenta(
        rng.normal(size=(len(atoms), 3)) * np.sqrt(atoms.get_masses() * units.kB * 300)[:, None]
    )
    write_data(atoms, tmp_path / "nve.data", velocities=True)
    run = run_lammps(
        lammps_bin,
        NVE.format(data=tmp_path / "nve.data", model=deployed.pth, steps=steps),
        tmp_path,
        nprocs=2,
    )
    assert run.returncode == 0, run.output[-3000:]
    lmp = _thermo((tmp_path / "log.lammps").read_text())
    assert lmp.shape == (steps + 1, 4)

    atoms.calc = GeoDLCalculator(deployed.model, dtype="float64")
    dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    ref = [atoms.get_total_energy()]
    for _ in range(steps):
        dyn.run(1)
        ref.append(atoms.get_total_energy())
    n = len(atoms)
    drift_lmp = np.abs(lmp[:, 3] - lmp[0, 3]).max() / n
    drift_ase = np.abs(np.array(ref) - ref[0]).max() / n
    assert drift_lmp < 1e-4, drift_lmp  # eV/atom over 100 fs
    assert abs(drift_lmp - drift_ase) <= 0.01 * drift_ase + 1e-9
    np.testing.assert_allclose(lmp[:, 3], ref, rtol=0, atol=1e-7 * n)
    final = np.loadtxt(tmp_path / "final.dump", skiprows=9)
    cell = atoms.cell.array
    delta = final[:, 1:4] - atoms.positions
    delta -= np.round(delta @ np.linalg.inv(cell)) @ cell  # LAMMPS wraps into the box
    assert np.abs(delta).max() < 1e-7
