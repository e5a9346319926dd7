"""The shared physics and symmetry tests of every family, run on the equivariant family.

The test functions are those of ``test_model.py`` and ``test_symmetry.py``; here the
``make_model`` fixture builds a small equivariant model instead of a ``se_e2_a`` one.
"""

from __future__ import annotations

from collections.abc import Callable

import ase
import pytest

from geodl.atoms import AtomisticModel
from tests.atoms.conftest import cu_au_cell, fitted_model, small_equivariant_config
from tests.atoms.model.test_model import (  # noqa: F401 - collected here with this fixture
    test_bad_inputs_raise_clear_errors,
    test_batch_equals_single,
    test_continuous_as_neighbour_crosses_cutoff,
    test_forces_are_minus_energy_gradient,
    test_manual_rotation_of_periodic_cell,
    test_one_atom_cell_much_smaller_than_cutoff,
    test_stress_is_strain_derivative_periodic,
    test_virial_of_a_molecule,
)
from tests.atoms.model.test_symmetry import (  # noqa: F401
    test_declarations_verified,
    test_energy_invariant,
    test_energy_invariant_under_product_group,
    test_forces_equivariant,
    test_harness_sees_a_broken_energy,
    test_stress_is_rank2,
)


@pytest.fixture
def make_model() -> Callable[..., AtomisticModel]:
    def make(atoms: ase.Atoms | None = None, **overrides: object) -> AtomisticModel:
        cfg = small_equivariant_config(**overrides)
        model = fitted_model(cfg, atoms if atoms is not None else cu_au_cell())
        # unlabelled structures leave the output scale at 1; a trained model's is the RMS
        # force of its data. 20 makes the small random model's forces O(0.01-0.1) eV/Å.
        model.core.energy_scale.fill_(20.0)
        return model

    return make
