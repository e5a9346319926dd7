"""Convolutional networks: a 1D CNN classifier and LeNet-5."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from geodl.nn._activations import get_activation
from geodl.nn._conv import (
    PADDINGS,
    Conv1d,
    Conv2d,
    GlobalPool,
    Padding,
    Pool2d,
    PoolMode,
    conv_declarations,
)
from geodl.nn._utils import as_batch, check_positive_int
from geodl.symmetry import Declaration

__all__ = ["ConvNet1d", "LeNet5"]

_HEADS = ("global", "flatten")


def _conv_out(n: int, k: int, padding: str, stride: int) -> int:
    p = 0 if padding == "valid" else k - 1
    return (n + p - k) // stride + 1


class ConvNet1d(nn.Module):
    r"""A plain 1D CNN classifier for signals: conv stack, then a dense read-out.

    .. math::

        f(x) = W \,\mathrm{head}\big(\sigma(\mathcal{C}_L \cdots \sigma(\mathcal{C}_1 x))\big) + b,

    where each :math:`\mathcal{C}_\ell` is a :class:`Conv1d` and ``head`` is either a
    :class:`GlobalPool` (``"global"``, mean over positions) or a flattening (``"flatten"``).

    Parameters
    ----------
    in_channels : int
    num_classes : int
    length : int
        Input length ``L`` (needed by the ``"flatten"`` head).
    channels : sequence of int
        Output channels of each conv layer (default ``(64, 64, 64)``).
    kernel_size : int
        Default 5.
    padding : {"valid", "same", "circular"}
        Default ``"circular"``.
    strides : sequence of int, optional
        Stride of each layer (default all 1).
    head : {"global", "flatten"}
        Default ``"flatten"``.
    activation : str
        Default ``"relu"``.

    Shapes
    ------
    ``(C, L)`` -> ``(num_classes,)``; ``(B, C, L)`` -> ``(B, num_classes)``.

    Symmetry
    --------
    ``head="global"`` with circular padding and unit strides: exactly invariant to
    circular shifts of the signal. Zero padding: approximately. ``"flatten"`` reads
    positions, so the logits are not shift invariant (declared ``broken``), although the
    conv features below it (``self.features``) are equivariant.

    Examples
    --------
    >>> import torch
    >>> net = ConvNet1d(1, 10, length=40, channels=(8, 8), head="global")
    >>> net(torch.randn(1, 40)).shape
    torch.Size([10])
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        length: int,
        channels: Sequence[int] = (64, 64, 64),
        kernel_size: int = 5,
        padding: Padding = "circular",
        strides: Sequence[int] | None = None,
        head: str = "flatten",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        for name, v in (
            ("in_channels", in_channels),
            ("num_classes", num_classes),
            ("length", length),
            ("kernel_size", kernel_size),
        ):
            check_positive_int("ConvNet1d", name, v)
        channels = list(channels)
        if not channels:
            raise ValueError("ConvNet1d: 'channels' must list at least one layer width.")
        strides = [1] * len(channels) if strides is None else list(strides)
        if len(strides) != len(channels):
            raise ValueError(
                f"ConvNet1d: 'strides' has {len(strides)} entries but 'channels' has "
                f"{len(channels)}; give one stride per conv layer."
            )
        if padding not in PADDINGS:
            raise ValueError(
                f"ConvNet1d: unknown padding {padding!r}. Valid choices: {', '.join(PADDINGS)}."
            )
        if head not in _HEADS:
            raise ValueError(
                f"ConvNet1d: unknown head {head!r}. Valid choices: {', '.join(_HEADS)}."
            )
        self.in_channels, self.num_classes, self.length = in_channels, num_classes, length
        self.padding, self.head, self.strides = padding, head, tuple(strides)
        layers: list[nn.Module] = []
        c_in, n = in_channels, length
        for c_out, s in zip(channels, strides, strict=True):
            layers += [
                Conv1d(c_in, c_out, kernel_size, padding=padding, stride=s),
                get_activation(activation),
            ]
            c_in, n = c_out, _conv_out(n, kernel_size, padding, s)
            if n < 1:
                raise ValueError(
                    f"ConvNet1d: the signal of length {length} shrinks to nothing; use "
                    f"padding='same'/'circular', fewer layers or smaller strides."
                )
        self.features = nn.Sequential(*layers)
        self.pool = GlobalPool(1) if head == "global" else nn.Flatten(-2)
        self.classifier = nn.Linear(c_in if head == "global" else c_in * n, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xb, unbatched = as_batch("ConvNet1d", x, 2, "(C, L)")
        if xb.shape[1:] != (self.in_channels, self.length):
            raise ValueError(
                f"ConvNet1d: expected signals of shape ({self.in_channels}, {self.length}), "
                f"got {tuple(x.shape)}."
            )
        y = self.classifier(self.pool(self.features(xb)))
        return y.squeeze(0) if unbatched else y

    def declared_symmetries(self) -> list[Declaration]:
        total_stride = 1
        for s in self.strides:
            total_stride *= s
        if self.head == "flatten":
            return [
                Declaration(
                    "shift",
                    "signal",
                    "invariant",
                    "broken",
                    "the flatten head gives every position its own weights",
                )
            ]
        eq = conv_declarations(self.padding, total_stride, "signal")[0]
        return [
            Declaration(
                "shift",
                "signal",
                "invariant",
                eq.verdict,
                eq.note + "; global pooling turns equivariance into invariance",
            )
        ]

    def extra_repr(self) -> str:
        return f"padding={self.padding!r}, head={self.head!r}, length={self.length}"


class LeNet5(nn.Module):
    r"""LeNet-5 (LeCun et al. 1998): two conv + pooling stages, then three dense layers.

    .. math::

        f = \mathcal{A}_5 \circ \sigma \circ \mathcal{A}_4 \circ \sigma \circ \mathcal{A}_3
        \circ \mathrm{flatten} \circ P \circ \sigma \circ \mathcal{C}_2 \circ P \circ \sigma
        \circ \mathcal{C}_1,

    with :math:`\mathcal C_\ell` convolutions, :math:`P` pooling (stride 2). The classic
    setting is ``image_size=32, kernel_size=5, padding="valid", channels=(6, 16),
    hidden=(120, 84)`` (the outputs are logits; softmax lives in the loss).

    Parameters
    ----------
    in_channels : int
        Default 1.
    num_classes : int
        Default 10.
    image_size : int
        Side of the square input (default 32, use 8 for scikit-learn digits).
    channels : (int, int)
        Default ``(6, 16)``.
    hidden : sequence of int
        Widths of the dense layers before the output, default ``(120, 84)``.
    kernel_size : int
        Default 5.
    padding : {"valid", "same", "circular"}
        Default ``"valid"``.
    pool : {"max", "avg"}
        Default ``"avg"`` (the original sub-sampling).
    activation : str
        Default ``"tanh"`` (the original); ``"relu"`` trains faster.
    dropout : float
        Dropout before each dense layer (default 0).

    Shapes
    ------
    ``(C, H, W)`` -> ``(num_classes,)``; ``(B, C, H, W)`` -> ``(B, num_classes)``.

    Symmetry
    --------
    The conv stages are (approximately) shift-equivariant, with the pooling strides only
    by multiples of 4; the dense read-out assigns weights to positions, so the logits are
    not shift invariant (declared ``broken``): LeNet relies on data, not on structure, for
    translation robustness beyond its pooling.

    Examples
    --------
    >>> import torch
    >>> net = LeNet5()
    >>> net(torch.randn(2, 1, 32, 32)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 32,
        channels: Sequence[int] = (6, 16),
        hidden: Sequence[int] = (120, 84),
        kernel_size: int = 5,
        padding: Padding = "valid",
        pool: PoolMode = "avg",
        activation: str = "tanh",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, v in (
            ("in_channels", in_channels),
            ("num_classes", num_classes),
            ("image_size", image_size),
            ("kernel_size", kernel_size),
        ):
            check_positive_int("LeNet5", name, v)
        channels = list(channels)
        if len(channels) != 2:
            raise ValueError(f"LeNet5: 'channels' must have 2 entries, got {channels!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"LeNet5: 'dropout' must be in [0, 1), got {dropout!r}.")
        self.in_channels, self.image_size, self.padding = in_channels, image_size, padding
        n = image_size
        layers: list[nn.Module] = []
        c_in = in_channels
        for c_out in channels:
            layers += [
                Conv2d(c_in, c_out, kernel_size, padding=padding),
                get_activation(activation),
                Pool2d(2, mode=pool),
            ]
            n = _conv_out(n, kernel_size, padding, 1) // 2
            c_in = c_out
            if n < 1:
                raise ValueError(
                    f"LeNet5: a {image_size}x{image_size} image shrinks to nothing; use "
                    f"padding='same' or a smaller kernel_size."
                )
        self.features = nn.Sequential(*layers)
        dense: list[nn.Module] = [nn.Flatten(-3)]
        width = c_in * n * n
        for h in hidden:
            if dropout > 0:
                dense.append(nn.Dropout(dropout))
            dense += [nn.Linear(width, h), get_activation(activation)]
            width = h
        if dropout > 0:
            dense.append(nn.Dropout(dropout))
        dense.append(nn.Linear(width, num_classes))
        self.classifier = nn.Sequential(*dense)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xb, unbatched = as_batch("LeNet5", x, 3, "(C, H, W)")
        if xb.shape[1:] != (self.in_channels, self.image_size, self.image_size):
            raise ValueError(
                f"LeNet5: expected images of shape ({self.in_channels}, {self.image_size}, "
                f"{self.image_size}), got {tuple(x.shape)}."
            )
        y = self.classifier(self.features(xb))
        return y.squeeze(0) if unbatched else y

    def declared_symmetries(self) -> list[Declaration]:
        return [
            Declaration(
                "shift",
                "image",
                "invariant",
                "broken",
                "the dense read-out gives every position its own weights",
            )
        ]

    def extra_repr(self) -> str:
        return f"image_size={self.image_size}, padding={self.padding!r}"
