"""Tolerances of the checks, keyed on the dtype the model actually computes in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._context import as_tuple, cast
from geodl.symmetry._outputs import Outputs, call_model

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
        for x in as_tuple(inputs):
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
        for x in as_tuple(inputs):
            if isinstance(x, Tensor) and x.is_floating_point():
                return x.dtype
    return torch.get_default_dtype()


#: The exact tolerance is at least this many times the model's own noise floor ...
NOISE_FACTOR = 100.0
#: ... but a calibrated tolerance never exceeds this (such a model's outputs are noise).
MAX_CALIBRATED_TOLERANCE = 1e-2


def calibrated_tolerance(dtype: torch.dtype, floor: float) -> float:
    r"""The round-off tolerance of a model computing in ``dtype`` whose relative noise
    floor is ``floor``:

    .. math::

        \tau = \max\bigl(\tau_{\mathrm{dtype}},\ \min(100\, \phi,\ 10^{-2})\bigr)

    with :math:`\tau_{\mathrm{dtype}}` from :data:`EXACT_TOLERANCE` and :math:`\phi` the
    relative change of the output when the input moves by one rounding unit.

    Examples
    --------
    >>> calibrated_tolerance(torch.float64, 1e-15)
    1e-10
    >>> calibrated_tolerance(torch.float32, 1e-5)
    0.001
    """
    tol = exact_tolerance(dtype)
    if NOISE_FACTOR * floor > tol:
        tol = max(tol, min(NOISE_FACTOR * floor, MAX_CALIBRATED_TOLERANCE))
    return tol


def noise_floor(
    model: Callable[..., Any],
    x64: tuple[Tensor, ...],
    y0: Outputs,
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
