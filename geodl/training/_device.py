"""The device a run trains on, checked before anything is allocated there."""

from __future__ import annotations

import os

import torch

from geodl.errors import InputError

__all__ = ["resolve_device"]


def resolve_device(name: str) -> torch.device:
    """``training.device``: ``"auto"`` (CUDA when available, the local rank's GPU), ``"cpu"``,
    ``"cuda"``, ``"cuda:N"`` or ``"mps"``; refused when not available here.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if name == "auto":
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", 0))
            return torch.device(f"cuda:{local % torch.cuda.device_count()}")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise InputError(
            f"training.device = {name!r} is not a device ({exc}); use auto, cpu, cuda, "
            "cuda:N or mps."
        ) from None
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available()
        and (device.index is None or device.index < torch.cuda.device_count()),
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
    }
    if not available.get(device.type, False):
        raise InputError(
            f"training.device = {name!r} is not available on this machine; use "
            "training.device=auto (CUDA when present, else the CPU) or cpu."
        )
    return device
