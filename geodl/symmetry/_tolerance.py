"""Tolerances of the checks, keyed on the dtype the model actually computes in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._context import to_items
from geodl.symmetry._outputs import Outputs

#: Largest relative error still called ``"exact"`` (round-off), per model dtype.
#: float64 round-off in a deep model is ~1e-14, so a 1e-4 (or even 1e-8) relative break
#: is found; float32 round-off is ~1e-7..1e-6, far below 1e-4, so it is never a break.
EXACT_TOLERANCE: dict[torch.dtype, float] = {
    torch.float64: 1e-10,
    torch.float32: 1e-4,
    torch.float16: 1e-2,
    torch.bfloat16: 5e-2,
}

#: Denominator floor of the relative error ``||f(gx) - rho(g) f(x)|| / max(||f(x)||, TINY)``.
TINY: float = 1e-30


def exact_tolerance(dtype: torch.dtype) -> float:
    """Round-off tolerance for a model computing in ``dtype`` (see :data:`EXACT_TOLERANCE`)."""
    if dtype in EXACT_TOLERANCE:
        return EXACT_TOLERANCE[dtype]
    if dtype.is_floating_point:
        return float(torch.finfo(dtype).eps) ** 0.5
    return EXACT_TOLERANCE[torch.float64]


def model_device(model: Any, inputs: Any = None) -> torch.device:
    """The device a model runs on: that of its first parameter (or buffer), else of the
    first input tensor, else the CPU. Inputs are moved there after the group acted."""
    if isinstance(model, nn.Module):
        for p in model.parameters():
            return p.device
        for b in model.buffers():
            return b.device
    if inputs is not None:
        for x in to_items(inputs):
            if isinstance(x, Tensor):
                return x.device
    return torch.device("cpu")


def model_dtype(model: Any, inputs: Any = None) -> torch.dtype:
    """The floating dtype a model computes in.

    The dtype of the model's first floating parameter (or buffer) if it is an
    ``nn.Module`` that has one, else that of the first floating input tensor, else
    ``torch.get_default_dtype()``.

    Examples
    --------
    >>> model_dtype(torch.nn.Linear(2, 2).double())
    torch.float64
    """
    if isinstance(model, nn.Module):
        for p in model.parameters():
            if p.is_floating_point():
                return p.dtype
        for b in model.buffers():
            if b.is_floating_point():
                return b.dtype
    if inputs is not None:
        for x in to_items(inputs):
            if isinstance(x, Tensor) and x.is_floating_point():
                return x.dtype
    return torch.get_default_dtype()


#: Round-off allowance: this many times the output's response to a one-ulp input change ...
ROUNDOFF_FACTOR = 10.0
#: ... plus this many rounding units of the output's own size.
OUTPUT_ULPS = 8.0
#: Noise allowance of non-deterministic models: this many standard errors ...
NOISE_Z = 4.0
#: ... of the mean of this many repeated calls.
REPEATS = 16


def allowance(
    tau: float,
    scale: float,
    ulp_response: float,
    magnitude: float,
    dtype: torch.dtype,
    noise_sd: float = 0.0,
    repeats: int = 1,
) -> float:
    r"""The largest symmetry error of one output still explained by round-off (and noise).

        .. math::

            A = 	au\, S + 10\, U + 8\, arepsilon\, \lVert f(x)
    Vert
                + 4\, \sigma \sqrt{2 / m}

        :math:`S` is the size of the input-dependent part of the output, :math:`	au` the
        relative tolerance of the dtype (:data:`EXACT_TOLERANCE`), :math:`U` the change of
        the output when the input moves by one rounding unit (an absolute floor derived from
        the dtype and the input scale: what round-off alone does), :math:`arepsilon` the
        dtype's epsilon (the rounding of the output value itself: a constant offset enters
        only here), and, for non-deterministic models, :math:`\sigma` the spread of one call
        and :math:`m` the number of calls averaged.

        Examples
        --------
        >>> allowance(1e-10, 1.0, 0.0, 5000.0, torch.float64) < 1e-9
        True
    """
    eps = float(torch.finfo(dtype).eps) if dtype.is_floating_point else 2.0**-52
    noise = NOISE_Z * noise_sd * (2.0 / max(repeats, 1)) ** 0.5
    return tau * scale + ROUNDOFF_FACTOR * ulp_response + OUTPUT_ULPS * eps * magnitude + noise


def ulp_response(
    call: Callable[[tuple[Tensor, ...]], Outputs],
    x64: tuple[Tensor, ...],
    y0: Outputs,
    dt: torch.dtype,
    seed: int,
) -> list[float]:
    """Per output, the largest change when the floating inputs are perturbed by about one
    rounding unit of ``dt`` (what casting ``g . x`` to ``dt`` does; worst of three
    perturbations): the model's own round-off level, below which no symmetry error is
    meaningful. Zeros when a perturbed output is not finite."""
    gen = torch.Generator().manual_seed(seed + 7919)
    eps = 2.0 * float(torch.finfo(dt).eps)  # most entries move by at least one ulp
    worst = [0.0] * len(y0)
    for _ in range(3):
        pert = tuple(
            t * (1 + eps * torch.randn(t.shape, generator=gen, dtype=torch.float64))
            if t.is_floating_point()
            else t
            for t in x64
        )
        yp = call(pert)
        for j, ((_, a), (_, b)) in enumerate(zip(y0, yp, strict=False)):
            if a.shape != b.shape or not bool(torch.isfinite(b).all()):
                return [0.0] * len(y0)
            worst[j] = max(worst[j], float((b - a).norm()))
    return worst
