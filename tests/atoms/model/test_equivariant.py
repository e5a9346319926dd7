"""The equivariant message-passing family: config, layer irreps (harness), periodic
images beyond the cell, lattice shifts, float32, scripting, files."""

from __future__ import annotations

from pathlib import Path

import ase
import numpy as np
import pytest
import torch

from geodl.atoms import (
    AtomisticModel,
    EquivariantConfig,
    atoms_to_graph,
    load_model,
    model_config_from_dict,
    neighbor_list,
    save_model,
)
from geodl.atoms.model import Equivariant
from geodl.errors import InputError
from geodl.geometry import edge_vectors
from geodl.symmetry import check_equivariance
from tests.atoms.conftest import (
    TYPE_MAP,
    cu_au_cell,
    fitted_model,
    random_cluster,
    small_equivariant_config,
)


def _graph(atoms: ase.Atoms, model: AtomisticModel, dtype: torch.dtype = torch.float64):  # noqa: ANN202
    return atoms_to_graph(atoms, TYPE_MAP, model.r_cut, dtype=dtype)


def _inputs(atoms: ase.Atoms) -> tuple[torch.Tensor, ...]:
    g = atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64)
    return (g.species, g.pos, g.cell[0]) if atoms.pbc.any() else (g.species, g.pos)


# ------------------------------------------------------------------------ config
def test_config_defaults_round_trip_and_registry() -> None:
    cfg = EquivariantConfig(type_map=["Cu", "Au"])
    assert cfg.type == "equivariant" and cfg.to_dict()["type"] == "equivariant"
    assert model_config_from_dict(cfg.to_dict()) == cfg
    assert model_config_from_dict({"type": "equivariant", "type_map": ["H"]}).l_max == cfg.l_max
    model = AtomisticModel(small_equivariant_config(r_cut=3.5, layers=3))
    assert model.receptive_field == pytest.approx(10.5)
    assert isinstance(model.core.atomic, Equivariant)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("l_max", 7, r"model\.l_max must be one of 0, 1, 2, 3 \(an integer\), got 7\."),
        ("l_max", "two", r"model\.l_max must be one of 0, 1, 2, 3"),
        ("channels", 0, r"model\.channels must be >= 1 and <= 4096 \(an integer\), got 0\."),
        ("layers", 0, r"model\.layers must be >= 1 and <= 16"),
        ("correlation", 4, r"model\.correlation must be >= 1 and <= 3"),
        ("hidden_l_max", -1, r"model\.hidden_l_max must be one of 0, 1, 2, 3"),
        ("radial_mlp", [8, 0], r"model\.radial_mlp must be >= 1 .*a list of integers"),
        ("radial_mlp", "8", r"model\.radial_mlp must be .*a list of integers"),
        ("activation", "swish", r"model\.activation must be one of .*silu"),
        ("avg_num_neighbors", -2.0, r"model\.avg_num_neighbors must be > 0 .*or null"),
    ],
)
def test_invalid_options_name_the_valid_range(key: str, value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        model_config_from_dict({"type": "equivariant", "type_map": ["Cu"], key: value})


def test_unknown_key_lists_the_family_keys() -> None:
    with pytest.raises(ValueError, match="unknown keys \\['r_smooth'\\].*Valid keys: .*l_max"):
        model_config_from_dict({"type": "equivariant", "r_smooth": 0.5})


# ------------------------------------------------------------- layer by layer
def _layer(model: AtomisticModel, t: int):  # noqa: ANN202
    fam = model.core.atomic

    def features(species: torch.Tensor, pos: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        edge_index, shifts = neighbor_list(pos, model.r_cut, cell, True)
        batch = torch.zeros(len(pos), dtype=torch.long)
        vec = edge_vectors(pos, edge_index, shifts, cell[None], batch)
        return fam.node_features(species, vec, edge_index)[t]

    return features


def test_node_features_transform_by_their_declared_irreps() -> None:
    """The harness checks each layer's features against its irreps (O(3), float64)."""
    atoms = cu_au_cell()
    model = fitted_model(small_equivariant_config(l_max=3, hidden_l_max=2, layers=3), atoms)
    irreps = model.core.atomic.irreps_per_layer
    assert irreps == ["4x0e + 4x1o + 4x2e", "4x0e + 4x1o + 4x2e", "4x0e"]
    for t, rep in enumerate(irreps):
        report = check_equivariance(
            _layer(model, t), "O3", _inputs(atoms), kind="atoms", out_rep=f"per-point:{rep}"
        )
        assert report.verdict == "exact", str(report)
    # control: declaring the vectors as pseudovectors is caught
    wrong = irreps[0].replace("1o", "1e")
    report = check_equivariance(
        _layer(model, 0), "O3", _inputs(atoms), kind="atoms", out_rep=f"per-point:{wrong}"
    )
    assert report.verdict == "broken"


# --------------------------------------------------------- periodic images
def test_small_cell_equals_its_supercell_per_atom() -> None:
    """A cell much smaller than the receptive field (2 x 4 Å): energy per atom, forces and
    stress equal those of the 2x2x2 supercell (the periodic graph carries the images)."""
    atoms = cu_au_cell((2, 1, 1), seed=4)  # two atoms in a 2.6 x 2.6 x 5.2 Å cell
    atoms.symbols[1] = "Cu"
    model = fitted_model(small_equivariant_config(), atoms)
    big = atoms * (2, 2, 2)
    small_out = model(_graph(atoms, model), compute_stress=True)
    big_out = model(_graph(big, model), compute_stress=True)
    n = len(atoms)
    assert small_out["energy"].item() / n == pytest.approx(
        big_out["energy"].item() / len(big), rel=1e-12
    )
    assert torch.allclose(big_out["forces"][:n], small_out["forces"], atol=1e-12)
    assert torch.allclose(big_out["stress"], small_out["stress"], atol=1e-12)
    assert model.receptive_field > max(atoms.cell.lengths())


def test_lattice_vector_shifts_leave_everything_unchanged() -> None:
    """Moving atoms by whole lattice vectors (another choice of images) changes nothing.
    (The harness has no lattice-shift group yet: checked directly.)"""
    atoms = cu_au_cell((2, 1, 1))
    model = fitted_model(small_equivariant_config(), atoms)
    moved = atoms.copy()
    cell = atoms.cell.array
    moved.positions[0] += cell[0] - 2 * cell[2]
    moved.positions[1] -= cell[1]
    a, b = model(_graph(atoms, model)), model(_graph(moved, model))
    assert a["energy"].item() == pytest.approx(b["energy"].item(), rel=1e-13)
    assert torch.allclose(a["forces"], b["forces"], atol=1e-12)


# ----------------------------------------------------------------- numerics
def test_float32_matches_float64() -> None:
    atoms = cu_au_cell()
    m64 = fitted_model(small_equivariant_config(), atoms)
    m32 = AtomisticModel(small_equivariant_config(dtype="float32"))
    m32.load_state_dict({k: v.float() for k, v in m64.state_dict().items()})
    out64 = m64(_graph(atoms, m64))
    out32 = m32(_graph(atoms, m32, torch.float32))
    assert out32["forces"].dtype == torch.float32
    assert out32["energy"].item() == pytest.approx(out64["energy"].item(), rel=1e-5)
    scale = float(out64["forces"].detach().abs().max())
    assert torch.allclose(out32["forces"].double(), out64["forces"], atol=1e-4 * scale)


def test_every_parameter_gets_a_gradient_from_forces() -> None:
    atoms = cu_au_cell()
    model = fitted_model(small_equivariant_config(correlation=3), atoms).train()
    out = model(_graph(atoms, model), compute_stress=True)
    (out["forces"].pow(2).sum() + out["stress"].pow(2).sum() + out["energy"].sum()).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert missing == []


@pytest.mark.parametrize("correlation", [1, 3])
def test_scripted_equals_eager(correlation: int) -> None:
    from geodl.atoms.model._model import _graph_tensors

    atoms = cu_au_cell()
    model = fitted_model(small_equivariant_config(correlation=correlation), atoms).eval()
    args = _graph_tensors(_graph(atoms, model))
    eager = model.compute(*args, True, True)
    scripted = model.scripted()(*args, True, True)
    for key in eager:
        assert torch.allclose(eager[key], scripted[key], rtol=1e-12, atol=1e-14), key
    # the deployment entry point: atomic energies from edge vectors
    species, pos, edge_index, shifts, cell, batch, _ = args
    vec = edge_vectors(pos, edge_index, shifts, cell, batch)
    deployed = model.scripted().atomic_energies(species, vec, edge_index)
    assert torch.allclose(deployed.sum(), eager["energy"].sum(), rtol=1e-12)


def test_fit_statistics_sets_the_mean_neighbour_count_and_files_keep_it(tmp_path: Path) -> None:
    structures = [cu_au_cell(), random_cluster(5)]
    model = AtomisticModel(small_equivariant_config())
    graphs = [atoms_to_graph(a, TYPE_MAP, 4.0, dtype=torch.float64) for a in structures]
    stats = model.fit_statistics(graphs)
    edges = sum(g.edge_index.shape[1] for g in graphs)
    atoms = sum(g.num_nodes for g in graphs)
    assert stats["avg_num_neighbors"] == pytest.approx(edges / atoms)
    fixed = AtomisticModel(small_equivariant_config(avg_num_neighbors=7.0))
    assert fixed.fit_statistics(graphs)["avg_num_neighbors"] == 7.0
    path = tmp_path / "model.pt"
    save_model(model.eval(), path)
    loaded = load_model(path)
    assert loaded.config == model.config
    assert float(loaded.core.atomic.avg_num_neighbors) == pytest.approx(edges / atoms)
    a, b = model(graphs[0], compute_stress=True), loaded(graphs[0], compute_stress=True)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_isolated_atoms_feel_no_force_and_cutoff_is_smooth() -> None:
    """A dimer: energy and force go to zero continuously (with the first derivative of
    the force) as the distance reaches r_c."""
    model = fitted_model(small_equivariant_config(), cu_au_cell())
    r_c = model.r_cut

    def dimer(r: float) -> tuple[float, float]:
        atoms = ase.Atoms("CuAu", positions=[[0, 0, 0], [r, 0, 0]])
        out = model(_graph(atoms, model))
        return float(out["energy"][0]), float(out["forces"][1, 0])

    e_far, f_far = dimer(r_c + 0.5)
    assert f_far == 0.0
    rs = r_c - np.array([0.2, 0.1, 0.05, 0.025])
    de = np.array([abs(dimer(r)[0] - e_far) for r in rs])
    f = np.array([abs(dimer(r)[1]) for r in rs])
    assert de[0] > 0 and f[0] > 0
    # envelope of order p = 6 with SH-weighted radial MLPs: |E - E_far| ~ (r_c - r)^3 at
    # least, |F| ~ (r_c - r)^2 at least: halving the distance divides them by >= 4
    assert np.all(de[1:] <= de[:-1] / 4) and np.all(f[1:] <= f[:-1] / 3.5)


def test_symmetry_audit_of_a_periodic_alloy_finds_nothing_broken() -> None:
    """What ``geodl demo`` prints for a trained model: every group of an atoms input."""
    from geodl.symmetry import audit

    atoms = cu_au_cell((2, 2, 1))
    model = fitted_model(small_equivariant_config(), atoms)
    g = atoms_to_graph(atoms, TYPE_MAP, 4.0, dtype=torch.float64)
    report = audit(
        model.energy_function(), (g.species, g.pos, g.cell[0]), "invariant", kind="atoms", samples=2
    )
    verdicts = report.verdicts
    assert {"E3", "O3", "translation", "permutation"} <= set(verdicts), verdicts
    assert all(v == "exact" for v in verdicts.values()), str(report)


def test_size_check_counts_activations_and_names_the_family_keys() -> None:
    from geodl.atoms.model import check_model_size, model_size

    small = model_size(EquivariantConfig(type_map=TYPE_MAP))
    assert small.training_bytes > 5 * 4 * small.parameters  # activations are counted
    with pytest.raises(InputError, match="Reduce model.channels / model.radial_mlp"):
        check_model_size(EquivariantConfig(type_map=TYPE_MAP, channels=1024))
