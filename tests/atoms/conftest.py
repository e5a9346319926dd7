"""Small structures and models shared by the geodl.atoms tests."""

from __future__ import annotations

from collections.abc import Callable

import ase
import ase.build
import numpy as np
import pytest
import torch

from geodl.atoms import EnergyModel, EnergyModelConfig, EquivariantConfig, atoms_to_graph

TYPE_MAP = ["Cu", "Au"]


def small_config(**overrides: object) -> EnergyModelConfig:
    """A tiny model: fast, but every part of the architecture is there."""
    kw: dict[str, object] = dict(
        type_map=TYPE_MAP,
        r_cut=4.0,
        r_smooth=2.5,
        embed_widths=(6, 12),
        axis_neurons=3,
        fitting_widths=(12, 12),
        dtype="float64",
    )
    kw.update(overrides)
    return EnergyModelConfig(**kw)  # type: ignore[arg-type]


def cu_au_cell(repeat: tuple[int, int, int] = (2, 1, 1), seed: int = 1) -> ase.Atoms:
    """A rattled fcc Cu/Au cell (the default is smaller than 2 r_c: periodic images)."""
    atoms = ase.build.bulk("Cu", "fcc", a=3.7) * repeat
    atoms.rattle(0.15, seed=seed)
    atoms.symbols[0] = "Au"
    return atoms


def fitted_model(config: EnergyModelConfig, atoms: ase.Atoms) -> EnergyModel:
    """A model with statistics from ``atoms`` (descriptors O(1): a sensitive energy)."""
    torch.manual_seed(0)
    model = EnergyModel(config)
    model.fit_statistics([atoms_to_graph(atoms, config.type_map, config.r_cut)])
    return model


@pytest.fixture
def make_model() -> Callable[..., EnergyModel]:
    def make(atoms: ase.Atoms | None = None, **overrides: object) -> EnergyModel:
        cfg = small_config(**overrides)
        return fitted_model(cfg, atoms if atoms is not None else cu_au_cell())

    return make


def random_cluster(n: int = 6, seed: int = 0, box: float = 4.0) -> ase.Atoms:
    """A non-periodic Cu/Au cluster with no two atoms closer than 1.2 Å."""
    rng = np.random.default_rng(seed)
    pos = [rng.uniform(0, box, 3)]
    while len(pos) < n:
        p = rng.uniform(0, box, 3)
        if min(np.linalg.norm(p - q) for q in pos) > 1.2:
            pos.append(p)
    symbols = ["Cu" if k % 2 else "Au" for k in range(n)]
    return ase.Atoms(symbols, positions=np.array(pos))


def small_equivariant_config(**overrides: object) -> EquivariantConfig:
    """A tiny equivariant model with every part there: l = 2 harmonics and hidden features,
    two layers, products of order 2."""
    kw: dict[str, object] = dict(
        type_map=TYPE_MAP,
        r_cut=4.0,
        l_max=2,
        hidden_l_max=2,
        channels=4,
        layers=2,
        correlation=2,
        num_radial_basis=4,
        radial_mlp=(8,),
        readout_mlp=(4,),
        dtype="float64",
    )
    kw.update(overrides)
    return EquivariantConfig(**kw)  # type: ignore[arg-type]
