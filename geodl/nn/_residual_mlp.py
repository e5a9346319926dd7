"""The residual MLP of DeePMD-kit's embedding and fitting networks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import Tensor, nn

from geodl.nn._activations import get_activation

__all__ = ["ResidualMLP"]


class ResidualMLP(nn.Module):
    r"""MLP with DeePMD-style residual connections.

    For each hidden layer with input :math:`x` (width :math:`a`) and output width
    :math:`b`:

    .. math::

        y = \begin{cases}
            x + \sigma(W x + c) & b = a \\
            (x, x) + \sigma(W x + c) & b = 2a \\
            \sigma(W x + c) & \text{otherwise}
        \end{cases}

    followed, when ``out_features`` is given, by a final linear layer.

    Parameters
    ----------
    in_features : int
        Input width.
    widths : sequence of int
        Hidden widths.
    out_features : int, optional
        Width of the final linear layer; ``None`` ends on the last hidden layer.
    activation : str
        Name in :data:`geodl.nn.ACTIVATIONS`.
    residual : bool
        Use the residual connections above.

    Shapes
    ------
    ``(*, in_features)`` -> ``(*, out_features or widths[-1])``.

    Symmetry
    --------
    None of its own (acts on invariant features).

    Examples
    --------
    >>> import torch
    >>> mlp = ResidualMLP(1, (4, 8), out_features=None)
    >>> mlp(torch.zeros(3, 1)).shape
    torch.Size([3, 8])
    """

    def __init__(
        self,
        in_features: int,
        widths: Sequence[int],
        out_features: int | None = None,
        activation: str = "tanh",
        residual: bool = True,
    ) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.widths = tuple(int(w) for w in widths)
        self.activation_name = activation
        self.residual = bool(residual)
        self.act = get_activation(activation)
        self.layers = nn.ModuleList()
        modes: list[int] = []  # 0: plain, 1: identity skip, 2: doubled skip
        width = self.in_features
        for w in self.widths:
            self.layers.append(nn.Linear(width, w))
            mode = 0
            if self.residual and w == width:
                mode = 1
            elif self.residual and w == 2 * width:
                mode = 2
            modes.append(mode)
            width = w
        self.modes: list[int] = modes
        self.out = nn.Linear(width, int(out_features)) if out_features is not None else None
        self.out_features = int(out_features) if out_features is not None else width

    def forward(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            mode = self.modes[i]
            y = self.act(layer(x))
            if mode == 1:
                x = x + y
            elif mode == 2:
                x = torch.cat([x, x], dim=-1) + y
            else:
                x = y
        if self.out is not None:
            x = self.out(x)
        return x

    @torch.jit.unused
    def jet(self, x: Tensor, dx: Tensor, ddx: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r"""Second-order forward-mode derivative along a path :math:`x(u)`.

        Given :math:`x, \dot x, \ddot x` returns :math:`y, \dot y, \ddot y` of the
        network output, with :math:`\dot y = J \dot x` and :math:`\ddot y = J \ddot x +
        \dot x^{\top} H \dot x` propagated layer by layer (linear layers act on all
        three; an activation :math:`\sigma` maps :math:`(z, \dot z, \ddot z)` to
        :math:`(\sigma, \sigma' \dot z, \sigma'' \dot z^2 + \sigma' \ddot z)`, with
        :math:`\sigma', \sigma''` from autograd of the element-wise activation).
        Three forward passes' worth of work, no nested autograd over the network.

        Examples
        --------
        >>> import torch
        >>> mlp = ResidualMLP(1, (4, 8)).double()
        >>> x = torch.linspace(0, 1, 5, dtype=torch.float64).unsqueeze(-1)
        >>> y, dy, ddy = mlp.jet(x, torch.ones_like(x), torch.zeros_like(x))
        >>> fd = (mlp(x + 1e-6) - mlp(x - 1e-6)) / 2e-6
        >>> bool((dy - fd).abs().max() < 1e-8)
        True
        """
        for i, layer in enumerate(self.layers):
            weight = cast(nn.Linear, layer).weight
            z = layer(x)
            dz = nn.functional.linear(dx, weight)
            ddz = nn.functional.linear(ddx, weight)
            with torch.enable_grad():
                zz = z.detach().requires_grad_(True)
                a = self.act(zz)
                (a1,) = torch.autograd.grad(a.sum(), zz, create_graph=True)
                (a2,) = torch.autograd.grad(a1.sum(), zz, allow_unused=True)
            a2 = torch.zeros_like(z) if a2 is None else a2
            y, dy, ddy = a.detach(), a1.detach() * dz, a2 * dz * dz + a1.detach() * ddz
            mode = self.modes[i]
            if mode == 1:
                x, dx, ddx = x + y, dx + dy, ddx + ddy
            elif mode == 2:
                x = torch.cat([x, x], dim=-1) + y
                dx = torch.cat([dx, dx], dim=-1) + dy
                ddx = torch.cat([ddx, ddx], dim=-1) + ddy
            else:
                x, dx, ddx = y, dy, ddy
        if self.out is not None:
            x = self.out(x)
            dx = nn.functional.linear(dx, self.out.weight)
            ddx = nn.functional.linear(ddx, self.out.weight)
        return x, dx, ddx

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, widths={self.widths}, "
            f"out_features={self.out_features}, activation={self.activation_name!r}, "
            f"residual={self.residual}"
        )
