"""Convolution and pooling layers with the lecture's padding choices (torch kernels)."""

from __future__ import annotations

from typing import Any, Literal, cast

import torch
import torch.nn.functional as F
from torch import nn

from geodl.nn._utils import as_batch, check_positive_int
from geodl.symmetry import Declaration

__all__ = ["PADDINGS", "Conv1d", "Conv2d", "Pool1d", "Pool2d", "GlobalPool", "conv_declarations"]

#: the names of :data:`PADDINGS`, for type checkers
Padding = Literal["valid", "same", "circular"]
#: pooling modes of :class:`Pool` and :class:`GlobalPool`
PoolMode = Literal["max", "avg"]
GlobalPoolMode = Literal["mean", "max", "sum"]

#: padding name -> (torch.nn.functional.pad mode or None for no padding, description)
PADDINGS: dict[str, tuple[str | None, str]] = {
    "valid": (None, "no padding: output length n - k + 1"),
    "same": ("constant", "zero padding of (k - 1) // 2 left and k // 2 right: output length n"),
    "circular": ("circular", "periodic padding: output length n, exact shift equivariance"),
}

_POOL_MODES = ("max", "avg")
_GLOBAL_MODES = ("mean", "max", "sum")


def _check_padding(owner: str, padding: str) -> str:
    if padding not in PADDINGS:
        raise ValueError(
            f"{owner}: unknown padding {padding!r}. Valid choices: {', '.join(PADDINGS)}."
        )
    return padding


def conv_declarations(padding: str, stride: int, kind: str) -> list[Declaration]:
    """Shift declarations of a convolution stack with the given padding and total stride.

    ``kind`` is the harness input kind (``"signal"`` or ``"image"``).
    """
    if stride > 1:
        return [
            Declaration(
                "shift",
                kind,
                "equivariant",
                "broken",
                f"stride {stride}: equivariant only to shifts by multiples of {stride} "
                f"(the output moves by shift / {stride})",
            )
        ]
    if padding == "circular":
        return [
            Declaration(
                "shift",
                kind,
                "equivariant",
                "exact",
                "circular padding: a periodic convolution commutes with circular shifts",
            )
        ]
    return [
        Declaration(
            "shift",
            kind,
            "equivariant",
            "approximate",
            f"{padding!r} padding: exact in the interior, the boundary samples differ",
        )
    ]


class _PaddedConv:
    """Mixin: pad explicitly (zero or circular), then run torch's kernel with padding 0."""

    padding_name: str
    _pad: tuple[int, ...]

    def _setup_padding(self, owner: str, padding: str, kernel_size: tuple[int, ...]) -> None:
        self.padding_name = _check_padding(owner, padding)
        pad: list[int] = []
        if PADDINGS[padding][0] is not None:
            for k in reversed(kernel_size):  # F.pad takes the last dimension first
                pad += [(k - 1) // 2, k // 2]
        self._pad = tuple(pad)

    def _padded(self, x: torch.Tensor) -> torch.Tensor:
        mode = PADDINGS[self.padding_name][0]
        if mode is None:
            return x
        if mode == "constant":
            return F.pad(x, self._pad, mode="constant", value=0.0)
        return F.pad(x, self._pad, mode="circular")

    # Shared by Conv1d / Conv2d; each sets these class attributes.
    _owner: str
    _layout: str  # unbatched layout shown in errors, e.g. "(C, L)"
    _input_kind: str  # harness input kind
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    weight: torch.Tensor
    bias: torch.Tensor | None

    def _init_conv(
        self,
        torch_cls: type[nn.Module],
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: str,
        stride: int,
        bias: bool,
    ) -> None:
        for name, v in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("kernel_size", kernel_size),
            ("stride", stride),
        ):
            check_positive_int(self._owner, name, v)
        cast(Any, torch_cls).__init__(  # a mixin: ``self`` is the torch class at run time
            self, in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=bias
        )
        self._setup_padding(self._owner, padding, self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = len(self.kernel_size)
        xb, unbatched = as_batch(self._owner, x, spatial + 1, self._layout)
        if xb.shape[1] != self.in_channels:
            batched_layout = "(B, " + self._layout[1:]
            raise ValueError(
                f"{self._owner}: expected {self.in_channels} input channels, got shape "
                f"{tuple(x.shape)}. Channels come first: {self._layout} or {batched_layout}."
            )
        y = self._conv_forward(self._padded(xb), self.weight, self.bias)  # type: ignore[attr-defined]
        return y.squeeze(0) if unbatched else y

    def declared_symmetries(self) -> list[Declaration]:
        return conv_declarations(self.padding_name, self.stride[0], self._input_kind)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size[0]}, "
            f"padding={self.padding_name!r}, stride={self.stride[0]}, bias={self.bias is not None}"
        )


class Conv1d(_PaddedConv, nn.Conv1d):
    r"""1D convolution layer (cross-correlation, as in the lecture and in torch).

    .. math::

        h^o_t = \sum_{s=1}^{C_i} h^i_s * w^{s,t} + b^t, \qquad
        (x * w)_j = \sum_{i=1}^{k} x_{j+i} w_i,

    after padding ``x`` with ``"valid"`` (none), ``"same"`` (zeros) or ``"circular"``
    (periodic) boundaries; outputs are taken every ``stride`` samples. The kernel is
    torch's ``conv1d``.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    padding : {"valid", "same", "circular"}
        Default ``"same"``.
    stride : int
        Default 1.
    bias : bool
        Default True.

    Shapes
    ------
    ``(C_i, L)`` or ``(B, C_i, L)`` -> ``(C_o, L')`` or ``(B, C_o, L')`` with
    ``L' = floor((L + p - k) / stride) + 1`` and ``p = 0`` for ``"valid"``, ``k - 1``
    otherwise.

    Symmetry
    --------
    Circular padding, stride 1: exactly equivariant to circular shifts of ``L``. Zero
    padding: approximately (the boundary differs). Stride ``s``: only shifts by multiples of
    ``s``, the output moving by ``shift / s``.

    Examples
    --------
    >>> import torch
    >>> conv = Conv1d(1, 1, 3, padding="same", bias=False)
    >>> with torch.no_grad():
    ...     _ = conv.weight.copy_(torch.tensor([[[1.0, 0.0, -1.0]]]))
    >>> conv(torch.tensor([[1.0, 2.0, -1.0, 1.0, -3.0]])).tolist()
    [[-2.0, 2.0, 1.0, 2.0, 1.0]]
    """

    _owner = "Conv1d"
    _layout = "(C, L)"
    _input_kind = "signal"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: Padding = "same",
        stride: int = 1,
        bias: bool = True,
    ) -> None:
        self._init_conv(nn.Conv1d, in_channels, out_channels, kernel_size, padding, stride, bias)


class Conv2d(_PaddedConv, nn.Conv2d):
    r"""2D convolution layer (cross-correlation, torch's ``conv2d`` kernel).

    .. math::

        h^o_t = \sum_{s=1}^{C_i} h^i_s * w^{s,t} + b^t, \qquad
        (x * w)_{a,b} = \sum_{i,j=1}^{k} x_{a+i,\, b+j}\, w_{i,j},

    after ``"valid"``, ``"same"`` (zeros) or ``"circular"`` padding of both spatial axes.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    padding : {"valid", "same", "circular"}
        Default ``"same"``.
    stride : int
        Default 1.
    bias : bool
        Default True.

    Shapes
    ------
    ``(C_i, H, W)`` or ``(B, C_i, H, W)`` -> ``(C_o, H', W')`` or ``(B, C_o, H', W')``.

    Symmetry
    --------
    As :class:`Conv1d`, for circular shifts of ``(H, W)`` (harness group ``"shift"`` on
    ``"image"`` inputs).

    Examples
    --------
    >>> import torch
    >>> conv = Conv2d(3, 8, 3, padding="circular")
    >>> conv(torch.randn(3, 16, 16)).shape
    torch.Size([8, 16, 16])
    """

    _owner = "Conv2d"
    _layout = "(C, H, W)"
    _input_kind = "image"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        padding: Padding = "same",
        stride: int = 1,
        bias: bool = True,
    ) -> None:
        self._init_conv(nn.Conv2d, in_channels, out_channels, kernel_size, padding, stride, bias)


class _Pool(nn.Module):
    spatial_dims: int = 1

    def __init__(self, kernel_size: int, mode: PoolMode = "max", stride: int | None = None) -> None:
        super().__init__()
        owner = type(self).__name__
        check_positive_int(owner, "kernel_size", kernel_size)
        if stride is not None:
            check_positive_int(owner, "stride", stride)
        if mode not in _POOL_MODES:
            raise ValueError(
                f"{owner}: unknown mode {mode!r}. Valid choices: {', '.join(_POOL_MODES)}."
            )
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.spatial_dims
        what = "(C, L)" if d == 1 else "(C, H, W)"
        xb, unbatched = as_batch(type(self).__name__, x, d + 1, what)
        pools: dict[tuple[int, str], Any] = {
            (1, "max"): F.max_pool1d,
            (1, "avg"): F.avg_pool1d,
            (2, "max"): F.max_pool2d,
            (2, "avg"): F.avg_pool2d,
        }
        y = pools[(d, self.mode)](xb, self.kernel_size, self.stride)
        return y.squeeze(0) if unbatched else y

    def declared_symmetries(self) -> list[Declaration]:
        kind = "signal" if self.spatial_dims == 1 else "image"
        return (
            conv_declarations("valid", self.stride, kind)
            if self.stride > 1
            else [
                Declaration(
                    "shift",
                    kind,
                    "equivariant",
                    "approximate",
                    "stride 1 pooling: exact in the interior, boundary windows differ",
                )
            ]
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, mode={self.mode!r}"


class Pool1d(_Pool):
    r"""Max or average pooling over windows of ``kernel_size`` samples, per channel.

    .. math::

        y_{c,j} = \max_{0 \le i < k} x_{c,\, sj + i} \quad\text{or}\quad
        y_{c,j} = \frac1k \sum_{0 \le i < k} x_{c,\, sj + i}.

    Parameters
    ----------
    kernel_size : int
    mode : {"max", "avg"}
        Default ``"max"``.
    stride : int, optional
        Defaults to ``kernel_size`` (non-overlapping windows).

    Shapes
    ------
    ``(C, L)`` or ``(B, C, L)`` -> ``(C, L')`` / ``(B, C, L')``,
    ``L' = floor((L - k) / s) + 1``. No parameters, no channel mixing.

    Symmetry
    --------
    Equivariant only to shifts by multiples of the stride (down-sampling).

    Examples
    --------
    >>> import torch
    >>> Pool1d(2)(torch.tensor([[1.0, 3.0, -1.0, 0.0]]))
    tensor([[3., 0.]])
    """

    spatial_dims = 1


class Pool2d(_Pool):
    r"""Max or average pooling over ``k x k`` windows, per channel.

    .. math::

        y_{c,a,b} = \max_{0 \le i,j < k} x_{c,\, sa+i,\, sb+j} \quad\text{(or the mean)}.

    Parameters
    ----------
    kernel_size : int
    mode : {"max", "avg"}
        Default ``"max"``.
    stride : int, optional
        Defaults to ``kernel_size``.

    Shapes
    ------
    ``(C, H, W)`` or ``(B, C, H, W)`` -> ``(C, H', W')`` / ``(B, C, H', W')``.

    Symmetry
    --------
    Equivariant only to shifts by multiples of the stride.

    Examples
    --------
    >>> import torch
    >>> Pool2d(2, mode="avg")(torch.ones(1, 4, 4)).shape
    torch.Size([1, 2, 2])
    """

    spatial_dims = 2


class GlobalPool(nn.Module):
    r"""Pool every spatial position into one value per channel.

    .. math::

        y_c = \frac{1}{|\Omega|}\sum_{p \in \Omega} x_{c,p} \quad (\text{or } \max, \sum).

    Parameters
    ----------
    spatial_dims : int
        1 for signals ``(C, L)``, 2 for images ``(C, H, W)``.
    mode : {"mean", "max", "sum"}
        Default ``"mean"``.

    Shapes
    ------
    ``(C, *spatial)`` -> ``(C,)``; ``(B, C, *spatial)`` -> ``(B, C)``.

    Symmetry
    --------
    Exactly invariant to every permutation of the spatial positions, hence to circular
    shifts: composed with a shift-equivariant stack it gives a shift-invariant model.

    Examples
    --------
    >>> import torch
    >>> GlobalPool(1)(torch.tensor([[1.0, 2.0, 3.0]]))
    tensor([2.])
    """

    def __init__(self, spatial_dims: int = 1, mode: GlobalPoolMode = "mean") -> None:
        super().__init__()
        if spatial_dims not in (1, 2):
            raise ValueError(f"GlobalPool: 'spatial_dims' must be 1 or 2, got {spatial_dims!r}.")
        if mode not in _GLOBAL_MODES:
            raise ValueError(
                f"GlobalPool: unknown mode {mode!r}. Valid choices: {', '.join(_GLOBAL_MODES)}."
            )
        self.spatial_dims, self.mode = spatial_dims, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.spatial_dims
        what = "(C, L)" if d == 1 else "(C, H, W)"
        xb, unbatched = as_batch("GlobalPool", x, d + 1, what)
        flat = xb.flatten(2)
        if self.mode == "mean":
            y = flat.mean(-1)
        elif self.mode == "sum":
            y = flat.sum(-1)
        else:
            y = flat.amax(-1)
        return y.squeeze(0) if unbatched else y

    def declared_symmetries(self) -> list[Declaration]:
        kind = "signal" if self.spatial_dims == 1 else "image"
        return [
            Declaration(
                "shift", kind, "invariant", "exact", "global pooling forgets where each value was"
            )
        ]

    def extra_repr(self) -> str:
        return f"spatial_dims={self.spatial_dims}, mode={self.mode!r}"
