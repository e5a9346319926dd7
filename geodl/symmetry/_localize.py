r"""Find the first submodule whose output stops transforming correctly.

Every submodule's output is recorded on ``x`` and on ``g . x`` — with forward hooks for
``nn.Module`` models, and for TorchScript modules (where hooks do not run) by rewriting a
copy of the ``forward`` graph so that it also returns the output (and input) of every
submodule call, walking into the first breaking submodule. Each output is compared with
:math:`\rho(g)` applied to its value at ``x`` for every representation its shape allows;
e3nn modules declare theirs (``irreps_out``), so the first breaking e3nn module is named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._context import ActionContext, cast, make_context, to_float64
from geodl.symmetry._element import GroupElement
from geodl.symmetry._reps import apply_rep
from geodl.symmetry._tolerance import TINY, exact_tolerance, model_device, model_dtype

#: How deep the TorchScript walk descends into the first breaking submodule.
MAX_SCRIPT_DEPTH = 6


def _first_tensor(out: Any) -> Tensor | None:
    if isinstance(out, Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], Tensor):
        return out[0]
    return None


def _as64(out: Any) -> Tensor | None:
    t = _first_tensor(out)
    if t is None or not t.is_floating_point():
        return None
    return t.detach().to("cpu", torch.float64).clone()


def _record(model: nn.Module, args: tuple[Any, ...]) -> tuple[dict, list]:
    store: dict[str, list[Tensor]] = {}
    order: list[tuple[str, int]] = []
    handles = []

    def make_hook(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: Any, out: Any) -> None:
            t = _as64(out)
            if t is None:
                return
            calls = store.setdefault(name, [])
            order.append((name, len(calls)))
            calls.append(t)

        return hook

    for name, m in model.named_modules():
        # private internals (e3nn's compiled code) report through their public owner
        if name and not any(part.startswith("_") for part in name.split(".")):
            handles.append(m.register_forward_hook(make_hook(name)))
    try:
        model(*args)
    finally:
        for h in handles:
            h.remove()
    return store, order


def _irreps_hints(model: nn.Module) -> dict[str, list[str]]:
    """``irreps_out`` of e3nn modules (and any module declaring one), by name."""
    out = {}
    for name, m in model.named_modules():
        irreps = getattr(m, "irreps_out", None)
        if name and irreps is not None and not isinstance(irreps, Tensor):
            text = str(irreps)
            out[name] = [text, f"per-point:{text}"]
    return out


def _candidates(h: Tensor, kind: str, ctx: Any) -> list[str]:
    """Representations an intermediate output of this shape could plausibly carry."""
    s = tuple(h.shape)
    if kind in ("points", "set", "atoms", "graph", "irreps"):
        return ["invariant"] + _row_candidates(s, kind, ctx)
    grid = tuple(ctx.grid or ())
    on_grid = (
        (kind == "image" and len(s) >= 2 and s[-2:] == grid)
        or (kind == "signal" and len(s) >= 1 and s[-1:] == grid)
        or (kind == "sequence" and len(s) >= 2 and s[-2] == grid[0])
    )
    return ["invariant", "equivariant"] if on_grid else ["invariant"]


def _row_candidates(s: tuple[int, ...], kind: str, ctx: Any) -> list[str]:
    reps: list[str] = []
    n, d = ctx.n, ctx.dim
    if len(s) >= 1 and s[0] == n:
        reps.append("per-point")
        if d and s[-1] == d:
            reps += ["per-point:vector", "per-point:pseudovector"]
            if kind in ("points", "atoms") and len(s) == 2:
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
    if getattr(ctx, "in_irreps", None):
        reps += [str(ctx.in_irreps), f"per-point:{ctx.in_irreps}"]
    return reps


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
        except (ValueError, RuntimeError, IndexError, AssertionError):
            continue
        if expected.shape != b.shape:
            continue
        err = float((b - expected).norm()) / denom
        if err < best_err:
            best, best_err = rep, err
    return best, best_err


class _Compare:
    """Compares one recorded output at x and at g.x (the state of a localisation)."""

    def __init__(
        self,
        g: GroupElement,
        kind: str,
        ctx: ActionContext,
        tol: float,
        hints: Mapping[str, str],
        extra: Mapping[str, list[str]],
    ) -> None:
        self.g, self.kind, self.ctx, self.tol = g, kind, ctx, tol
        self.hints, self.extra = hints, extra

    def __call__(self, name: str, idx: int, a: Tensor, b: Tensor) -> dict[str, Any] | None:
        if a.shape != b.shape:
            return None
        if name in self.hints:
            candidates = [self.hints[name]]
        else:
            candidates = _candidates(a, self.kind, self.ctx) + self.extra.get(name, [])
        best, err = _best_fit(a, b, self.g, self.kind, candidates)
        return {
            "module": name,
            "call": idx,
            "shape": tuple(a.shape),
            "best": best,
            "rel": err,
            "ok": err <= 10 * self.tol,
        }


def _script_calls(module: Any, args: tuple[Any, ...]) -> list[tuple[str, tuple, Any]]:
    """``(name, inputs, output)`` of every submodule ``forward`` called at the top level
    of a TorchScript module's ``forward``, from a rewritten copy of its graph."""
    graph = module.graph.copy()
    self_name = next(iter(graph.inputs())).debugName()
    calls = []
    for node in graph.nodes():
        if node.kind() != "prim::CallMethod" or node.s("name") != "forward":
            continue
        owner = node.inputsAt(0).node()
        if owner.kind() == "prim::GetAttr" and owner.inputsAt(0).debugName() == self_name:
            calls.append((owner.s("name"), node))
    if not calls:
        return []
    ret = graph.return_node()
    values = [ret.inputsAt(0)]
    for _, node in calls:
        inputs = list(node.inputs())[1:]
        pack = graph.create("prim::TupleConstruct", inputs)
        pack.insertBefore(ret)
        pack.output().setType(torch._C.TupleType([v.type() for v in inputs]))
        values += [pack.output(), node.output()]
    tup = graph.create("prim::TupleConstruct", values)
    tup.insertBefore(ret)
    tup.output().setType(torch._C.TupleType([v.type() for v in values]))
    ret.replaceInput(0, tup.output())
    fn = torch._C._create_function_from_graph("geodl_probe", graph)
    result = fn(module._c, *args)
    return [(name, result[1 + 2 * k], result[2 + 2 * k]) for k, (name, _) in enumerate(calls)]


def _script_walk(
    module: Any, a0: tuple, a1: tuple, compare: _Compare, prefix: str = "", depth: int = 0
) -> list[dict[str, Any]]:
    """Trace entries of a TorchScript module's submodules, descending into the first
    breaking one (its own entries come before the parent's)."""
    trace: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    descended = False
    calls1 = _script_calls(module, a1)
    for (name, in0, out0), (_, in1, out1) in zip(_script_calls(module, a0), calls1, strict=False):
        qual = prefix + name
        idx = seen[qual] = seen.get(qual, -1) + 1
        t0, t1 = _as64(out0), _as64(out1)
        entry = None if t0 is None or t1 is None else compare(qual, idx, t0, t1)
        if entry is None:
            continue
        if not entry["ok"] and not descended and depth < MAX_SCRIPT_DEPTH:
            descended = True
            sub = getattr(module, name)
            if isinstance(sub, torch.jit.ScriptModule):
                trace += _script_walk(sub, tuple(in0), tuple(in1), compare, qual + ".", depth + 1)
        trace.append(entry)
    return trace


def localize(
    model: nn.Module,
    g: GroupElement,
    inputs: Any,
    kind: str,
    dtype: torch.dtype | None = None,
    tol: float | None = None,
    module_reps: Mapping[str, str] | None = None,
    pack: Callable[[tuple[Tensor, ...]], tuple[Any, ...]] | None = None,
    in_rep: str | None = None,
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
    pack : callable, optional
        Builds the model's arguments from the input items (e.g. a PyG ``Data``).
    in_rep : str, optional
        e3nn irreps of the input features (``"irreps"`` inputs, graph node features).

    Returns
    -------
    culprit : str or None
        Qualified submodule name, or None when every recorded output transforms.
    trace : list of dict
        ``module, call, shape, best, rel, ok`` per recorded output, in order.
    """
    x64 = to_float64(inputs)
    ctx = make_context(kind, x64 if len(x64) > 1 else x64[0], in_rep)
    dt = dtype or model_dtype(model, inputs)
    tol = exact_tolerance(dt) if tol is None else tol
    dev = model_device(model, inputs)
    pack = pack or (lambda items: items)
    args0 = pack(cast(x64, dt, dev))
    args1 = pack(cast(g.act_items(x64, kind, in_rep), dt, dev))
    compare = _Compare(g, kind, ctx, tol, dict(module_reps or {}), _irreps_hints(model))
    if isinstance(model, torch.jit.ScriptModule):
        trace = _script_walk(model, args0, args1, compare)
    else:
        s0, order = _record(model, args0)
        s1, _ = _record(model, args1)
        trace = []
        for name, idx in order:
            a_list, b_list = s0.get(name, []), s1.get(name, [])
            if len(a_list) == len(b_list):
                entry = compare(name, idx, a_list[idx], b_list[idx])
                if entry is not None:
                    trace.append(entry)
    culprit = next((t["module"] for t in trace if not t["ok"]), None)
    return culprit, trace
