r"""Forces of an energy model as a model of its own, and their equivariance check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._check import check_equivariance
from geodl.symmetry._context import infer_kind
from geodl.symmetry._groups import Group, get_group
from geodl.symmetry._outputs import OutputError, eval_mode
from geodl.symmetry._report import SymmetryReport
from geodl.symmetry._tolerance import model_device, model_dtype


class EnergyForces:
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
                raise OutputError(
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
    forces = EnergyForces(model, 1 if kind == "atoms" else 0)
    kwargs.pop("out_rep", None)
    kwargs.setdefault("localize", False)
    with eval_mode(model):
        return check_equivariance(
            forces, G, inputs, kind=kind, out_rep="per-point:vector", dtype=dt, **kwargs
        )
