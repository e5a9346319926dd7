"""Residual connections: the block x + h(x) and a small ResNet."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from geodl.nn._activations import get_activation
from geodl.nn._conv import PADDINGS, Conv1d, Conv2d, GlobalPool, Padding, conv_declarations
from geodl.nn._mlp import MLP
from geodl.nn._utils import as_batch, check_positive_int
from geodl.symmetry import Declaration

__all__ = ["ResidualBlock", "ResNet"]


class ResidualBlock(nn.Module):
    r"""Residual block :math:`x^{\ell+1} = x^\ell + h(x^\ell; \theta^\ell)`.

    ``h`` can be any module whose output has the input's shape: an :class:`MLP`
    (:meth:`mlp`) or a conv stack (:meth:`conv`).

    Parameters
    ----------
    h : nn.Module
        The residual branch.

    Shapes
    ------
    Those of ``h``, with output shape = input shape.

    Symmetry
    --------
    The identity commutes with every group action, so the block keeps each
    ``"equivariant"``/``"per-point"`` declaration of ``h`` with the same verdict.

    Examples
    --------
    >>> import torch
    >>> block = ResidualBlock.conv(8, kernel_size=3, spatial_dims=1, padding="circular")
    >>> block(torch.randn(8, 20)).shape
    torch.Size([8, 20])
    """

    def __init__(self, h: nn.Module) -> None:
        super().__init__()
        if not isinstance(h, nn.Module):
            raise TypeError(f"ResidualBlock: 'h' must be an nn.Module, got {type(h).__name__}.")
        self.h = h

    @classmethod
    def mlp(cls, features: int, hidden: int, activation: str = "relu") -> ResidualBlock:
        """Block with a two-layer MLP branch ``features -> hidden -> features``."""
        return cls(MLP(features, [hidden], features, activation=activation))

    @classmethod
    def conv(
        cls,
        channels: int,
        kernel_size: int = 3,
        spatial_dims: int = 2,
        padding: Padding = "circular",
        activation: str = "relu",
        layers: int = 2,
    ) -> ResidualBlock:
        """Block whose branch is ``layers`` convolutions (``channels -> channels``) with
        activations in between: ``conv, σ, conv, ..., conv``."""
        check_positive_int("ResidualBlock.conv", "layers", layers)
        if spatial_dims not in (1, 2):
            raise ValueError(
                f"ResidualBlock.conv: 'spatial_dims' must be 1 or 2, got {spatial_dims!r}."
            )
        conv = Conv1d if spatial_dims == 1 else Conv2d
        mods: list[nn.Module] = []
        for i in range(layers):
            if i:
                mods.append(get_activation(activation))
            mods.append(conv(channels, channels, kernel_size, padding=padding))
        return cls(nn.Sequential(*mods))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.h(x)
        if y.shape != x.shape:
            raise ValueError(
                f"ResidualBlock: the branch h maps shape {tuple(x.shape)} to "
                f"{tuple(y.shape)}; x + h(x) needs them equal."
            )
        return x + y

    def declared_symmetries(self) -> list[Declaration]:
        decls: list[Declaration] = []
        mods: list[Any] = (
            [self.h]
            if hasattr(self.h, "declared_symmetries")
            else [m for m in self.h.modules() if hasattr(m, "declared_symmetries")]
        )
        order = {"exact": 0, "approximate": 1, "broken": 2}
        merged: dict[tuple[str, str, str], Declaration] = {}
        for m in mods:
            for d in m.declared_symmetries():
                if d.output not in ("equivariant", "per-point"):
                    continue
                key = (d.group, d.input, d.output)
                if key not in merged or order[d.verdict] > order[merged[key].verdict]:
                    merged[key] = Declaration(
                        d.group, d.input, d.output, d.verdict, "x + h(x): " + d.note
                    )
        decls.extend(merged.values())
        return decls


class ResNet(nn.Module):
    r"""A small residual CNN classifier.

    .. math::

        z^0 = \sigma(\mathcal C_0 x), \quad z^{\ell+1} = z^\ell + h_\ell(\sigma(z^\ell)), \quad
        f(x) = W\, \mathrm{GlobalPool}(\sigma(z^L)) + b,

    with conv branches :math:`h_\ell` (two convolutions each).

    Parameters
    ----------
    in_channels, num_classes : int
    width : int
        Channels of every block (default 32).
    blocks : int
        Number of residual blocks (default 3).
    kernel_size : int
        Default 3.
    spatial_dims : int
        1 (signals) or 2 (images). Default 2.
    padding : {"same", "circular"}
        Default ``"circular"``.
    activation : str
        Default ``"relu"``.

    Shapes
    ------
    ``(C, L)`` / ``(C, H, W)`` -> ``(num_classes,)``, with an optional batch dimension.

    Symmetry
    --------
    Circular padding: exactly invariant to circular shifts (equivariant stack + global
    pooling); zero padding: approximately.

    Examples
    --------
    >>> import torch
    >>> net = ResNet(1, 10, width=8, blocks=2, spatial_dims=2)
    >>> net(torch.randn(1, 8, 8)).shape
    torch.Size([10])
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        width: int = 32,
        blocks: int = 3,
        kernel_size: int = 3,
        spatial_dims: int = 2,
        padding: Padding = "circular",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        for name, v in (
            ("in_channels", in_channels),
            ("num_classes", num_classes),
            ("width", width),
            ("blocks", blocks),
            ("kernel_size", kernel_size),
        ):
            check_positive_int("ResNet", name, v)
        if spatial_dims not in (1, 2):
            raise ValueError(f"ResNet: 'spatial_dims' must be 1 or 2, got {spatial_dims!r}.")
        if padding not in PADDINGS or padding == "valid":
            raise ValueError(
                f"ResNet: 'padding' must be 'same' or 'circular' (residual sums need equal "
                f"shapes), got {padding!r}."
            )
        self.in_channels, self.spatial_dims, self.padding = in_channels, spatial_dims, padding
        conv = Conv1d if spatial_dims == 1 else Conv2d
        self.stem = nn.Sequential(
            conv(in_channels, width, kernel_size, padding=padding), get_activation(activation)
        )
        self.blocks = nn.Sequential(
            *[
                nn.Sequential(
                    ResidualBlock.conv(width, kernel_size, spatial_dims, padding, activation),
                    get_activation(activation),
                )
                for _ in range(blocks)
            ]
        )
        self.pool = GlobalPool(spatial_dims)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        what = "(C, L)" if self.spatial_dims == 1 else "(C, H, W)"
        xb, unbatched = as_batch("ResNet", x, self.spatial_dims + 1, what)
        y = self.classifier(self.pool(self.blocks(self.stem(xb))))
        return y.squeeze(0) if unbatched else y

    def declared_symmetries(self) -> list[Declaration]:
        kind = "signal" if self.spatial_dims == 1 else "image"
        eq = conv_declarations(self.padding, 1, kind)[0]
        return [
            Declaration(
                "shift",
                kind,
                "invariant",
                eq.verdict,
                eq.note + "; global pooling turns equivariance into invariance",
            )
        ]

    def extra_repr(self) -> str:
        return f"spatial_dims={self.spatial_dims}, padding={self.padding!r}"
