from __future__ import annotations

import pytest
import torch

from geodl.atoms import (
    MODEL_TYPES,
    EnergyModel,
    EnergyModelConfig,
    SeE2AConfig,
    atoms_to_graph,
    model_config_from_dict,
    resolve_model_type,
)
from geodl.atoms.model import ModelFamily, register_model_type
from tests.atoms.conftest import TYPE_MAP, cu_au_cell, small_config


def test_default_family_is_se_e2_a() -> None:
    assert EnergyModelConfig is SeE2AConfig
    assert model_config_from_dict({"type_map": ["Cu"]}).type == "se_e2_a"
    assert "se_e2_a" in MODEL_TYPES


def test_unknown_type_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown model.type 'nope'. Valid model types: se_e2_a"):
        resolve_model_type("nope")
    with pytest.raises(ValueError, match="Valid model types"):
        model_config_from_dict({"type": "nope"})


def test_keys_of_another_family_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown keys \\['l_max'\\] for model type 'se_e2_a'"):
        model_config_from_dict({"type": "se_e2_a", "l_max": 2})
    with pytest.raises(ValueError, match="for model type 'se_e2_a', got type 'x'"):
        SeE2AConfig(type="x")


def test_registering_a_family_with_a_mismatched_config_fails() -> None:
    with pytest.raises(ValueError, match="set the config's class attribute type"):
        register_model_type(ModelFamily("other", SeE2AConfig, lambda c: None, "x"))
    assert "other" not in MODEL_TYPES


def test_given_reference_energies_are_used() -> None:
    e0s = {"Cu": -3.5, "Au": -1.25}
    model = EnergyModel(small_config(e0s=e0s))
    model.fit_statistics([atoms_to_graph(cu_au_cell(), TYPE_MAP, 4.0, dtype=torch.float64)])
    assert model.energy_shift.tolist() == [-3.5, -1.25]
    with pytest.raises(ValueError, match="no reference energy for \\['Au'\\]"):
        small_config(e0s={"Cu": 1.0})
    with pytest.raises(ValueError, match="'e0s' must be \"fit\""):
        small_config(e0s="guess")


def test_receptive_field_of_a_local_model_is_the_cutoff() -> None:
    assert EnergyModel(small_config(r_cut=3.5, r_smooth=2.0)).receptive_field == 3.5
