"""Tolerances of the checks, keyed on the dtype the model actually computes in."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._context import as_tuple

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
        for t in model.parameters():
            return t.device
        for t in model.buffers():
            return t.device
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
        for t in model.parameters():
            if t.is_floating_point():
                return t.dtype
        for t in model.buffers():
            if t.is_floating_point():
                return t.dtype
    if inputs is not None:
        for x in as_tuple(inputs):
            if isinstance(x, Tensor) and x.is_floating_point():
                return x.dtype
    return torch.get_default_dtype()
