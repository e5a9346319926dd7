"""Lie derivative: zero for equivariant models, proportional to the break otherwise."""

from __future__ import annotations

import math
from types import ModuleType

import pytest
import torch

from geodl.symmetry import lie_derivative


def test_invariant_model_has_zero_lie_derivative(reference_models: ModuleType) -> None:
    x = torch.randn(6, 3, dtype=torch.float64)
    d = lie_derivative(reference_models.deeppot_se(), "SE3", x)
    assert set(d) == {
        "rotation xy",
        "rotation xz",
        "rotation yz",
        "translation x",
        "translation y",
        "translation z",
    }
    assert max(d.values()) < 1e-7


def test_literal_omega_has_a_rotational_lie_derivative(reference_models: ModuleType) -> None:
    x = torch.randn(6, 3, dtype=torch.float64)
    d = lie_derivative(reference_models.literal_omega(), "SE3", x)
    assert min(d[k] for k in d if k.startswith("rotation")) > 1e-3
    assert max(d[k] for k in d if k.startswith("translation")) < 1e-7


def test_equivariant_output_and_size_of_a_small_break() -> None:
    x = torch.randn(5, 3, dtype=torch.float64)
    d = lie_derivative(lambda p: p - p.mean(0), "SO3", x, out_rep="equivariant")
    assert max(d.values()) < 1e-7
    eps = 1e-3

    def f(p: torch.Tensor) -> torch.Tensor:
        return torch.cdist(p, p).sum() * (1 + eps * p[0, 0])

    d = lie_derivative(f, "SO3", x)
    # L_A f / f = eps (A x_0)_x / (1 + eps x_00): the xy / xz rotations move x_00 by
    # -y_0 / -z_0 and the yz rotation does not move it at all.
    scale = eps / (1 + eps * float(x[0, 0]))
    assert math.isclose(d["rotation xy"], scale * abs(float(x[0, 1])), rel_tol=1e-4, abs_tol=1e-9)
    assert math.isclose(d["rotation xz"], scale * abs(float(x[0, 2])), rel_tol=1e-4, abs_tol=1e-9)
    assert d["rotation yz"] < 1e-8


def test_discrete_groups_have_no_lie_algebra() -> None:
    with pytest.raises(ValueError, match="discrete"):
        lie_derivative(lambda x: x.sum(), "C4", torch.randn(1, 4, 4))
