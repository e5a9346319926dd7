"""Dataset recipes are deterministic and labelled; the shipped files follow them."""

from __future__ import annotations

import numpy as np
import pytest

from geodl.atoms.ase import make_argon_lj, make_cuau_emt, make_molecule_mmff94
from geodl.atoms.data import bundled_dataset, read_structures


def test_cuau_recipe_is_deterministic_and_reproduces_the_shipped_file() -> None:
    a = make_cuau_emt(1, seed=0, frames_per_run=1)
    b = make_cuau_emt(1, seed=0, frames_per_run=1)
    assert len(a) == len(b) == 1
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.positions, y.positions)
    shipped = read_structures(bundled_dataset("cuau"), index=":1")
    assert len(shipped) == 1
    for x, e, f, s in zip(a, shipped.energy, shipped.forces, shipped.structures, strict=True):
        np.testing.assert_allclose(x.positions, s.positions, atol=1e-6)
        assert x.get_potential_energy() == pytest.approx(e, abs=1e-6)
        np.testing.assert_allclose(x.get_forces(), f, atol=1e-6)
    assert len(a[0]) == 32 and a[0].info["kind"] == "bulk"
    assert (
        make_cuau_emt(1, seed=1, frames_per_run=1)[0].positions.tolist() != a[0].positions.tolist()
    )


def test_molecule_and_argon_recipes() -> None:
    frames = make_molecule_mmff94("ethanol", n_structures=3, temperatures=(300.0, 600.0))
    assert [f.info["temperature_K"] for f in frames] == [300.0, 300.0, 600.0]
    assert frames[0].get_forces().shape == (9, 3)
    with pytest.raises(ValueError, match="unknown molecule 'water'.*aspirin"):
        make_molecule_mmff94("water")
    with pytest.raises(ValueError, match="'temperatures' is empty"):
        make_molecule_mmff94("ethanol", n_structures=3, temperatures=())
    argon = make_argon_lj(2)
    assert argon[0].get_stress().shape == (6,) and argon[0].pbc.all()


@pytest.mark.parametrize("name", ["cuau", "argon", "ethanol", "malonaldehyde", "aspirin"])
def test_shipped_files_are_small_and_labelled(name: str) -> None:
    path = bundled_dataset(name)
    assert path.stat().st_size < 2_000_000
    ds = read_structures(path, index=":4")
    assert len(ds) == 4 and np.isfinite(ds.energy).all()


def test_cuau_recipe_rejects_settings_that_would_fail_or_never_finish() -> None:
    with pytest.raises(ValueError, match="kinds must be.*'surface'"):
        make_cuau_emt(1, kinds=("surface",))
    with pytest.raises(ValueError, match="frames_per_run' must be >= 1"):
        make_cuau_emt(1, frames_per_run=0)  # would loop forever
    with pytest.raises(ValueError, match="'temperatures' is empty"):
        make_argon_lj(1, temperatures=())
