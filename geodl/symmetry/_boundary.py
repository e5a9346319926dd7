"""Is a break on a grid (image, signal, sequence) only a boundary effect?

Zero padding makes convolutions equivariant only away from the edges. For a feature-map
output the error must lie within a band along the edges and the seam of the shift; for
a pooled output the symmetry must hold once the input's outer cells are zero.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._context import ActionContext, cast
from geodl.symmetry._element import GroupElement
from geodl.symmetry._groups import Group
from geodl.symmetry._outputs import call_model
from geodl.symmetry._report import Where
from geodl.symmetry._reps import apply_rep
from geodl.symmetry._tolerance import TINY

GRID_KINDS = ("image", "signal", "sequence")


def _band(sizes: tuple[int, ...], w: int) -> Tensor:
    band = torch.zeros(sizes, dtype=torch.bool)
    for ax, n in enumerate(sizes):
        idx: list[Any] = [slice(None)] * len(sizes)
        idx[ax] = slice(0, w)
        band[tuple(idx)] = True
        idx[ax] = slice(n - w, n)
        band[tuple(idx)] = True
    return band


def map_boundary(
    err: Tensor, g: GroupElement, kind: str, ref_norm: float, tol: float
) -> tuple[Where, int | None]:
    """Where a feature-map error sits: within ``w`` cells of the edges / seam, or inside."""
    axes = 2 if kind == "image" else 1
    if kind == "sequence":
        e = err.pow(2)
        e = e.sum(dim=-1) if e.ndim >= 2 else e
        e = e.reshape(-1, e.shape[-1]).sum(0)
    else:
        e = err.pow(2).reshape(-1, *err.shape[-axes:]).sum(0)
    sizes = tuple(e.shape)
    for w in range(1, max(1, min(sizes) // 4) + 1):
        band = _band(sizes, w)
        # the seam of a cyclic shift (the old edge, moved by g)
        if kind == "sequence":
            moved = g.act_grid(band.unsqueeze(-1), kind).squeeze(-1)
        else:
            moved = g.act_grid(band, kind)
        band = band | moved
        inside = float(e[~band].sum().sqrt()) / max(ref_norm, TINY)
        if inside <= tol:
            return "boundary", w
    return "interior", None


def frame(x: Tensor, w: int, kind: str) -> Tensor:
    """``x`` with its outer ``w`` cells set to zero along the grid axes of ``kind``."""
    x = x.clone()
    axes = {"image": (-2, -1), "signal": (-1,), "sequence": (-2,)}[kind]
    for ax in axes:
        n = x.shape[ax]
        idx: list[Any] = [slice(None)] * x.ndim
        idx[ax] = slice(0, w)
        x[tuple(idx)] = 0
        idx[ax] = slice(n - w, n)
        x[tuple(idx)] = 0
    return x


def _framing_elements(G: Group, ctx: ActionContext) -> list[GroupElement]:
    grid = ctx.grid or ()
    if G.finite:
        return [g for g in G.elements(ctx=ctx) if not g.is_identity()]
    one = tuple(1 for _ in grid)
    back = tuple(k - 1 for k in grid)
    return [GroupElement(G.name, shift=one, grid=grid), GroupElement(G.name, shift=back, grid=grid)]


def framed_boundary(
    model: Callable[..., Any],
    G: Group,
    ctx: ActionContext,
    x64: tuple[Tensor, ...],
    kind: str,
    dt: torch.dtype,
    reps: list[str],
    tol: float,
    dev: torch.device | None = None,
) -> tuple[Where, int | None]:
    """Boundary test for pooled outputs on grids.

    The input's outer ``w`` cells (``w`` = a quarter or a third of the grid) are set to
    zero (what zero padding adds) and the group is applied again (unit shifts for shift
    groups). If the model is then equivariant to round-off — relative to the part of the
    output the content contributes, ``f(x) - f(0)`` — its break came only from the
    boundary: ``("boundary", w)``; else ``("interior", None)``.
    """
    n = min(ctx.grid or (0,))
    widths = sorted({w for w in (n // 4, n // 3) if w >= 1 and n - 2 * w >= 2})
    elements = _framing_elements(G, ctx)
    blank = call_model(model, cast((torch.zeros_like(x64[0]),), dt, dev))
    for w in widths:
        xf = (frame(x64[0], w, kind),)
        y0 = call_model(model, cast(xf, dt, dev))
        worst = 0.0
        for g in elements:
            yg = call_model(model, cast(g.act_items(xf, kind), dt, dev))
            for (_, a), (_, b), (_, z), rep in zip(y0, yg, blank, reps, strict=False):
                if not (bool(torch.isfinite(a).all()) and bool(torch.isfinite(b).all())):
                    return "interior", None
                # relative to what the content contributes (not the response to zeros)
                signal = float((a - z).norm())
                if signal <= 10 * tol * max(float(a.norm()), TINY):
                    return "interior", None  # the content is invisible: cannot tell
                err = float((b - apply_rep(rep, g, a, kind)).norm()) / signal
                worst = max(worst, err)
        if worst <= tol:
            return "boundary", w
    return "interior", None


def spatial_matches(y: Tensor, grid: tuple[int, ...], kind: str) -> bool:
    """Whether an output is a feature map on the input's grid."""
    if kind == "sequence":
        return y.ndim >= 2 and y.shape[-2] == grid[0]
    return y.ndim >= len(grid) and tuple(y.shape[-len(grid) :]) == tuple(grid)
