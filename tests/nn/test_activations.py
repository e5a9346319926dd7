import pytest
import torch
from torch import nn

from geodl.nn import ACTIVATIONS, get_activation


def test_registry_has_the_lecture_table() -> None:
    assert set(ACTIVATIONS) == {
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "prelu",
        "softplus",
        "gelu",
        "silu",
    }


@pytest.mark.parametrize(
    "name, formula",
    [
        ("sigmoid", lambda x: 1 / (1 + torch.exp(-x))),
        ("tanh", lambda x: (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))),
        ("relu", lambda x: torch.clamp(x, min=0)),
        ("leaky_relu", lambda x: torch.maximum(0.01 * x, x)),
        ("prelu", lambda x: torch.maximum(0.25 * x, x)),
        ("softplus", lambda x: torch.log(1 + torch.exp(x))),
        ("gelu", lambda x: x * 0.5 * (1 + torch.erf(x / 2**0.5))),
        ("silu", lambda x: x / (1 + torch.exp(-x))),
    ],
)
def test_matches_the_formula(name: str, formula, float64) -> None:
    x = torch.linspace(-4, 4, 101)
    torch.testing.assert_close(get_activation(name)(x), formula(x))


def test_prelu_is_learnable_and_not_shared() -> None:
    a, b = get_activation("prelu"), get_activation("prelu")
    assert [p.requires_grad for p in a.parameters()] == [True]
    assert a.weight is not b.weight


def test_name_normalisation_and_module_passthrough() -> None:
    assert isinstance(get_activation("Leaky-ReLU"), nn.LeakyReLU)
    m = nn.Tanh()
    assert get_activation(m) is m


def test_unknown_name_lists_choices() -> None:
    with pytest.raises(ValueError, match="Valid names: sigmoid, tanh, relu"):
        get_activation("swish2")
    with pytest.raises(TypeError, match="'activation' must be"):
        get_activation(3)  # type: ignore[arg-type]
