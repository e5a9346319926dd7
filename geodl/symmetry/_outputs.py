"""Calling the model under test: eval mode, outputs as labelled float64 tensors, and the
representation each output is compared with."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from geodl.symmetry._context import cast
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
    raise OutputError(
        f"model output: expected a Tensor (or a tuple / dict of Tensors), got "
        f"{type(out).__name__}. Wrap the model so that it returns tensors."
    )


def call_model(model: Callable[..., Any], items: tuple[Any, ...]) -> Outputs:
    """Call ``model(*items)`` and return its outputs as ``(label, float64 tensor)`` pairs."""
    out = model(*items)
    return [(k, v.detach().to("cpu", torch.float64)) for k, v in flatten_outputs(out)]


class ModelError(RuntimeError):
    """The model under test raised while being checked (the original exception is the
    ``__cause__``). The CLI exits with code 3 on it, not 1 (a broken symmetry)."""


class OutputError(ValueError):
    """The model's output cannot be used by the check (wrong type, shape or count)."""


class BatchAxis(nn.Module):
    """A model that takes batched inputs, as a model of one unbatched input: each input
    tensor gets a batch axis of size one at ``axis`` and each output loses it.

    Examples
    --------
    >>> f = BatchAxis(torch.nn.Linear(3, 2), axis=0)
    >>> f(torch.ones(3)).shape
    torch.Size([2])
    """

    def __init__(self, model: Callable[..., Any], axis: int = 0) -> None:
        super().__init__()
        if isinstance(model, nn.Module):
            self.model = model
        else:
            self.fn = model
        self.axis = int(axis)

    def forward(self, *items: Any) -> Any:
        f = self.model if hasattr(self, "model") else self.fn
        args = [t.unsqueeze(self.axis) if isinstance(t, Tensor) else t for t in items]
        out = f(*args)
        if isinstance(out, Tensor):
            return self._squeeze(out)
        if isinstance(out, Mapping):
            return {k: self._squeeze(v) for k, v in out.items()}
        if isinstance(out, (tuple, list)):
            return type(out)(self._squeeze(v) for v in out)
        return out

    def _squeeze(self, v: Any) -> Any:
        if not isinstance(v, Tensor) or v.ndim == 0:
            return v
        axis = self.axis
        if v.shape[axis] != 1:
            raise OutputError(
                f"batch_axis={self.axis}: expected the output to keep a batch axis of size "
                f"1 there, got shape {tuple(v.shape)}."
            )
        return v.squeeze(axis)


def _same(items: tuple[Tensor, ...]) -> tuple[Any, ...]:
    return items


@dataclass
class Caller:
    """Calls the model under test on a float64 input: cast to the model's dtype and
    device, packed into the model's argument form (e.g. a PyG ``Data``), and averaged
    over ``repeats`` calls (for non-deterministic models)."""

    model: Callable[..., Any]
    dtype: torch.dtype
    device: torch.device | None = None
    pack: Callable[[tuple[Tensor, ...]], tuple[Any, ...]] = _same
    repeats: int = 1

    def args(self, items: tuple[Tensor, ...]) -> tuple[Any, ...]:
        """The model's arguments for a float64 input."""
        return self.pack(cast(items, self.dtype, self.device))

    def once(self, items: tuple[Tensor, ...]) -> Outputs:
        """One call, no averaging; an exception of the model becomes :class:`ModelError`."""
        args = self.args(items)
        try:
            out = self.model(*args)
        except (OutputError, ModelError):
            raise
        except Exception as exc:
            raise ModelError(f"the model raised {type(exc).__name__}: {exc}") from exc
        return [(k, v.detach().to("cpu", torch.float64)) for k, v in flatten_outputs(out)]

    def __call__(self, items: tuple[Tensor, ...]) -> Outputs:
        first = self.once(items)
        if self.repeats <= 1:
            return first
        more = [first] + [self.once(items) for _ in range(self.repeats - 1)]
        return [(k, torch.stack([o[i][1] for o in more]).mean(0)) for i, (k, _) in enumerate(first)]


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
