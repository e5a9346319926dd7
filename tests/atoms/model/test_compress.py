"""Compressed se_e2_a models (``compress_model``): accuracy against the uncompressed model,
symmetry verdicts of the harness (float64), forces/stress, files, TorchScript."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import ase
import numpy as np
import pytest
import torch

from geodl.atoms import (
    EnergyModel,
    atoms_to_graph,
    compress_model,
    compression_errors,
    load_model,
    save_model,
)
from geodl.atoms.model import probe_structures, table_error
from geodl.geometry import kernel_status
from geodl.symmetry import check_forces, check_invariance
from tests.atoms.conftest import TYPE_MAP, cu_au_cell, random_cluster, small_config

MakeModel = Callable[..., EnergyModel]


@pytest.fixture(scope="module")
def pair() -> tuple[EnergyModel, EnergyModel]:
    from tests.atoms.conftest import fitted_model

    model = fitted_model(small_config(), cu_au_cell((2, 2, 1))).eval()
    compressed, _ = compress_model(model, tolerance=1e-6)
    return model, compressed


def _graph(atoms: ase.Atoms) -> object:
    return atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64)


def test_record_and_table_within_tolerance(pair: tuple[EnergyModel, EnergyModel]) -> None:
    model, compressed = pair
    rec = compressed.config.compression
    assert rec is not None and rec["intervals"] >= 64
    assert rec["table_error"] <= 1e-6 and rec["table_derivative_error"] <= 1e-6
    # the record is measured: one grid coarser is outside the tolerance
    coarse = table_error(model.descriptor, rec["s_max"], rec["intervals"] // 2)
    assert rec["intervals"] == 64 or max(coarse) > 1e-6
    assert compressed.descriptor.compressed and not model.descriptor.compressed


@pytest.mark.parametrize("kind", ["periodic", "cluster"])
def test_energies_forces_stress_match_uncompressed(
    pair: tuple[EnergyModel, EnergyModel], kind: str
) -> None:
    model, compressed = pair
    atoms = cu_au_cell((2, 2, 1), seed=4) if kind == "periodic" else random_cluster(6)
    a, b = model(_graph(atoms), compute_stress=True), compressed(_graph(atoms), compute_stress=True)
    assert abs(float((a["energy"] - b["energy"]).detach())) / len(atoms) < 1e-6
    assert float((a["forces"] - b["forces"]).abs().max()) < 1e-4
    assert float((a["virial"] - b["virial"]).abs().max()) < 1e-4


def test_compression_errors_on_probe_structures(pair: tuple[EnergyModel, EnergyModel]) -> None:
    model, compressed = pair
    errs = compression_errors(model, compressed, probe_structures(model, count=2))
    assert errs["force_max"] <= 1e-4 and errs["energy_per_atom_max"] <= 1e-6
    assert errs["atoms"] == 216 and errs["force_scale"] > 0


def test_forces_and_stress_are_derivatives(pair: tuple[EnergyModel, EnergyModel]) -> None:
    _, compressed = pair
    atoms = cu_au_cell((2, 2, 1), seed=2)
    out = compressed(_graph(atoms), compute_stress=True)
    f = compressed.energy_function()
    species = _graph(atoms).species
    pos = torch.tensor(atoms.positions)
    cell = torch.tensor(atoms.cell.array)
    h = 1e-5
    for i, k in [(0, 0), (3, 2), (2, 1)]:
        dp = torch.zeros_like(pos)
        dp[i, k] = h
        fd = (f(species, pos + dp, cell) - f(species, pos - dp, cell)) / (2 * h)
        assert float(-fd) == pytest.approx(float(out["forces"][i, k]), abs=1e-7)
    eps = torch.zeros(3, 3, dtype=torch.float64)
    eps[0, 1] = eps[1, 0] = h
    e_plus = f(species, pos @ (torch.eye(3) + eps).double(), cell @ (torch.eye(3) + eps).double())
    e_minus = f(species, pos @ (torch.eye(3) - eps).double(), cell @ (torch.eye(3) - eps).double())
    dedeps = (e_plus - e_minus) / (2 * h) / 2  # eps_01 and eps_10 move together
    volume = abs(float(torch.linalg.det(cell)))
    assert float(out["stress"][0, 0, 1]) == pytest.approx(float(dedeps) / volume, abs=1e-8)


@pytest.mark.parametrize("group", ["E3", "O3", "translation", "permutation"])
def test_harness_says_exact(pair: tuple[EnergyModel, EnergyModel], group: str) -> None:
    _, compressed = pair
    atoms = cu_au_cell((2, 2, 1), seed=5)
    g = _graph(atoms)
    inputs = (g.species, g.pos, g.cell[0])
    f = compressed.energy_function()
    report = check_invariance(f, group, inputs, kind="atoms")
    assert report.verdict == "exact", str(report)
    if group in ("E3", "permutation"):
        forces = check_forces(f, group, inputs, kind="atoms")
        assert forces.verdict == "exact", str(forces)


def test_native_reference_and_fallback_paths_agree(
    pair: tuple[EnergyModel, EnergyModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    from geodl.geometry import _kernels

    _, compressed = pair
    g = _graph(cu_au_cell((2, 2, 1), seed=6))
    native = compressed(g, compute_stress=True)
    compressed.train()  # the differentiable reference path (training, TorchScript)
    try:
        reference = compressed(g, compute_stress=True)
    finally:
        compressed.eval()
    monkeypatch.setitem(_kernels._cache, "geodl_kernels", None)  # as without a compiler
    fallback = compressed(g, compute_stress=True)
    for out in (reference, fallback):
        for key in ("energy", "forces", "stress"):
            assert torch.allclose(native[key], out[key], atol=1e-12), key


def test_native_kernel_is_built_where_a_compiler_exists() -> None:
    import shutil

    if shutil.which("g++") is None and shutil.which("c++") is None:
        pytest.skip("no C++ compiler: the pure-torch path is used (tested above)")
    assert kernel_status()["se_a_table"] == "native"


def test_file_round_trip_calculator_and_script(
    pair: tuple[EnergyModel, EnergyModel], tmp_path: Path
) -> None:
    from geodl.atoms.ase import GeoDLCalculator

    _, compressed = pair
    path = tmp_path / "compressed.pt"
    save_model(compressed, path)
    loaded = load_model(path)
    assert loaded.config.compression == compressed.config.compression
    assert torch.equal(loaded.descriptor.table, compressed.descriptor.table)
    atoms = cu_au_cell((2, 2, 1), seed=7)
    atoms.calc = GeoDLCalculator(str(path), dtype="float64")
    g = _graph(atoms)
    want = compressed(g)
    np.testing.assert_allclose(atoms.get_forces(), want["forces"].detach().numpy(), atol=1e-12)
    # TorchScript (deployment) takes the reference path of the same table
    scripted = torch.jit.script(loaded.core)
    species, pos, edge_index = g.species, g.pos, g.edge_index
    from geodl.geometry import edge_vectors

    vec = edge_vectors(pos, edge_index, g.shifts, g.cell, torch.zeros(len(pos), dtype=torch.long))
    e_script = scripted.atomic_energies(species, vec, edge_index)
    assert torch.allclose(e_script, want["atomic_energies"], atol=1e-12)


def test_bad_requests_raise() -> None:
    model = EnergyModel(small_config())
    with pytest.raises(ValueError, match="tolerance"):
        compress_model(model, tolerance=0.0)
    with pytest.raises(ValueError, match="r_min"):
        compress_model(EnergyModel(small_config(min_distance=0.0)))
    with pytest.raises(ValueError, match="intervals"):
        dataclasses.replace(small_config(), compression={"s_max": 1.0})
