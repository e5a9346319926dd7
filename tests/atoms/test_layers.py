from __future__ import annotations

import pytest
import torch

from geodl.atoms import AtomicFitting, ResidualMLP
from geodl.atoms._layers import ACTIVATIONS, resolve_activation


def test_residual_modes_and_repr() -> None:
    mlp = ResidualMLP(4, (4, 8, 5), out_features=2)
    assert mlp.modes == [1, 2, 0]
    assert mlp(torch.randn(3, 4)).shape == (3, 2)
    text = repr(mlp)
    assert "ResidualMLP(" in text and "widths=(4, 8, 5)" in text and "residual=True" in text


def test_doubling_skip_is_concatenation() -> None:
    mlp = ResidualMLP(2, (4,), out_features=None)
    with torch.no_grad():
        mlp.layers[0].weight.zero_()
        mlp.layers[0].bias.zero_()
    x = torch.tensor([[1.0, 2.0]])
    assert mlp(x).tolist() == [[1.0, 2.0, 1.0, 2.0]]


def test_no_residual() -> None:
    assert ResidualMLP(3, (3, 3), residual=False).modes == [0, 0]


def test_activation_registry() -> None:
    assert set(ACTIVATIONS) >= {"tanh", "silu"}
    assert isinstance(resolve_activation("silu"), torch.nn.SiLU)
    with pytest.raises(ValueError, match="Valid activations: gelu, silu, softplus, tanh"):
        resolve_activation("relu")


def test_fitting_routes_atoms_to_their_species_net() -> None:
    fit = AtomicFitting(3, 4, (6,))
    desc = torch.randn(5, 4)
    species = torch.tensor([2, 0, 1, 2, 0])
    out = fit(desc, species)
    for i, t in enumerate(species.tolist()):
        assert out[i].item() == pytest.approx(fit.nets[t](desc[i : i + 1]).item(), rel=1e-6)
    assert "num_types=3, in_features=4, widths=(6,)" in repr(fit)


def test_fitting_gradient_flows_per_species() -> None:
    fit = AtomicFitting(2, 3, (4,))
    desc = torch.randn(4, 3, requires_grad=True)
    fit(desc, torch.tensor([0, 0, 0, 0])).sum().backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in fit.nets[1].parameters())
    assert desc.grad is not None and desc.grad.abs().sum() > 0
