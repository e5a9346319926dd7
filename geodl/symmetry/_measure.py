r"""One measurement of a check: the model on ``x`` and on ``g . x`` for each tested ``g``.

For each element :math:`g` and output :math:`j` it records the error

.. math::

    \epsilon_j(g) = \lVert f_j(g \cdot x) - \rho_j(g)\, f_j(x) \rVert

with the group acting in float64 on the input, which is then cast to the model's dtype,
and what the tolerance needs: the size of the input-dependent part of each output,

.. math::

    S_j = \max_k \lVert f_j(x) - f_j(x + \delta_k) \rVert, \qquad
    \delta_k = \tfrac14\, \sigma_x\, \xi_k,\ \xi_k \sim N(0, 1)

(a constant offset of the output cancels), its response to a one-ulp change of the
input, and whether two calls on the same input agree (else every output is the mean of
:data:`REPEATS` calls and its spread is recorded).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._context import (
    ActionContext,
    compatible_kinds,
    infer_kind,
    make_context,
    model_args,
    to_float64,
)
from geodl.symmetry._element import GroupElement
from geodl.symmetry._groups import Group, get_group
from geodl.symmetry._outputs import Caller, OutputError, Outputs, OutRep, reps_for
from geodl.symmetry._reps import apply_rep
from geodl.symmetry._tolerance import REPEATS, TINY, model_device, model_dtype, ulp_response
from geodl.symmetry._wigner import looks_like_irreps

#: Reference inputs move every coordinate / feature by this many standard deviations.
REF_STEP = 0.25


def resolve(
    group: str | Group, inputs: Any, kind: str | None, in_rep: str | None = None
) -> tuple[Group, str, ActionContext]:
    """The group, the input kind (inferred when ``None``) and the input's context;
    ``in_rep`` is an input kind (an alias of ``kind``) or an e3nn irreps string."""
    if in_rep is not None and not looks_like_irreps(in_rep):
        if kind is not None and kind != in_rep:
            raise ValueError(f"kind={kind!r} and in_rep={in_rep!r} disagree; pass only one.")
        kind, in_rep = in_rep, None
    G = get_group(group)
    if kind is None and in_rep is not None:
        kind = "graph" if "graph" in compatible_kinds(inputs) else "irreps"
    if kind is None:
        kind = infer_kind(G, inputs)
    ctx = make_context(kind, inputs, in_rep)
    G.check_acts_on(kind, ctx)
    return G, kind, ctx


def equivariant_rep(rep: str, ctx: ActionContext, y: Tensor) -> str:
    """What ``"equivariant"`` means for graphs and irreps features: node / row outputs
    transforming like the input features."""
    if rep != "equivariant" or ctx.kind not in ("graph", "irreps"):
        return rep
    inner = ctx.in_irreps or ""
    if ctx.kind == "irreps" and y.ndim < 2:
        return inner or "invariant"
    return f"per-point:{inner}" if inner else "per-point"


@dataclass
class CheckSetup:
    """Everything a check needs before calling the model: group, kind, the float64
    input, the model's dtype and device, and the elements to test."""

    model: Callable[..., Any]
    group: Group
    kind: str
    ctx: ActionContext
    x64: tuple[Tensor, ...]
    dtype: torch.dtype
    device: torch.device
    elements: list[GroupElement]
    seed: int
    caller: Caller

    @classmethod
    def build(
        cls,
        model: Callable[..., Any],
        group: str | Group,
        inputs: Any,
        *,
        kind: str | None,
        in_rep: str | None = None,
        samples: int,
        dtype: torch.dtype | None,
        device: torch.device | str | None,
        generator: torch.Generator | None,
        seed: int,
    ) -> CheckSetup:
        """Resolve the group and kind, detect dtype / device and draw the elements."""
        if samples < 0:
            raise ValueError(f"samples: expected an integer >= 0, got {samples}.")
        G, kind, ctx = resolve(group, inputs, kind, in_rep)
        gen = generator if generator is not None else torch.Generator().manual_seed(seed)
        elements = G.test_elements(samples, gen, ctx=ctx) if samples or G.finite else []
        dev = torch.device(device) if device is not None else model_device(model, inputs)
        dt = dtype or model_dtype(model, inputs)
        caller = Caller(model, dt, dev, pack=functools.partial(model_args, inputs))
        x64 = to_float64(inputs)
        if G.interpolated and kind == "image":
            x64 = (x64[0] * disc_window(x64[0].shape[-2], x64[0].shape[-1]),)
        return cls(model, G, kind, ctx, x64, dt, dev, elements, seed, caller)

    def call(self, items: tuple[Tensor, ...]) -> Outputs:
        """The model on a float64 input, cast to its dtype and device."""
        return self.caller(items)

    def perturbable(self) -> list[int]:
        """Indices of the input items a reference input perturbs (coordinates, features)."""
        if self.kind == "atoms":
            return [1]
        if self.kind == "graph":
            return [i for i in (0, 2, 3) if self.x64[i].numel()]
        return [i for i, t in enumerate(self.x64) if t.is_floating_point() and t.numel()]


def disc_window(h: int, w: int) -> Tensor:
    """1 inside the disc inscribed in an ``h x w`` grid, tapering to 0 at its edge (cosine
    over the outer 20 % of the radius): rotations by any angle keep its content inside."""
    r0 = 0.5 * min(h, w) - 0.5
    yy = torch.arange(h, dtype=torch.float64)[:, None] - (h - 1) / 2
    xx = torch.arange(w, dtype=torch.float64)[None, :] - (w - 1) / 2
    r = (yy**2 + xx**2).sqrt() / max(r0, 1.0)
    t = ((r - 0.8) / 0.2).clamp(0, 1)
    return 0.5 * (1 + torch.cos(math.pi * t)) * (r <= 1)


@dataclass
class OutputMeasure:
    """The numbers of one output."""

    label: str
    rep: str
    y0: Tensor
    scale: float = 0.0
    ulp: float = 0.0
    noise_sd: float = 0.0
    interp: float = 0.0
    abs_errors: list[float] = field(default_factory=list)
    nonfinite: bool = False
    #: the element with the largest error and its error tensor
    worst: tuple[GroupElement | None, Tensor | None] = (None, None)


@dataclass
class Measurement:
    """The raw numbers of a check (before any verdict)."""

    outputs: list[OutputMeasure]
    deterministic: bool
    repeats: int
    moved: list[float] = field(default_factory=list)

    @property
    def y0(self) -> Outputs:
        """The outputs at ``x`` (means of the repeats for a non-deterministic model)."""
        return [(o.label, o.y0) for o in self.outputs]

    @property
    def reps(self) -> list[str]:
        """The representation of each output."""
        return [o.rep for o in self.outputs]

    @property
    def nonfinite(self) -> bool:
        """Whether any output was NaN or inf."""
        return any(o.nonfinite for o in self.outputs)


def moved_by(g: GroupElement, x64: tuple[Tensor, ...], gx: tuple[Tensor, ...], kind: str) -> float:
    """Relative size of the change of the input under ``g`` (0: a fixed point)."""
    num, den = 0.0, 0.0
    for a, b in zip(x64, gx, strict=False):
        if a.shape != b.shape:
            return 1.0
        if a.is_floating_point():
            num += float((a - b).norm()) ** 2
            den += float(a.norm()) ** 2
        elif not torch.equal(a, b) and kind != "atoms":
            return 1.0
    return (num**0.5) / max(den**0.5, TINY)


def _finite(t: Tensor) -> bool:
    return bool(torch.isfinite(t).all())


def _repeat_calls(setup: CheckSetup) -> tuple[Outputs, list[float], bool]:
    """The outputs at ``x``; per output the spread of one call; whether deterministic.

    Two calls that differ make the model non-deterministic: then :data:`REPEATS` calls
    are averaged, here and for every later call of the check."""
    first, second = setup.caller.once(setup.x64), setup.caller.once(setup.x64)
    same = all(
        torch.equal(torch.nan_to_num(a), torch.nan_to_num(b))
        for (_, a), (_, b) in zip(first, second, strict=False)
    )
    if same:
        return first, [0.0] * len(first), True
    calls = [first, second] + [setup.caller.once(setup.x64) for _ in range(REPEATS - 2)]
    stacks = [torch.stack([c[j][1] for c in calls]) for j in range(len(first))]
    setup.caller.repeats = REPEATS
    means = [(k, s.mean(0)) for (k, _), s in zip(first, stacks, strict=False)]
    return means, [float(s.std(0).norm()) for s in stacks], False


def _scales(setup: CheckSetup, y0: Outputs) -> list[float]:
    """:math:`S_j`: change of each output between ``x`` and two reference inputs."""
    gen = torch.Generator().manual_seed(setup.seed + 104729)
    idx = setup.perturbable()
    best = [0.0] * len(y0)
    finite_any = False
    for _ in range(2):
        ref = list(setup.x64)
        for i in idx:
            t = ref[i]
            sd = float(t.std()) if t.numel() > 1 else float(t.abs().mean())
            noise = torch.randn(t.shape, generator=gen, dtype=torch.float64)
            ref[i] = t + REF_STEP * (sd or 1.0) * noise
        yr = setup.call(tuple(ref))
        if len(yr) != len(y0) or not all(_finite(v) for _, v in yr):
            continue
        finite_any = True
        for j, ((_, a), (_, b)) in enumerate(zip(y0, yr, strict=False)):
            if a.shape == b.shape:
                best[j] = max(best[j], float((a - b).norm()))
    if not finite_any:  # the references are singular: fall back to the output's size
        return [float(v.norm()) for _, v in y0]
    return best


def _record(setup: CheckSetup, g: GroupElement, outs: list[OutputMeasure], yg: Outputs) -> None:
    """Add the error of ``g`` to each output's record."""
    if len(yg) != len(outs):
        raise OutputError("model output: the number of outputs changed under the group.")
    for o, (_, b) in zip(outs, yg, strict=False):
        o.nonfinite |= not _finite(b)
        expected = apply_rep(o.rep, g, o.y0, setup.kind)
        if expected.shape != b.shape:
            raise OutputError(
                f"model output: shape {tuple(b.shape)} at g.x but rho(g) f(x) has shape "
                f"{tuple(expected.shape)} for out_rep {o.rep!r}; check out_rep."
            )
        diff = b - expected
        err = float(diff.norm())
        err = err if math.isfinite(err) else math.inf
        if not o.abs_errors or err > max(o.abs_errors):
            o.worst = (g, diff)
        o.abs_errors.append(err)


def _interpolation_errors(setup: CheckSetup, outs: list[OutputMeasure]) -> None:
    """For actions that interpolate: half the change of each output when the input goes
    there and back, :math:`\tfrac12 \\max_g \\lVert f(g^{-1} g x) - f(x) \rVert` — what
    one interpolation does to the output of a model equivariant in the continuum."""
    for g in setup.elements:
        if not g.interpolated:
            continue
        back = (~g).act_items(g.act_items(setup.x64, setup.kind), setup.kind)
        for o, (_, y) in zip(outs, setup.call(back), strict=False):
            if y.shape == o.y0.shape:
                o.interp = max(o.interp, 0.5 * float((y - o.y0).norm()))


def measure(setup: CheckSetup, out_rep: OutRep) -> Measurement:
    """Call the model on ``x``, references and every ``g . x``; record the numbers."""
    y0, noise, deterministic = _repeat_calls(setup)
    reps = [
        equivariant_rep(r, setup.ctx, v)
        for r, (_, v) in zip(reps_for(out_rep, [k for k, _ in y0]), y0, strict=False)
    ]
    outs = [
        OutputMeasure(k, r, v, noise_sd=sd, nonfinite=not _finite(v))
        for (k, v), r, sd in zip(y0, reps, noise, strict=False)
    ]
    m = Measurement(outs, deterministic, setup.caller.repeats)
    if not m.nonfinite:
        for o, s in zip(outs, _scales(setup, y0), strict=False):
            o.scale = s
        if deterministic:
            ulps = ulp_response(setup.call, setup.x64, y0, setup.dtype, setup.seed)
            for o, u in zip(outs, ulps, strict=False):
                o.ulp = u
    if setup.group.interpolated and not m.nonfinite:
        _interpolation_errors(setup, outs)
    for g in setup.elements:
        gx = g.act_items(setup.x64, setup.kind, setup.ctx.in_irreps)
        m.moved.append(moved_by(g, setup.x64, gx, setup.kind))
        _record(setup, g, outs, setup.call(gx))
    return m
