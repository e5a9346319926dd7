"""Fully connected networks: the MLP, the two-layer net and the random-feature model."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from geodl.nn._activations import get_activation
from geodl.nn._utils import check_positive_int
from geodl.symmetry import Declaration

__all__ = ["MLP", "TwoLayerNet", "RandomFeatureModel"]

_MLP_NOTE = (
    "a dense W mixes every input coordinate with every other: the MLP respects only the "
    "trivial group on its input vector"
)
_ROWWISE_NOTE = "applied row by row to a set (N, F), a dense map is the per-point map of DeepSets"


def _dense_declarations() -> list[Declaration]:
    return [
        Declaration("shift", "signal", "invariant", "broken", _MLP_NOTE),
        Declaration("permutation", "set", "per-point", "exact", _ROWWISE_NOTE),
    ]


def _check_features(owner: str, x: torch.Tensor, expected: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{owner}: expected a torch.Tensor, got {type(x).__name__}.")
    if x.dim() == 0 or x.shape[-1] != expected:
        raise ValueError(
            f"{owner}: expected an input of shape (..., {expected}), got {tuple(x.shape)}. "
            f"The last dimension holds the {expected} input features."
        )


class MLP(nn.Module):
    r"""Multilayer fully connected network (multilayer perceptron).

    .. math::

        x^{\ell+1} = \sigma(W^\ell x^\ell + b^\ell), \quad \ell = 0, \dots, L-2, \qquad
        f(x) = W^{L-1} x^{L-1} + b^{L-1},

    i.e. :math:`f = \mathcal{A}^{(L)} \circ \sigma \circ \dots \circ \sigma \circ
    \mathcal{A}^{(1)}` with dense affine maps; the last layer is linear (no activation).

    Parameters
    ----------
    in_features : int
        Input dimension :math:`d`.
    hidden : sequence of int
        Widths :math:`m_1, \dots, m_{L-1}` of the hidden layers (may be empty: a linear model).
    out_features : int
        Output dimension :math:`k`.
    activation : str or nn.Module
        Name from :data:`geodl.nn.ACTIVATIONS` (default ``"relu"``); a fresh module per layer.
    bias : bool
        Whether the affine maps have biases.

    Shapes
    ------
    ``(..., d) -> (..., k)``; any leading dimensions (none for a single sample).

    Symmetry
    --------
    Only the trivial group on the input vector: shifting or permuting the entries of
    :math:`x` changes the output (declared ``broken``). Applied row-wise to a set
    ``(N, d)`` it is permutation-equivariant (``per-point``), the DeepSets building block.

    Examples
    --------
    >>> import torch
    >>> net = MLP(3, [16, 16], 2, activation="tanh")
    >>> net(torch.randn(5, 3)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str | nn.Module = "relu",
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_positive_int("MLP", "in_features", in_features)
        check_positive_int("MLP", "out_features", out_features)
        hidden = list(hidden)
        for h in hidden:
            check_positive_int("MLP", "hidden", h)
        get_activation(activation)  # validate once, early
        self.in_features = in_features
        self.out_features = out_features
        self.hidden = tuple(hidden)
        self.activation_name = (
            activation if isinstance(activation, str) else type(activation).__name__
        )
        widths = [in_features, *hidden, out_features]
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            layers.append(nn.Linear(a, b, bias=bias))
            if i < len(widths) - 2:
                act = get_activation(activation) if isinstance(activation, str) else activation
                layers.append(act)
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_features("MLP", x, self.in_features)
        return self.layers(x)

    def declared_symmetries(self) -> list[Declaration]:
        return _dense_declarations()

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, hidden={list(self.hidden)}, "
            f"out_features={self.out_features}, activation={self.activation_name!r}"
        )


class TwoLayerNet(nn.Module):
    r"""Two-layer network of width :math:`m`,

    .. math::

        f_m(x) = \sum_{j=1}^m a_j \sigma(b_j \cdot x + c_j) = A \sigma(B x + c),

    with :math:`A \in \mathbb{R}^{k \times m}`, :math:`B \in \mathbb{R}^{m \times d}`,
    :math:`c \in \mathbb{R}^m` all trainable (no output bias, as in the lecture).

    Parameters
    ----------
    in_features, width, out_features : int
        :math:`d`, :math:`m`, :math:`k`.
    activation : str or nn.Module
        Name from :data:`geodl.nn.ACTIVATIONS` (default ``"relu"``).

    Shapes
    ------
    ``(..., d) -> (..., k)``.

    Symmetry
    --------
    As :class:`MLP`: the trivial group on the input vector.

    Examples
    --------
    >>> import torch
    >>> net = TwoLayerNet(1, 32, 1, activation="sigmoid")
    >>> net(torch.zeros(4, 1)).shape
    torch.Size([4, 1])
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        out_features: int = 1,
        activation: str | nn.Module = "relu",
    ) -> None:
        super().__init__()
        check_positive_int(type(self).__name__, "in_features", in_features)
        check_positive_int(type(self).__name__, "width", width)
        check_positive_int(type(self).__name__, "out_features", out_features)
        self.in_features, self.width, self.out_features = in_features, width, out_features
        self.activation_name = (
            activation if isinstance(activation, str) else type(activation).__name__
        )
        self.inner = nn.Linear(in_features, width)  # B x + c
        self.activation = get_activation(activation)
        self.outer = nn.Linear(width, out_features, bias=False)  # A

    @property
    def A(self) -> torch.Tensor:  # noqa: N802 - the lecture's notation
        """Outer weights :math:`A` ``(k, m)``."""
        return self.outer.weight

    @property
    def B(self) -> torch.Tensor:  # noqa: N802
        """Inner weights :math:`B` ``(m, d)``."""
        return self.inner.weight

    @property
    def c(self) -> torch.Tensor:
        """Inner biases :math:`c` ``(m,)``."""
        return self.inner.bias

    def features(self, x: torch.Tensor) -> torch.Tensor:
        r"""The hidden features :math:`\varphi(x) = \sigma(Bx + c)`, shape ``(..., m)``."""
        _check_features(type(self).__name__, x, self.in_features)
        return self.activation(self.inner(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.outer(self.features(x))

    def declared_symmetries(self) -> list[Declaration]:
        return _dense_declarations()

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, width={self.width}, "
            f"out_features={self.out_features}, activation={self.activation_name!r}"
        )


class RandomFeatureModel(TwoLayerNet):
    r"""Random-feature model: a :class:`TwoLayerNet` whose inner layer is frozen.

    .. math::

        f_m(x) = \sum_{j=1}^m a_j \varphi(x; b_j, c_j), \qquad
        \varphi(x; b, c) = \sigma(b \cdot x + c),

    with :math:`b_j \sim \mathcal N(0, s_b^2 I)` and :math:`c_j \sim \mathcal N(0, s_c^2)`
    drawn once and never trained; only :math:`A` is a parameter. :meth:`fit_ridge` fits
    :math:`A` in closed form,

    .. math::

        A^\top = (\Phi^\top \Phi + \lambda n I)^{-1} \Phi^\top Y, \qquad
        \Phi_{ij} = \varphi(x_i; b_j, c_j).

    Parameters
    ----------
    in_features, width, out_features : int
        :math:`d`, :math:`m`, :math:`k`.
    activation : str or nn.Module
        Default ``"relu"``.
    weight_scale, bias_scale : float
        :math:`s_b` and :math:`s_c` of the random features (defaults 1).

    Shapes
    ------
    ``(..., d) -> (..., k)``.

    Symmetry
    --------
    As :class:`MLP`: the trivial group on the input vector.

    Examples
    --------
    >>> import torch
    >>> model = RandomFeatureModel(1, 200)
    >>> x = torch.linspace(-1, 1, 100).unsqueeze(1)
    >>> _ = model.fit_ridge(x, torch.sin(3 * x), l2=1e-6)
    >>> bool(((model(x) - torch.sin(3 * x)).abs().max() < 0.05).item())
    True
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        out_features: int = 1,
        activation: str | nn.Module = "relu",
        weight_scale: float = 1.0,
        bias_scale: float = 1.0,
    ) -> None:
        super().__init__(in_features, width, out_features, activation)
        with torch.no_grad():
            self.inner.weight.normal_(0.0, weight_scale)
            self.inner.bias.normal_(0.0, bias_scale)
        self.inner.requires_grad_(False)
        self.weight_scale, self.bias_scale = float(weight_scale), float(bias_scale)

    @torch.no_grad()
    def fit_ridge(self, x: torch.Tensor, y: torch.Tensor, l2: float = 1e-8) -> torch.Tensor:
        r"""Fit :math:`A` by ridge regression in float64 and return the training MSE.

        Parameters
        ----------
        x : Tensor ``(n, d)``
        y : Tensor ``(n, k)`` or ``(n,)`` when ``k = 1``
        l2 : float
            Ridge strength :math:`\lambda` (relative to the number of samples ``n``).
        """
        if y.dim() == 1:
            y = y.unsqueeze(1)
        if x.dim() != 2 or y.dim() != 2 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"RandomFeatureModel.fit_ridge: expected x (n, d) and y (n, k) with the same "
                f"n, got x {tuple(x.shape)} and y {tuple(y.shape)}."
            )
        if y.shape[1] != self.out_features:
            raise ValueError(
                f"RandomFeatureModel.fit_ridge: y has {y.shape[1]} columns but the model has "
                f"out_features={self.out_features}."
            )
        if l2 < 0:
            raise ValueError(f"RandomFeatureModel.fit_ridge: 'l2' must be >= 0, got {l2}.")
        phi = self.features(x).double()
        n = phi.shape[0]
        gram = phi.T @ phi + l2 * n * torch.eye(self.width, dtype=torch.float64)
        a_t = torch.linalg.lstsq(gram, phi.T @ y.double()).solution
        self.outer.weight.copy_(a_t.T.to(self.outer.weight.dtype))
        return ((phi @ a_t - y.double()) ** 2).mean().to(x.dtype)

    def extra_repr(self) -> str:
        return super().extra_repr() + ", frozen=(B, c)"
