import pytest
import torch

from geodl.nn import ConvNet1d, LeNet5
from geodl.symmetry import check_invariance, verify_declarations


def test_lenet5_classic_shapes_and_parameter_count() -> None:
    net = LeNet5()
    assert net(torch.randn(1, 32, 32)).shape == (10,)
    assert net(torch.randn(3, 1, 32, 32)).shape == (3, 10)
    # LeCun et al.: C1 156, C3 2416 (full connection table), F5 48120, F6 10164, out 850
    assert sum(p.numel() for p in net.parameters()) == 156 + 2416 + 48120 + 10164 + 850
    assert "image_size=32, padding='valid'" in repr(net)


def test_lenet5_for_digits() -> None:
    net = LeNet5(
        image_size=8,
        kernel_size=3,
        padding="same",
        channels=(8, 16),
        pool="max",
        activation="relu",
        dropout=0.25,
    )
    assert net(torch.randn(5, 1, 8, 8)).shape == (5, 10)


def test_lenet5_errors() -> None:
    with pytest.raises(ValueError, match="shrinks to nothing"):
        LeNet5(image_size=8)
    with pytest.raises(ValueError, match=r"expected images of shape \(1, 32, 32\)"):
        LeNet5()(torch.randn(1, 28, 28))


def test_lenet5_is_not_shift_invariant(float64) -> None:
    net = LeNet5(image_size=16, kernel_size=3, padding="circular")
    x = torch.randn(1, 16, 16)
    assert all(r.matches_declaration for r in verify_declarations(net, x))


def test_convnet1d_shapes_and_errors() -> None:
    net = ConvNet1d(1, 10, 40, channels=(8, 8), strides=(1, 2))
    assert net(torch.randn(1, 40)).shape == (10,)
    assert net(torch.randn(4, 1, 40)).shape == (4, 10)
    assert "head='flatten'" in repr(net)
    with pytest.raises(ValueError, match="one stride per conv layer"):
        ConvNet1d(1, 10, 40, channels=(8, 8), strides=(1,))
    with pytest.raises(ValueError, match=r"expected signals of shape \(1, 40\)"):
        net(torch.randn(1, 41))
    with pytest.raises(ValueError, match="Valid choices: global, flatten"):
        ConvNet1d(1, 10, 40, head="attention")


@pytest.mark.parametrize("padding, verdict", [("circular", "exact"), ("same", "approximate")])
def test_global_head_gives_shift_invariance(padding: str, verdict: str, float64) -> None:
    net = ConvNet1d(1, 10, 512, channels=(4, 4), kernel_size=3, padding=padding, head="global")
    x = torch.randn(1, 512)
    assert check_invariance(net, "shift", x).verdict == verdict
    assert all(r.matches_declaration for r in verify_declarations(net, x))


def test_flatten_head_breaks_invariance(float64) -> None:
    net = ConvNet1d(1, 10, 40, channels=(4, 4), head="flatten")
    assert all(r.matches_declaration for r in verify_declarations(net, torch.randn(1, 40)))
