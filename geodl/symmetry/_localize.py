"""Find the first submodule whose output stops transforming correctly (forward hooks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._context import cast, make_context, to_float64
from geodl.symmetry._element import GroupElement
from geodl.symmetry._reps import apply_rep
from geodl.symmetry._tolerance import TINY, exact_tolerance, model_device, model_dtype


def _first_tensor(out: Any) -> Tensor | None:
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], Tensor):
        return out[0]
    return None


def _record(model: nn.Module, items: tuple[Tensor, ...]) -> tuple[dict, list]:
    store: dict[str, list[Tensor]] = {}
    order: list[tuple[str, int]] = []
    handles = []

    def make_hook(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            t = _first_tensor(out)
            if t is None or not t.is_floating_point():
                return
            calls = store.setdefault(name, [])
            order.append((name, len(calls)))
            calls.append(t.detach().to("cpu", torch.float64).clone())

        return hook

    for name, m in model.named_modules():
        if name:
            handles.append(m.register_forward_hook(make_hook(name)))
    try:
        model(*items)
    finally:
        for h in handles:
            h.remove()
    return store, order


def _candidates(h: Tensor, kind: str, ctx: Any) -> list[str]:
    """Representations an intermediate output of this shape could plausibly carry."""
    reps = ["invariant"]
    s = tuple(h.shape)
    if kind in ("points", "set", "atoms"):
        n, d = ctx.n, ctx.dim
        if len(s) >= 1 and s[0] == n:
            reps.append("per-point")
            if d and s[-1] == d:
                reps += ["per-point:vector", "per-point:pseudovector"]
                if kind != "set" and len(s) == 2:
                    reps.append("equivariant")
            if d and len(s) >= 3 and s[-2:] == (d, d):
                reps.append("per-point:rank2")
        if len(s) >= 2 and s[:2] == (n, n):
            reps.append("pairwise")
            if d and s[-1] == d:
                reps.append("pairwise:vector")
        if d and len(s) >= 1 and s[-1] == d and kind != "set":
            reps += ["vector", "pseudovector"]
            if len(s) >= 2 and s[-2:] == (d, d):
                reps.append("rank2")
    elif kind == "image":
        if len(s) >= 2 and s[-2:] == tuple(ctx.grid):
            reps.append("equivariant")
    elif kind == "signal":
        if len(s) >= 1 and s[-1] == ctx.grid[0]:
            reps.append("equivariant")
    elif kind == "sequence":
        if len(s) >= 2 and s[-2] == ctx.grid[0]:
            reps.append("equivariant")
    return reps


def localize(
    model: nn.Module,
    g: GroupElement,
    inputs: Any,
    kind: str,
    dtype: torch.dtype | None = None,
    tol: float | None = None,
    module_reps: Mapping[str, str] | None = None,
) -> tuple[str | None, list[dict[str, Any]]]:
    """Name the first submodule whose output transforms like none of its plausible
    representations under ``g``.

    Every submodule's output is recorded with forward hooks on ``x`` and on ``g . x``.
    In execution order, each output is compared with ``rho(g)`` applied to the recorded
    output on ``x`` for every representation its shape allows (invariant; per-point,
    per-point vector / rank-2, pairwise, coordinates for point inputs; a feature map on
    the same grid for images, signals and sequences). The first module where none fits
    within ``10 * tol`` is the culprit. Outputs whose representation cannot be guessed
    from the shape (e.g. mixed irreps features) can be named in ``module_reps``
    (``{"encoder.1": "per-point:8x0e + 4x1o"}``); otherwise such a module may be blamed
    too early: read the trace.

    Parameters
    ----------
    model : nn.Module
        The model (its submodules get temporary forward hooks).
    g : GroupElement
        The element to test (typically the worst one of a check).
    inputs : Tensor or tuple
        One unbatched input of ``kind``.
    kind : str
        Input kind.
    dtype : torch.dtype, optional
        Model dtype (default: detected).
    tol : float, optional
        Round-off tolerance (default: from the dtype).
    module_reps : dict, optional
        Representation of named submodules' outputs, overriding the shape-based guesses.

    Returns
    -------
    culprit : str or None
        Qualified submodule name, or None when every recorded output transforms.
    trace : list of dict
        ``module, call, shape, best, rel, ok`` per recorded output, in order.
    """
    x64 = to_float64(inputs)
    ctx = make_context(kind, x64 if len(x64) > 1 else x64[0])
    dt = dtype or model_dtype(model, inputs)
    tol = exact_tolerance(dt) if tol is None else tol
    hints = dict(module_reps or {})
    dev = model_device(model, inputs)
    s0, order = _record(model, cast(x64, dt, dev))
    s1, _ = _record(model, cast(g.act_items(x64, kind), dt, dev))
    trace: list[dict[str, Any]] = []
    for name, idx in order:
        a_list, b_list = s0.get(name, []), s1.get(name, [])
        if len(a_list) != len(b_list) or a_list[idx].shape != b_list[idx].shape:
            continue
        a, b = a_list[idx], b_list[idx]
        candidates = [hints[name]] if name in hints else _candidates(a, kind, ctx)
        best, best_err = _best_fit(a, b, g, kind, candidates)
        trace.append(
            {
                "module": name,
                "call": idx,
                "shape": tuple(a.shape),
                "best": best,
                "rel": best_err,
                "ok": best_err <= 10 * tol,
            }
        )
    culprit = next((t["module"] for t in trace if not t["ok"]), None)
    return culprit, trace


def _best_fit(
    a: Tensor, b: Tensor, g: GroupElement, kind: str, candidates: list[str]
) -> tuple[str, float]:
    """The candidate representation that best maps ``a`` (at x) onto ``b`` (at g.x), and
    its relative error."""
    denom = max(float(a.norm()), TINY)
    best, best_err = "", float("inf")
    for rep in candidates:
        try:
            expected = apply_rep(rep, g, a, kind)
        except (ValueError, RuntimeError, IndexError):
            continue
        if expected.shape != b.shape:
            continue
        err = float((b - expected).norm()) / denom
        if err < best_err:
            best, best_err = rep, err
    return best, best_err
