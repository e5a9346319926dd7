"""Small input checks shared by the classic models (private)."""

from __future__ import annotations

import torch


def as_batch(owner: str, x: object, unbatched_ndim: int, what: str) -> tuple[torch.Tensor, bool]:
    """Return ``(x_batched, was_unbatched)`` after checking ``x`` has ``unbatched_ndim`` or
    ``unbatched_ndim + 1`` dimensions.

    ``what`` describes the expected layout, e.g. ``"(C, L)"``, for the error message.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{owner}: expected the input to be a torch.Tensor, got {type(x).__name__}."
        )
    if x.dim() == unbatched_ndim:
        return x.unsqueeze(0), True
    if x.dim() == unbatched_ndim + 1:
        return x, False
    raise ValueError(
        f"{owner}: expected an input of shape {what} or (B, {what[1:]}, got shape "
        f"{tuple(x.shape)}. Add or remove a batch dimension."
    )


def check_positive_int(owner: str, name: str, value: object) -> int:
    """Raise unless ``value`` is a positive ``int``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: '{name}' must be a positive integer, got {value!r}.")
    return value
