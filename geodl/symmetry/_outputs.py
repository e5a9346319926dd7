"""Calling the model under test: eval mode, outputs as labelled float64 tensors, and the
representation each output is compared with."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._reps import validate_rep

#: ``out_rep`` of a check: one representation, or one per named / positional output.
OutRep = str | Mapping[str, str] | Sequence[str]
#: A model's outputs as ``(label, float64 CPU tensor)`` pairs (label ``""`` for a tensor).
Outputs = list[tuple[str, Tensor]]


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


def flatten_outputs(out: Any) -> Outputs:
    """A model's output (Tensor, number, tuple / list / dict of Tensors) as labelled tensors."""
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


def call_model(model: Callable[..., Any], items: tuple[Tensor, ...]) -> Outputs:
    """Call ``model(*items)`` and return its outputs as ``(label, float64 tensor)`` pairs."""
    out = model(*items)
    return [(k, v.detach().to("cpu", torch.float64)) for k, v in flatten_outputs(out)]


def reps_for(out_rep: OutRep, labels: list[str]) -> list[str]:
    """One validated representation per output label (a ValueError names what is missing)."""
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
