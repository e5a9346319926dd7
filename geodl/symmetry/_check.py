r"""Invariance / equivariance checks of arbitrary models (and forces of energy models).

For sampled group elements :math:`g` the checks measure

.. math::

    \epsilon_{\mathrm{abs}}(g) = \lVert f(g \cdot x) - \rho(g)\, f(x) \rVert, \qquad
    \epsilon_{\mathrm{rel}}(g) = \frac{\epsilon_{\mathrm{abs}}(g)}
                                      {\max(\lVert f(x) \rVert, \mathrm{tiny})}

with the group acting in float64 on the input, which is then cast to the dtype of the
model. The worst relative error gives the verdict: ``exact`` up to the round-off
tolerance of that dtype (:data:`EXACT_TOLERANCE`); ``approximate`` when the error is
confined to the boundary of a grid (zero padding) or below a tolerance ``approx_tol``
you set; else ``broken``. A NaN or inf output is always ``broken``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._context import (
    ActionContext,
    as_tuple,
    cast,
    compatible_kinds,
    make_context,
    to_float64,
)
from geodl.symmetry._groups import Group, GroupElement, get_group
from geodl.symmetry._report import ElementError, SymmetryReport
from geodl.symmetry._reps import apply_rep, validate_rep
from geodl.symmetry._tolerance import TINY, exact_tolerance, model_device, model_dtype

OutRep = str | Mapping[str, str] | Sequence[str]


class SymmetryError(AssertionError):
    """Raised by :func:`assert_invariant` / :func:`assert_equivariant`; carries ``.report``."""

    def __init__(self, message: str, report: SymmetryReport) -> None:
        super().__init__(message)
        self.report = report


def infer_kind(group: Group, inputs: Any) -> str:
    """The input kind ``group`` acts on that matches the layout of ``inputs``.

    Raises a ValueError naming the valid kinds when none or several (with different
    actions) match.
    """
    shape_kinds = compatible_kinds(inputs)
    if not shape_kinds:
        raise ValueError(
            "inputs: expected a Tensor or a tuple of Tensors laid out as one of the input "
            "kinds (points (N, d), set (N, F), image (C, H, W), signal (C, L), sequence "
            "(T, F), atoms (species, positions[, cell])); got "
            f"{[type(x).__name__ for x in as_tuple(inputs)]}. Pass kind=... explicitly."
        )
    candidates = [k for k in shape_kinds if k in group.kinds]
    if "points" in candidates and "set" in candidates:
        candidates.remove("set")  # rows are permuted the same way
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValueError(
            f"group {group.name!r} acts on {list(group.kinds)}, but the inputs look like "
            f"{shape_kinds}. Pass kind=... or choose a group acting on that input."
        )
    raise ValueError(
        f"inputs: ambiguous input kind for group {group.name!r}: {candidates}. Pass kind=..."
    )


@contextlib.contextmanager
def eval_mode(model: Any) -> Iterator[None]:
    """Temporarily put an ``nn.Module`` in eval mode (dropout off), restoring flags after."""
    if not isinstance(model, nn.Module):
        yield
        return
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, t in flags:
            m.training = t


def _flatten(out: Any) -> list[tuple[str, Tensor]]:
    if isinstance(out, Tensor):
        return [("", out)]
    if isinstance(out, Mapping):
        return [(str(k), v) for k, v in out.items() if isinstance(v, Tensor)]
    if isinstance(out, (tuple, list)):
        return [(str(i), v) for i, v in enumerate(out) if isinstance(v, Tensor)]
    if isinstance(out, (float, int)):
        return [("", torch.tensor(float(out)))]
    raise TypeError(
        f"model output: expected a Tensor (or a tuple / dict of Tensors), got "
        f"{type(out).__name__}. Wrap the model so that it returns tensors."
    )


def _reps_for(out_rep: OutRep, labels: list[str]) -> list[str]:
    if isinstance(out_rep, str):
        return [validate_rep(out_rep)] * len(labels)
    if isinstance(out_rep, Mapping):
        missing = [k for k in labels if k not in out_rep]
        if missing:
            raise ValueError(
                f"out_rep: no representation given for output keys {missing}; got keys "
                f"{list(out_rep)}."
            )
        return [validate_rep(out_rep[k]) for k in labels]
    reps = list(out_rep)
    if len(reps) != len(labels):
        raise ValueError(
            f"out_rep: {len(reps)} representations for {len(labels)} outputs; give one each."
        )
    return [validate_rep(r) for r in reps]


def call_model(model: Callable[..., Any], items: tuple[Tensor, ...]) -> list[tuple[str, Tensor]]:
    """Call ``model(*items)`` and return its outputs as ``(label, float64 tensor)`` pairs."""
    out = model(*items)
    return [(k, v.detach().to("cpu", torch.float64)) for k, v in _flatten(out)]


def _resolve(group: str | Group, inputs: Any, kind: str | None) -> tuple[Group, str, ActionContext]:
    G = get_group(group)
    if kind is None:
        kind = infer_kind(G, inputs)
    ctx = make_context(kind, inputs)
    G.check_acts_on(kind, ctx)
    return G, kind, ctx


def _generator(generator: torch.Generator | None, seed: int) -> torch.Generator:
    return generator if generator is not None else torch.Generator().manual_seed(seed)


def _moved(g: GroupElement, x64: tuple[Tensor, ...], gx: tuple[Tensor, ...], kind: str) -> float:
    """Relative size of the change of the input under ``g`` (0: a fixed point)."""
    i = 1 if kind == "atoms" else 0
    a, b = x64[i], gx[i]
    if a.shape != b.shape:
        return 1.0
    return float((a - b).norm() / max(float(a.norm()), TINY))


def _boundary(
    err: Tensor, g: GroupElement, kind: str, ref_norm: float, tol: float
) -> tuple[str, int | None]:
    """Where a feature-map error sits: within ``w`` cells of the edges / seam, or inside."""
    axes = 2 if kind == "image" else 1
    if kind == "sequence":
        e = err.pow(2)
        e = e.sum(dim=-1) if e.ndim >= 2 else e
        e = e.reshape(-1, e.shape[-1]).sum(0)
    else:
        e = err.pow(2).reshape(-1, *err.shape[-axes:]).sum(0)
    sizes = e.shape
    limit = max(1, min(sizes) // 4)
    for w in range(1, limit + 1):
        band = torch.zeros(sizes, dtype=torch.bool)
        for ax, n in enumerate(sizes):
            idx = [slice(None)] * len(sizes)
            idx[ax] = slice(0, w)
            band[tuple(idx)] = True
            idx[ax] = slice(n - w, n)
            band[tuple(idx)] = True
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


def _frame(x: Tensor, w: int, kind: str) -> Tensor:
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


def _framed(
    model: Callable[..., Any],
    G: Group,
    ctx: ActionContext,
    x64: tuple[Tensor, ...],
    kind: str,
    dt: torch.dtype,
    reps: list[str],
    tol: float,
    dev: torch.device | None = None,
) -> tuple[str, int | None]:
    """Boundary test for pooled outputs on grids.

    The input's outer ``w`` cells (``w`` = a quarter or a third of the grid) are set to
    zero (what zero padding adds) and the group is applied again (unit shifts for shift
    groups). If the model is then equivariant to round-off — relative to the part of the
    output the content contributes, ``f(x) - f(0)`` — its break came only from the
    boundary: ``("boundary", w)``; else ``("interior", None)``.
    """
    grid = ctx.grid or ()
    n = min(grid)
    widths = sorted({w for w in (n // 4, n // 3) if w >= 1 and n - 2 * w >= 2})
    if G.finite:
        elements = [g for g in G.elements(ctx=ctx) if not g.is_identity()]
    else:
        one = tuple(1 for _ in grid)
        back = tuple(k - 1 for k in grid)
        elements = [
            GroupElement(G.name, shift=one, grid=grid),
            GroupElement(G.name, shift=back, grid=grid),
        ]
    blank = call_model(model, cast((torch.zeros_like(x64[0]),), dt, dev))
    for w in widths:
        xf = (_frame(x64[0], w, kind),)
        y0 = call_model(model, cast(xf, dt, dev))
        worst = 0.0
        for g in elements:
            yg = call_model(model, cast(g._act_items(xf, kind), dt, dev))
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


def check_equivariance(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    *,
    kind: str | None = None,
    in_rep: str | None = None,
    out_rep: OutRep = "equivariant",
    samples: int = 8,
    tol: float | None = None,
    approx_tol: float | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    seed: int = 0,
    localize: bool = True,
    module_reps: Mapping[str, str] | None = None,
) -> SymmetryReport:
    r"""Measure how far ``f(g x)`` is from ``rho(g) f(x)`` over sampled group elements.

    .. math::

        \epsilon_{\mathrm{rel}} = \max_g \frac{\lVert f(g \cdot x) - \rho(g) f(x)\rVert}
                                               {\max(\lVert f(x)\rVert, \mathrm{tiny})}

    Parameters
    ----------
    model : callable
        ``nn.Module`` or function called as ``model(*inputs)`` on one unbatched input. It
        is put in eval mode for the check (and restored afterwards).
    group : str or Group
        E.g. ``"SO3"``, ``"E3 x permutation"`` (see :data:`GROUPS`).
    inputs : Tensor or tuple of Tensor
        One input (see :data:`INPUT_KINDS`); avoid symmetric inputs (fixed points).
    kind : str, optional
        Input kind; inferred from the layout and the group when omitted. ``in_rep`` is
        an alias.
    out_rep : str, or dict / sequence of str for several outputs
        Output representation (see :data:`REPRESENTATIONS`).
    samples : int
        Random elements for infinite groups (finite groups: every non-identity
        element). Groups with reflections test half proper, half improper elements.
    tol : float, optional
        Round-off tolerance; default from the model dtype (:data:`EXACT_TOLERANCE`),
        raised to 100 times the model's noise floor (the relative change of its output
        when the input is perturbed by one rounding unit of its dtype) for models that
        amplify round-off — with a warning in the report.
    approx_tol : float, optional
        Largest relative error still ``"approximate"`` when the break cannot be located
        on a grid boundary (default: none, i.e. any error above ``tol`` is ``"broken"``;
        a float64 break of relative size 1e-4 is always found).
    dtype : torch.dtype, optional
        The dtype the model computes in (default: detected, see :func:`model_dtype`).
    device : torch.device, optional
        Where the model runs (default: detected, see :func:`model_device`); the group
        acts on the CPU in float64, inputs are then moved there.
    generator, seed
        Randomness of the sampled elements (default ``torch.Generator().manual_seed(0)``).
    localize : bool
        On a non-exact verdict, name the first submodule that breaks (forward hooks).
    module_reps : dict, optional
        Output representations of named submodules for localisation, where the shape
        does not tell (see :func:`localize`).

    Notes
    -----
    Verdicts: ``exact`` if the worst relative error is at most ``tol``. Else, on images,
    signals and sequences, ``approximate`` when the break is a boundary effect (e.g.
    zero padding) and ``broken`` otherwise (``report.where`` is ``"boundary"`` or
    ``"interior"``): for a feature-map output, the error must be confined to a band of
    at most a quarter of the grid along the edges and the seam of the shift; for a
    pooled output, the symmetry must hold to ``10 * tol`` once the input's outer
    ``boundary_width`` cells are zero (unit shifts for shift groups). Elsewhere,
    ``approximate`` up to ``approx_tol`` (only when you set it) and ``broken`` above.
    NaN / inf outputs are always ``broken``.

    Returns
    -------
    SymmetryReport

    Shapes
    ------
    inputs: one unbatched input; output: any shape matching ``out_rep``.

    Examples
    --------
    >>> f = lambda x: x - x.mean(0)          # centring: E(3) x S_N equivariant up to t
    >>> x = torch.randn(5, 3, dtype=torch.float64)
    >>> check_equivariance(f, "SO3", x).verdict
    'exact'
    >>> check_equivariance(f, "translation", x).verdict  # f(x + t) = f(x), not f(x) + t
    'broken'
    """
    if in_rep is not None:
        if kind is not None and kind != in_rep:
            raise ValueError(f"kind={kind!r} and in_rep={in_rep!r} disagree; pass only one.")
        kind = in_rep
    G, kind, ctx = _resolve(group, inputs, kind)
    dt = dtype or model_dtype(model, inputs)
    calibrate = tol is None
    tol = exact_tolerance(dt) if tol is None else float(tol)
    gen = _generator(generator, seed)
    elements = G.test_elements(samples, gen, ctx=ctx) or [G.identity(ctx=ctx)]
    x64 = to_float64(inputs)
    dev = torch.device(device) if device is not None else model_device(model, inputs)
    items = cast(x64, dt, dev)
    rep_name = out_rep if isinstance(out_rep, str) else str(out_rep)

    with eval_mode(model):
        y0 = call_model(model, items)
        reps = _reps_for(out_rep, [k for k, _ in y0])
        nonfinite = not all(bool(torch.isfinite(v).all()) for _, v in y0)
        floor = 0.0 if nonfinite else _noise_floor(model, x64, y0, dt, dev, seed)
        if calibrate and NOISE_FACTOR * floor > tol:
            tol = max(tol, min(NOISE_FACTOR * floor, MAX_CALIBRATED_TOLERANCE))
        atol = tol if approx_tol is None else max(float(approx_tol), tol)
        errors: list[ElementError] = []
        worst: tuple[float, GroupElement | None, Tensor | None, int] = (-1.0, None, None, 0)
        moved = []
        for g in elements:
            gx = g._act_items(x64, kind)
            moved.append(_moved(g, x64, gx, kind))
            yg = call_model(model, cast(gx, dt, dev))
            if len(yg) != len(y0):
                raise ValueError("model output: the number of outputs changed under the group.")
            rel_g, abs_g = 0.0, 0.0
            for j, ((_, a), (_, b), rep) in enumerate(zip(y0, yg, reps, strict=False)):
                if not bool(torch.isfinite(b).all()):
                    nonfinite = True
                expected = apply_rep(rep, g, a, kind)
                if expected.shape != b.shape:
                    raise ValueError(
                        f"model output: shape {tuple(b.shape)} at g.x but rho(g) f(x) has shape "
                        f"{tuple(expected.shape)} for out_rep {rep!r}; check out_rep."
                    )
                diff = b - expected
                e_abs = float(diff.norm())
                e_rel = e_abs / max(float(a.norm()), TINY)
                if not math.isfinite(e_rel):
                    e_rel = e_abs = math.inf
                if e_rel > rel_g:
                    rel_g = e_rel
                    if e_rel > worst[0]:
                        worst = (e_rel, g, diff, j)
                abs_g = max(abs_g, e_abs)
            if nonfinite:
                rel_g = abs_g = math.inf
            errors.append(ElementError(repr(g), g.coset, rel_g, abs_g))

    max_rel = max(e.rel for e in errors)
    max_abs = max(e.abs for e in errors)
    if nonfinite or not math.isfinite(max_rel):
        verdict = "broken"
        max_rel = max_abs = math.inf
    elif max_rel <= tol:
        verdict = "exact"
    elif max_rel <= atol:
        verdict = "approximate"
    else:
        verdict = "broken"
    cosets: dict[str, float] = {}
    for e in errors:
        cosets[e.coset] = max(cosets.get(e.coset, 0.0), e.rel)

    report = SymmetryReport(
        group=G.name,
        kind=kind,
        out_rep=rep_name,
        verdict=verdict,
        max_rel_error=max_rel,
        max_abs_error=max_abs,
        tolerance=tol,
        approx_tolerance=atol,
        dtype=str(dt).replace("torch.", ""),
        errors=errors,
        cosets=cosets,
        nonfinite=nonfinite,
        noise_floor=floor,
    )
    if floor * NOISE_FACTOR > exact_tolerance(dt):
        report.warnings.append(
            f"the model amplifies round-off: relative noise floor {floor:.1e} for inputs "
            f"perturbed at the {report.dtype} epsilon; tolerance raised to {tol:.1e}"
        )
    if nonfinite:
        report.warnings.append("the model returned NaN or inf: never a pass")
    if moved and max(moved) < 1e-12:
        report.warnings.append(
            "the input is a fixed point of every tested element (e.g. a constant or symmetric "
            "input): the check is vacuous; use a generic input"
        )
    if G.name not in ("trivial",) and all(g.is_identity() for g in elements):
        report.warnings.append(
            "every tested element is the identity (e.g. all atoms of different species): "
            "the check is vacuous"
        )
    # on grids: is the break only a boundary effect (zero padding) or a real one?
    _, g_w, diff_w, j_w = worst
    if verdict != "exact" and not nonfinite and g_w is not None and diff_w is not None:
        if kind in ("image", "signal", "sequence") and ctx.grid is not None:
            if reps[j_w] == "equivariant" and _spatial_matches(diff_w, ctx.grid, kind):
                # a feature map: is the error confined to a band along the edges / seam?
                report.where, report.boundary_width = _boundary(
                    diff_w, g_w, kind, float(y0[j_w][1].norm()), tol
                )
            else:
                # pooled output: does the symmetry hold once the input's border is zero?
                with eval_mode(model):
                    report.where, report.boundary_width = _framed(
                        model, G, ctx, x64, kind, dt, reps, 10 * tol, dev
                    )
            # a break confined to the boundary is approximate, one inside is broken whatever
            # its size (unless below an approx_tol the caller set)
            boundary = report.where == "boundary"
            report.verdict = "approximate" if boundary or max_rel <= atol else "broken"
        if localize and isinstance(model, nn.Module):
            from geodl.symmetry._localize import localize as _localize

            try:
                with eval_mode(model):
                    report.culprit, report.trace = _localize(
                        model, g_w, x64, kind, dt, tol, module_reps
                    )
            except Exception as exc:  # localisation is best effort, never fatal
                report.warnings.append(f"localisation failed: {type(exc).__name__}: {exc}")
    return report


#: The exact tolerance is at least this many times the model's own noise floor ...
NOISE_FACTOR = 100.0
#: ... but a calibrated tolerance never exceeds this (such a model's outputs are noise).
MAX_CALIBRATED_TOLERANCE = 1e-2


def _noise_floor(
    model: Callable[..., Any],
    x64: tuple[Tensor, ...],
    y0: list[tuple[str, Tensor]],
    dt: torch.dtype,
    dev: torch.device,
    seed: int,
) -> float:
    """Relative change of the output when the floating inputs are perturbed by about one
    rounding unit of ``dt`` (what casting ``g . x`` to ``dt`` does; worst of three
    perturbations): the model's own round-off level, below which no symmetry error is
    meaningful."""
    gen = torch.Generator().manual_seed(seed + 7919)
    eps = 2.0 * float(torch.finfo(dt).eps)  # most entries move by at least one ulp
    floor = 0.0
    for _ in range(3):
        pert = tuple(
            t * (1 + eps * torch.randn(t.shape, generator=gen, dtype=torch.float64))
            if t.is_floating_point()
            else t
            for t in x64
        )
        yp = call_model(model, cast(pert, dt, dev))
        for (_, a), (_, b) in zip(y0, yp, strict=False):
            if a.shape != b.shape or not bool(torch.isfinite(b).all()):
                return 0.0
            floor = max(floor, float((b - a).norm()) / max(float(a.norm()), TINY))
    return floor


def _spatial_matches(y: Tensor, grid: tuple[int, ...], kind: str) -> bool:
    if kind == "sequence":
        return y.ndim >= 2 and y.shape[-2] == grid[0]
    return y.ndim >= len(grid) and tuple(y.shape[-len(grid) :]) == tuple(grid)


def check_invariance(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    *,
    kind: str | None = None,
    samples: int = 8,
    tol: float | None = None,
    **kwargs: Any,
) -> SymmetryReport:
    r"""Check :math:`f(g \cdot x) = f(x)`: :func:`check_equivariance` with ``out_rep="invariant"``.

    Examples
    --------
    >>> energy = lambda x: torch.cdist(x, x).sum()
    >>> check_invariance(energy, "E3 x permutation", torch.randn(6, 3)).verdict
    'exact'
    """
    return check_equivariance(
        model, group, inputs, kind=kind, out_rep="invariant", samples=samples, tol=tol, **kwargs
    )


def _fail_message(report: SymmetryReport, want: str) -> str:
    return (
        f"{report.group} {want} does not hold: verdict {report.verdict!r}, max relative error "
        f"{report.max_rel_error:.3e} > tolerance {report.tolerance:.1e} ({report.dtype}).\n"
        + str(report)
    )


def assert_equivariant(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    out_rep: OutRep = "equivariant",
    *,
    allow_approximate: bool = False,
    **kwargs: Any,
) -> SymmetryReport:
    """Raise :class:`SymmetryError` (an AssertionError) unless the equivariance is exact
    (or approximate with ``allow_approximate=True``); returns the report otherwise.

    Examples
    --------
    >>> assert_equivariant(lambda x: 2 * x, "SO3", torch.randn(4, 3), "equivariant").verdict
    'exact'
    """
    __tracebackhide__ = True  # pytest: show the caller, not this frame
    report = check_equivariance(model, group, inputs, out_rep=out_rep, **kwargs)
    ok = report.verdict == "exact" or (allow_approximate and report.verdict == "approximate")
    if not ok:
        raise SymmetryError(_fail_message(report, f"equivariance ({report.out_rep})"), report)
    return report


def assert_invariant(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    *,
    allow_approximate: bool = False,
    **kwargs: Any,
) -> SymmetryReport:
    """Raise :class:`SymmetryError` unless ``model`` is invariant (exactly, or approximately
    with ``allow_approximate=True``); returns the report otherwise.

    Examples
    --------
    >>> assert_invariant(lambda x: x.norm(dim=1), "O3", torch.randn(4, 3)).verdict
    'exact'
    """
    __tracebackhide__ = True  # pytest: show the caller, not this frame
    report = check_equivariance(model, group, inputs, out_rep="invariant", **kwargs)
    ok = report.verdict == "exact" or (allow_approximate and report.verdict == "approximate")
    if not ok:
        raise SymmetryError(_fail_message(report, "invariance"), report)
    return report


class _Forces:
    """``-dE/dpositions`` of an energy model, as a model of its own."""

    def __init__(self, energy: Callable[..., Any], index: int) -> None:
        self.energy = energy
        self.index = index

    def __call__(self, *items: Tensor) -> Tensor:
        with torch.enable_grad():
            pos = items[self.index].detach().requires_grad_(True)
            args = list(items)
            args[self.index] = pos
            e = self.energy(*args)
            if isinstance(e, Mapping):
                e = e.get("energy")
            if not isinstance(e, Tensor) or e.numel() != 1:
                raise ValueError(
                    "check_forces: the model must return one scalar energy (a Tensor with one "
                    f"element), got {type(e).__name__}"
                    + (f" of shape {tuple(e.shape)}" if isinstance(e, Tensor) else "")
                    + ". Wrap it, e.g. lambda *x: model(*x).sum()."
                )
            (grad,) = torch.autograd.grad(e.sum(), pos)
        return -grad


def check_forces(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    *,
    kind: str | None = None,
    **kwargs: Any,
) -> SymmetryReport:
    r"""Check that the forces :math:`F = -\nabla_x E` of an energy model are equivariant.

    If :math:`E(g \cdot x) = E(x)` then :math:`F(g \cdot x) = \rho(g) F(x)` with rows
    permuted and rotated (``"per-point:vector"``; translations leave forces unchanged).
    The gradient is taken by autograd in the model's dtype.

    Parameters
    ----------
    model : callable
        ``E(species, positions[, cell])`` (atoms) or ``E(positions)`` (points) returning a
        scalar (or a dict with key ``"energy"``).
    group, inputs, kind, **kwargs
        As in :func:`check_equivariance`.

    Examples
    --------
    >>> energy = lambda x: (torch.cdist(x, x) ** 2).sum()
    >>> check_forces(energy, "E3", torch.randn(5, 3, dtype=torch.float64)).verdict
    'exact'
    """
    G = get_group(group)
    kind = kind or infer_kind(G, inputs)
    if kind not in ("atoms", "points"):
        raise ValueError(f"check_forces: expected 'atoms' or 'points' inputs, got kind {kind!r}.")
    dt = kwargs.pop("dtype", None) or model_dtype(model, inputs)
    kwargs.setdefault("device", model_device(model, inputs))
    forces = _Forces(model, 1 if kind == "atoms" else 0)
    kwargs.pop("out_rep", None)
    kwargs.setdefault("localize", False)
    with eval_mode(model):
        return check_equivariance(
            forces, G, inputs, kind=kind, out_rep="per-point:vector", dtype=dt, **kwargs
        )


def verify_declarations(
    model: Any,
    inputs: Any,
    *,
    samples: int = 8,
    seed: int = 0,
    **kwargs: Any,
) -> list[SymmetryReport]:
    """Check every :class:`Declaration` of ``model.declared_symmetries()``.

    Parameters
    ----------
    model : nn.Module
        Has ``declared_symmetries() -> list[Declaration]``.
    inputs : input, or dict mapping input kind -> input
        One input per declared input kind (a single input is used for all).

    Returns
    -------
    list of SymmetryReport
        With ``.declared`` set; ``.matches_declaration`` says whether the measurement
        agrees with the claim.
    """
    declared = getattr(model, "declared_symmetries", None)
    if declared is None:
        raise TypeError(
            f"verify_declarations: {type(model).__name__} has no declared_symmetries(); "
            "implement it returning a list of geodl.symmetry.Declaration."
        )
    reports = []
    for d in declared():
        x = inputs[d.input] if isinstance(inputs, Mapping) else inputs
        r = check_equivariance(
            model, d.group, x, kind=d.input, out_rep=d.output, samples=samples, seed=seed, **kwargs
        )
        r.declared = d.verdict
        r.note = d.note
        reports.append(r)
    return reports


def assert_declarations(model: Any, inputs: Any, **kwargs: Any) -> list[SymmetryReport]:
    """:func:`verify_declarations`, raising :class:`SymmetryError` on the first mismatch."""
    __tracebackhide__ = True  # pytest: show the caller, not this frame
    reports = verify_declarations(model, inputs, **kwargs)
    for r in reports:
        if not r.matches_declaration:
            raise SymmetryError(
                f"{type(model).__name__} declares {r.group} on {r.kind} -> {r.out_rep} as "
                f"{r.declared!r}, measured {r.verdict!r}.\n{r}",
                r,
            )
    return reports
