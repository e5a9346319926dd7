r"""DeepSets: permutation-invariant set functions and permutation-equivariant set layers.

A set :math:`X = \{x_1, \dots, x_n\}` is stored as a tensor whose rows are the elements;
reordering the rows must not change what the model computes. Two building blocks:

* :class:`DeepSets` — the invariant model :math:`\phi\big(\bigoplus_j g(x_j)\big)` with
  :math:`\bigoplus` a sum, mean or max (Zaheer et al. 2017; universal for sum pooling,
  Han et al. 2019).
* :class:`SetLayer` — the equivariant layer :math:`y_i = \Lambda x_i + \Gamma
  \bigoplus_j x_j + b` (Zaheer et al. 2017, eq. 4), which can be stacked before a pooling.

Several sets of different sizes are batched the PyTorch Geometric way: all elements are
concatenated along dimension 0 and a ``batch`` vector gives the set of each row. Pooling
is a segment reduction over ``batch`` (no padding, no Python loop over elements).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn

from geodl.nn._activations import get_activation
from geodl.symmetry import Declaration

__all__ = ["POOLINGS", "get_pooling", "segment_pool", "DeepSets", "SetLayer"]


def _segment(reduce: str) -> Callable[[Tensor, Tensor, int], Tensor]:
    def pool(x: Tensor, index: Tensor, size: int) -> Tensor:
        out = x.new_zeros((size, *x.shape[1:]))
        idx = index.view(-1, *([1] * (x.dim() - 1))).expand_as(x)
        return out.scatter_reduce(0, idx, x, reduce=reduce, include_self=False)

    return pool


#: name -> ``pool(x (N, F), index (N,), size) -> (size, F)``. Empty segments give zeros.
POOLINGS: dict[str, Callable[[Tensor, Tensor, int], Tensor]] = {
    "sum": _segment("sum"),
    "mean": _segment("mean"),
    "max": _segment("amax"),
}


def get_pooling(name: str) -> Callable[[Tensor, Tensor, int], Tensor]:
    """Return the segment-pooling function registered as ``name`` (see :data:`POOLINGS`).

    Raises
    ------
    ValueError
        If ``name`` is not registered; the message lists the valid names.
    TypeError
        If ``name`` is not a string.
    """
    if not isinstance(name, str):
        raise TypeError(f"get_pooling: 'pooling' must be a string, got {type(name).__name__}.")
    key = name.lower()
    if key not in POOLINGS:
        raise ValueError(
            f"get_pooling: unknown pooling {name!r}. Valid poolings: {', '.join(POOLINGS)}."
        )
    return POOLINGS[key]


def segment_pool(
    x: Tensor, batch: Tensor | None = None, size: int | None = None, reduce: str = "sum"
) -> Tensor:
    r"""Pool the rows of ``x`` set by set.

    .. math::
        \mathrm{out}_b = \bigoplus_{i \,:\, \mathrm{batch}_i = b} x_i,
        \qquad \bigoplus \in \{\textstyle\sum,\ \mathrm{mean},\ \max\}

    Parameters
    ----------
    x : Tensor
        Element features, shape ``(N, F)``.
    batch : Tensor, optional
        Set index of each row, shape ``(N,)``, values in ``[0, size)``. ``None``: one set.
    size : int, optional
        Number of sets; defaults to ``batch.max() + 1``.
    reduce : str
        ``"sum"``, ``"mean"`` or ``"max"``.

    Returns
    -------
    Tensor
        ``(F,)`` when ``batch`` is None, otherwise ``(size, F)``.

    Shapes
    ------
    ``(N, F)`` and ``(N,)`` in, ``(B, F)`` out. Invariant to any permutation of the rows
    of ``x`` applied together with ``batch``.

    Examples
    --------
    >>> x = torch.tensor([[1.0], [2.0], [5.0]])
    >>> segment_pool(x, torch.tensor([0, 0, 1]), reduce="max")
    tensor([[2.],
            [5.]])
    """
    fn = get_pooling(reduce)
    if batch is None:
        return fn(x, torch.zeros(x.shape[0], dtype=torch.long, device=x.device), 1)[0]
    if size is None:
        size = int(batch.max()) + 1 if batch.numel() > 0 else 0
    return fn(x, batch, size)


def _mlp(widths: Sequence[int], activation: str, final_activation: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if final_activation or i < len(widths) - 2:
            layers.append(get_activation(activation))
    return nn.Sequential(*layers)


def _check_widths(owner: str, name: str, widths: Sequence[int]) -> tuple[int, ...]:
    widths = tuple(widths)
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise ValueError(
            f"{owner}: '{name}' must be a sequence of positive integers, got {widths!r}."
        )
    return widths


def _flatten_sets(owner: str, x: Tensor, batch: Tensor | None) -> tuple[Tensor, Tensor | None, int]:
    """Accept ``(N, F)`` (+ optional ``batch``) or dense ``(B, N, F)``; return flat rows."""
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{owner}: expected the input to be a torch.Tensor, got {type(x).__name__}."
        )
    if x.dim() == 3:
        if batch is not None:
            raise ValueError(
                f"{owner}: got a dense (B, N, F) input and a 'batch' vector; pass either a "
                f"dense (B, N, F) tensor or flat (N, F) rows with 'batch', not both."
            )
        b, n, f = x.shape
        flat_batch = torch.arange(b, device=x.device).repeat_interleave(n)
        return x.reshape(b * n, f), flat_batch, b
    if x.dim() != 2:
        raise ValueError(
            f"{owner}: expected a set of shape (N, F), (N, F) with a 'batch' vector, or "
            f"(B, N, F); got shape {tuple(x.shape)}."
        )
    if batch is None:
        return x, None, 1
    if batch.shape != (x.shape[0],) or batch.dtype != torch.long:
        raise ValueError(
            f"{owner}: 'batch' must be a LongTensor of shape ({x.shape[0]},) giving the set "
            f"of each row, got dtype {batch.dtype} and shape {tuple(batch.shape)}."
        )
    size = int(batch.max()) + 1 if batch.numel() > 0 else 0
    return x, batch, size


class DeepSets(nn.Module):
    r"""DeepSets: a permutation-invariant function of a set.

    .. math::
        f(\{x_1, \dots, x_n\}) = \phi\Big(\bigoplus_{j=1}^{n} g(x_j)\Big)

    with :math:`g` and :math:`\phi` multilayer perceptrons and :math:`\bigoplus` the
    pooling (``"sum"``, ``"mean"`` or ``"max"``). Sum pooling is universal for continuous
    permutation-invariant functions (lecture, Theorem 2); mean pooling makes the output
    independent of how many copies of each element there are, max pooling is PointNet's.

    Group respected: the permutation group :math:`S_n` acting on the rows —
    :math:`f(P X) = f(X)` exactly for every permutation matrix :math:`P`.

    Parameters
    ----------
    in_features : int
        Feature size ``F`` of one element.
    out_features : int
        Output size.
    hidden : sequence of int
        Widths of :math:`g`; the last one is the latent size pooled over the set.
    head : sequence of int
        Hidden widths of :math:`\phi` (may be empty: :math:`\phi` is then linear).
    pooling : str
        ``"sum"``, ``"mean"`` or ``"max"`` (see :data:`POOLINGS`).
    activation : str
        Activation name (see :func:`geodl.nn.get_activation`).
    norm : bool
        Batch-normalise the pooled vector before :math:`\phi` (``BatchNorm1d``). Pooled
        features often differ little from set to set compared with their offset; the
        normalisation makes them easy to learn from. In evaluation mode it is a fixed
        affine map, and a single set in training mode uses the running statistics, so the
        output stays a function of that set alone (still exactly invariant).

    Shapes
    ------
    * ``x`` ``(N, F)`` -> ``(out_features,)`` (one set);
    * ``x`` ``(N, F)`` with ``batch`` ``(N,)`` -> ``(B, out_features)`` (sets of any sizes);
    * ``x`` ``(B, N, F)`` -> ``(B, out_features)`` (sets of equal size).

    Examples
    --------
    >>> model = DeepSets(3, 2, hidden=(16, 16), head=(16,), pooling="sum")
    >>> x = torch.randn(5, 3)
    >>> torch.allclose(model(x), model(x[torch.randperm(5)]), atol=1e-6)
    True
    >>> model(torch.randn(7, 3), batch=torch.tensor([0, 0, 0, 1, 1, 2, 2])).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (64, 64),
        head: Sequence[int] = (64,),
        pooling: str = "sum",
        activation: str = "relu",
        norm: bool = False,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        _check_widths(owner, "in_features", (in_features,))
        _check_widths(owner, "out_features", (out_features,))
        hidden = _check_widths(owner, "hidden", hidden)
        head = _check_widths(owner, "head", head)
        if not hidden:
            raise ValueError(f"{owner}: 'hidden' needs at least one width (the latent size).")
        get_pooling(pooling)
        self.in_features = in_features
        self.out_features = out_features
        self.pooling = pooling.lower()
        self.g = _mlp((in_features, *hidden), activation, final_activation=True)
        self.norm = nn.BatchNorm1d(hidden[-1]) if norm else None
        self.phi = _mlp((hidden[-1], *head, out_features), activation, final_activation=False)

    def pool(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        """The pooled (and, with ``norm``, normalised) latent vector: ``(m,)`` or ``(B, m)``."""
        rows, flat_batch, size = _flatten_sets(type(self).__name__, x, batch)
        if rows.shape[-1] != self.in_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.in_features} features per element, got "
                f"{rows.shape[-1]} (input shape {tuple(x.shape)})."
            )
        pooled = segment_pool(self.g(rows), flat_batch, size, self.pooling)
        if self.norm is not None:
            bn = self.norm
            as_batch = pooled.reshape(-1, pooled.shape[-1])
            use_batch_stats = self.training and as_batch.shape[0] > 1
            as_batch = nn.functional.batch_norm(
                as_batch,
                bn.running_mean,
                bn.running_var,
                bn.weight,
                bn.bias,
                use_batch_stats,
                bn.momentum if bn.momentum is not None else 0.1,
                bn.eps,
            )
            pooled = as_batch.reshape(pooled.shape)
        return pooled

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        return self.phi(self.pool(x, batch))

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"pooling={self.pooling!r}, norm={self.norm is not None}"
        )

    def declared_symmetries(self) -> list[Declaration]:
        """Permutations of the rows leave the output unchanged (exactly)."""
        return [
            Declaration("permutation", "set", "invariant", "exact", "pooling over the elements")
        ]


class SetLayer(nn.Module):
    r"""Permutation-equivariant set layer (Zaheer et al. 2017, eq. 4).

    .. math::
        y_i = \Lambda x_i + \Gamma \bigoplus_{j} x_j + b

    :math:`\Lambda, \Gamma` are learned matrices shared by all elements; the pooled term is
    the same for every element of a set. Stack it with activations and finish with a
    pooling (or :class:`DeepSets`) for an invariant model.

    Group respected: permutations :math:`P` of the rows, equivariantly —
    :math:`\mathrm{layer}(P X) = P\,\mathrm{layer}(X)`.

    Parameters
    ----------
    in_features, out_features : int
        Feature sizes per element.
    pooling : str
        ``"sum"``, ``"mean"`` (default) or ``"max"``.
    bias : bool
        Learn :math:`b`.

    Shapes
    ------
    ``(N, F_in)`` (optionally with ``batch`` ``(N,)``) -> ``(N, F_out)``;
    ``(B, N, F_in)`` -> ``(B, N, F_out)``.

    Examples
    --------
    >>> layer = SetLayer(3, 4)
    >>> x, perm = torch.randn(6, 3), torch.randperm(6)
    >>> torch.allclose(layer(x)[perm], layer(x[perm]), atol=1e-6)
    True
    """

    def __init__(
        self, in_features: int, out_features: int, pooling: str = "mean", bias: bool = True
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        _check_widths(owner, "in_features", (in_features,))
        _check_widths(owner, "out_features", (out_features,))
        get_pooling(pooling)
        self.in_features = in_features
        self.out_features = out_features
        self.pooling = pooling.lower()
        self.lam = nn.Linear(in_features, out_features, bias=bias)
        self.gamma = nn.Linear(in_features, out_features, bias=False)

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        rows, flat_batch, size = _flatten_sets(type(self).__name__, x, batch)
        if rows.shape[-1] != self.in_features:
            raise ValueError(
                f"{type(self).__name__}: expected {self.in_features} features per element, got "
                f"{rows.shape[-1]} (input shape {tuple(x.shape)})."
            )
        pooled = segment_pool(rows, flat_batch, size, self.pooling)
        if flat_batch is None:
            context = self.gamma(pooled).expand(rows.shape[0], -1)
        else:
            context = self.gamma(pooled)[flat_batch]
        out = self.lam(rows) + context
        return out.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"pooling={self.pooling!r}"
        )

    def declared_symmetries(self) -> list[Declaration]:
        """Permuting the rows permutes the output rows the same way (exactly)."""
        return [
            Declaration(
                "permutation", "set", "equivariant", "exact", "shared weights + pooled context"
            )
        ]
