"""The residual MLP of DeePMD-kit's embedding and fitting networks."""

from __future__ import annotations

from collections.abc import Sequence

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

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, widths={self.widths}, "
            f"out_features={self.out_features}, activation={self.activation_name!r}, "
            f"residual={self.residual}"
        )
