from __future__ import annotations

import pytest
import torch

from geodl.nn import ResidualMLP


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


def test_activation_comes_from_the_nn_registry() -> None:
    assert isinstance(ResidualMLP(1, (2,), activation="silu").act, torch.nn.SiLU)
    with pytest.raises(ValueError, match="activation"):
        ResidualMLP(1, (2,), activation="nope")
