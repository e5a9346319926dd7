"""hypothesis strategies for symmetry tests: rotations, permutations and generic inputs.

Hypothesis does not seed torch, so every strategy draws an integer seed and builds its
tensors from ``torch.Generator().manual_seed(seed)``: examples are reproducible and
shrink. Inputs are generic — never fixed points of the groups (no constant arrays, no
coincident points), which would make a symmetry check vacuous.

Examples
--------
>>> from hypothesis import given
>>> from geodl.symmetry import check_invariance
>>> from geodl.symmetry.strategies import point_clouds
>>> @given(point_clouds())
... def test_energy(x):
...     assert check_invariance(lambda p: torch.cdist(p, p).sum(), "E3", x).verdict == "exact"
"""

from __future__ import annotations

import math
from typing import Any

import torch
from hypothesis import strategies as st
from torch import Tensor

from geodl.symmetry._context import infer_kind, make_context
from geodl.symmetry._element import GroupElement
from geodl.symmetry._groups import get_group
from geodl.symmetry._sampling import haar_orthogonal

__all__ = [
    "generators",
    "group_elements",
    "images",
    "molecules",
    "permutations",
    "point_clouds",
    "rotations",
    "seeds",
    "sequences",
    "sets",
    "signals",
]

_SizeArg = int | tuple[int, int]


def seeds() -> st.SearchStrategy[int]:
    """Integer seeds for ``torch.Generator().manual_seed``."""
    return st.integers(min_value=0, max_value=2**31 - 1)


def generators() -> st.SearchStrategy[torch.Generator]:
    """Seeded ``torch.Generator`` objects."""
    return seeds().map(lambda s: torch.Generator().manual_seed(s))


def _size(draw: Any, size: _SizeArg) -> int:
    if isinstance(size, int):
        return size
    return draw(st.integers(min_value=size[0], max_value=size[1]))


@st.composite
def rotations(draw: Any, dim: int = 3, proper: bool | None = True) -> Tensor:
    """Haar-random orthogonal ``(dim, dim)`` float64 matrices.

    ``proper=True``: rotations (det +1); ``False``: improper (det -1); ``None``: either.
    """
    if proper is None:
        proper = draw(st.booleans())
    gen = torch.Generator().manual_seed(draw(seeds()))
    return haar_orthogonal(1, dim, gen, proper)[0]


def permutations(n: int, non_identity: bool = True) -> st.SearchStrategy[Tensor]:
    """Permutations of ``range(n)`` as LongTensors (not the identity by default)."""
    strat = st.permutations(list(range(n)))
    if non_identity and n > 1:
        strat = strat.filter(lambda p: p != list(range(n)))
    return strat.map(lambda p: torch.tensor(p, dtype=torch.long))


def _spread_points(n: int, dim: int, min_distance: float, gen: torch.Generator) -> Tensor:
    """``n`` points, pairwise at least ``min_distance`` apart, randomly rotated."""
    side = math.ceil(n ** (1.0 / dim)) + 1
    sites = torch.stack(
        torch.meshgrid(*[torch.arange(side, dtype=torch.float64)] * dim, indexing="ij"), -1
    ).reshape(-1, dim)
    pick = torch.randperm(sites.shape[0], generator=gen)[:n]
    spacing = 2.0 * min_distance
    jitter = (torch.rand(n, dim, generator=gen, dtype=torch.float64) - 0.5) * min_distance * 0.98
    x = spacing * sites[pick] + jitter  # |jitter_i - jitter_j| < min_distance per axis
    R = haar_orthogonal(1, dim, gen, True)[0]
    return (x - x.mean(0)) @ R.T


@st.composite
def point_clouds(
    draw: Any,
    n: _SizeArg = (4, 12),
    dim: int = 3,
    min_distance: float = 0.5,
    dtype: torch.dtype = torch.float64,
) -> Tensor:
    """Point clouds ``(N, dim)`` with no two points closer than ``min_distance``."""
    k = _size(draw, n)
    gen = torch.Generator().manual_seed(draw(seeds()))
    return _spread_points(k, dim, min_distance, gen).to(dtype)


@st.composite
def molecules(
    draw: Any,
    n: _SizeArg = (3, 10),
    num_species: int = 2,
    min_distance: float = 0.9,
    cell: bool = False,
    dtype: torch.dtype = torch.float64,
) -> tuple[Tensor, ...]:
    """``(species, positions)`` (or ``(species, positions, cell)`` with ``cell=True``).

    At least two atoms share a species when ``N > num_species`` (so species-preserving
    permutations are non-trivial); atoms are at least ``min_distance`` apart.
    """
    k = _size(draw, n)
    gen = torch.Generator().manual_seed(draw(seeds()))
    species = torch.randint(0, num_species, (k,), generator=gen)
    if k >= 2:
        species[1] = species[0]
    pos = _spread_points(k, 3, min_distance, gen)
    if not cell:
        return species, pos.to(dtype)
    extent = float((pos.max(0).values - pos.min(0).values).max()) + 2 * min_distance
    box = torch.eye(3, dtype=torch.float64) * extent
    box = box + 0.1 * extent * torch.rand(3, 3, generator=gen, dtype=torch.float64).triu(1)
    return species, pos.to(dtype), box.to(dtype)


def _generic(shape: tuple[int, ...], gen: torch.Generator, dtype: torch.dtype) -> Tensor:
    x = torch.randn(*shape, generator=gen, dtype=torch.float64)
    # a ramp along the last axis makes the input generic even for tiny sizes
    ramp = torch.linspace(0.0, 0.5, shape[-1], dtype=torch.float64)
    return (x + ramp).to(dtype)


@st.composite
def images(
    draw: Any,
    channels: _SizeArg = 1,
    size: _SizeArg = (4, 12),
    square: bool = True,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Generic images ``(C, H, W)`` (square by default, for C4 / D4)."""
    c, h = _size(draw, channels), _size(draw, size)
    w = h if square else _size(draw, size)
    gen = torch.Generator().manual_seed(draw(seeds()))
    return _generic((c, h, w), gen, dtype)


@st.composite
def signals(
    draw: Any,
    channels: _SizeArg = 1,
    length: _SizeArg = (4, 32),
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Generic 1D signals ``(C, L)``."""
    c, l = _size(draw, channels), _size(draw, length)
    return _generic((c, l), torch.Generator().manual_seed(draw(seeds())), dtype)


@st.composite
def sequences(
    draw: Any,
    length: _SizeArg = (4, 16),
    features: _SizeArg = 3,
    dtype: torch.dtype = torch.float32,
) -> Tensor:
    """Generic sequences ``(T, F)`` (time first)."""
    t, f = _size(draw, length), _size(draw, features)
    gen = torch.Generator().manual_seed(draw(seeds()))
    x = torch.randn(t, f, generator=gen, dtype=torch.float64)
    x[:, 0] += torch.linspace(0.0, 0.5, t, dtype=torch.float64)
    return x.to(dtype)


@st.composite
def sets(
    draw: Any, n: _SizeArg = (3, 10), features: _SizeArg = 4, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Generic sets ``(N, F)`` with distinct rows."""
    k, f = _size(draw, n), _size(draw, features)
    gen = torch.Generator().manual_seed(draw(seeds()))
    x = torch.randn(k, f, generator=gen, dtype=torch.float64)
    x[:, 0] += torch.arange(k, dtype=torch.float64)  # rows distinct
    return x[torch.randperm(k, generator=gen)].to(dtype)


@st.composite
def group_elements(draw: Any, group: str, inputs: Any, kind: str | None = None) -> GroupElement:
    """Elements of ``group`` able to act on ``inputs`` (drawn from a seed)."""
    G = get_group(group)
    if kind is None:
        kind = infer_kind(G, inputs)
    ctx = make_context(kind, inputs)
    gen = torch.Generator().manual_seed(draw(seeds()))
    return G.sample(1, gen, ctx=ctx)[0]
