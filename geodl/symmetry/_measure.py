r"""One measurement of a check: the model on ``x`` and on ``g . x`` for each tested ``g``.

For each element :math:`g` and output :math:`j` it records

.. math::

    \epsilon^{\mathrm{abs}}_j(g) = \lVert f_j(g \cdot x) - \rho_j(g)\, f_j(x) \rVert, \qquad
    \epsilon^{\mathrm{rel}}_j(g) = \epsilon^{\mathrm{abs}}_j(g) / \max(\lVert f_j(x)\rVert,
    \mathrm{tiny})

with the group acting in float64 on the input, which is then cast to the model's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._context import ActionContext, cast, infer_kind, make_context, to_float64
from geodl.symmetry._element import GroupElement
from geodl.symmetry._groups import Group, get_group
from geodl.symmetry._outputs import Outputs, OutRep, call_model, reps_for
from geodl.symmetry._report import ElementError
from geodl.symmetry._reps import apply_rep
from geodl.symmetry._tolerance import TINY, model_device, model_dtype, noise_floor


def resolve(group: str | Group, inputs: Any, kind: str | None) -> tuple[Group, str, ActionContext]:
    """The group, the input kind (inferred when ``None``) and the input's context."""
    G = get_group(group)
    if kind is None:
        kind = infer_kind(G, inputs)
    ctx = make_context(kind, inputs)
    G.check_acts_on(kind, ctx)
    return G, kind, ctx


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
        if in_rep is not None:
            if kind is not None and kind != in_rep:
                raise ValueError(f"kind={kind!r} and in_rep={in_rep!r} disagree; pass only one.")
            kind = in_rep
        G, kind, ctx = resolve(group, inputs, kind)
        gen = generator if generator is not None else torch.Generator().manual_seed(seed)
        elements = G.test_elements(samples, gen, ctx=ctx) or [G.identity(ctx=ctx)]
        dev = torch.device(device) if device is not None else model_device(model, inputs)
        dt = dtype or model_dtype(model, inputs)
        return cls(model, G, kind, ctx, to_float64(inputs), dt, dev, elements, seed)

    def call(self, items: tuple[Tensor, ...]) -> Outputs:
        """The model on a float64 input, cast to its dtype and device."""
        return call_model(self.model, cast(items, self.dtype, self.device))


@dataclass
class Measurement:
    """The raw numbers of a check (before any verdict)."""

    y0: Outputs
    reps: list[str]
    errors: list[ElementError]
    floor: float
    nonfinite: bool
    moved: list[float] = field(default_factory=list)
    #: the worst element, its error tensor and the index of the output it was worst on
    worst: tuple[GroupElement | None, Tensor | None, int] = (None, None, 0)


def moved_by(g: GroupElement, x64: tuple[Tensor, ...], gx: tuple[Tensor, ...], kind: str) -> float:
    """Relative size of the change of the input under ``g`` (0: a fixed point)."""
    i = 1 if kind == "atoms" else 0
    a, b = x64[i], gx[i]
    if a.shape != b.shape:
        return 1.0
    return float((a - b).norm() / max(float(a.norm()), TINY))


def _output_errors(
    setup: CheckSetup, g: GroupElement, y0: Outputs, yg: Outputs, reps: list[str]
) -> tuple[list[tuple[float, float, Tensor]], bool]:
    """``(relative error, absolute error, error tensor)`` of ``g`` per output, and whether
    an output at ``g . x`` was not finite."""
    if len(yg) != len(y0):
        raise ValueError("model output: the number of outputs changed under the group.")
    out, nonfinite = [], False
    for (_, a), (_, b), rep in zip(y0, yg, reps, strict=False):
        nonfinite |= not bool(torch.isfinite(b).all())
        expected = apply_rep(rep, g, a, setup.kind)
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
        out.append((e_rel, e_abs, diff))
    return out, nonfinite


def measure(setup: CheckSetup, out_rep: OutRep) -> Measurement:
    """Call the model on ``x`` and every ``g . x``; record the errors of every element."""
    y0 = setup.call(setup.x64)
    reps = reps_for(out_rep, [k for k, _ in y0])
    nonfinite = not all(bool(torch.isfinite(v).all()) for _, v in y0)
    floor = 0.0
    if not nonfinite:
        floor = noise_floor(setup.model, setup.x64, y0, setup.dtype, setup.device, setup.seed)
    m = Measurement(y0, reps, [], floor, nonfinite)
    worst_rel = -1.0
    for g in setup.elements:
        gx = g.act_items(setup.x64, setup.kind)
        m.moved.append(moved_by(g, setup.x64, gx, setup.kind))
        per_output, bad = _output_errors(setup, g, y0, setup.call(gx), reps)
        m.nonfinite |= bad
        rel_g, abs_g = 0.0, 0.0
        for j, (e_rel, e_abs, diff) in enumerate(per_output):
            if e_rel > rel_g:
                rel_g = e_rel
                if e_rel > worst_rel:
                    worst_rel, m.worst = e_rel, (g, diff, j)
            abs_g = max(abs_g, e_abs)
        if m.nonfinite:
            rel_g = abs_g = math.inf
        m.errors.append(ElementError(repr(g), g.coset, rel_g, abs_g))
    return m
