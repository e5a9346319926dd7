import pytest
import torch

from geodl.nn import MLP, ResidualBlock, ResNet
from geodl.symmetry import verify_declarations


def test_residual_block_is_x_plus_h(float64) -> None:
    h = MLP(4, [8], 4)
    block = ResidualBlock(h)
    x = torch.randn(3, 4)
    torch.testing.assert_close(block(x), x + h(x))
    assert ResidualBlock.mlp(4, 8)(x).shape == (3, 4)


def test_residual_block_identity_at_zero_branch() -> None:
    block = ResidualBlock.conv(3, spatial_dims=2)
    for p in block.parameters():
        torch.nn.init.zeros_(p)
    x = torch.randn(3, 5, 5)
    torch.testing.assert_close(block(x), x)


def test_residual_block_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="x \\+ h\\(x\\) needs them equal"):
        ResidualBlock(MLP(4, [8], 3))(torch.randn(4))
    with pytest.raises(TypeError, match="'h' must be an nn.Module"):
        ResidualBlock(lambda x: x)  # type: ignore[arg-type]


def test_residual_conv_block_keeps_equivariance(float64) -> None:
    block = ResidualBlock.conv(3, kernel_size=3, spatial_dims=1, padding="circular")
    reports = verify_declarations(block, torch.randn(3, 20))
    assert [r.verdict for r in reports] == ["exact"]
    assert all(r.matches_declaration for r in reports)


def test_resnet_shapes_repr_and_invariance(float64) -> None:
    net = ResNet(1, 10, width=6, blocks=2, spatial_dims=2)
    assert net(torch.randn(4, 1, 8, 8)).shape == (4, 10)
    assert "padding='circular'" in repr(net)
    reports = verify_declarations(net, torch.randn(1, 8, 8))
    assert [r.verdict for r in reports] == ["exact"]
    net1 = ResNet(2, 3, width=4, blocks=1, spatial_dims=1, padding="same")
    reports = verify_declarations(net1, torch.randn(2, 256))
    assert [r.verdict for r in reports] == ["approximate"]


def test_resnet_rejects_valid_padding() -> None:
    with pytest.raises(ValueError, match="'same' or 'circular'"):
        ResNet(1, 10, padding="valid")
