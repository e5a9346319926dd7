r"""Lie derivative of a model along the generators of a continuous group.

For a one-parameter subgroup :math:`g_t = \exp(tA)` the Lie derivative (Gruver et al.,
"The Lie Derivative for Measuring Learned Equivariance", 2022) is

.. math::

    L_A f(x) = \frac{d}{dt}\Big|_{t=0} \rho(g_t)^{-1} f(g_t \cdot x)
             = J_f(x)\, (A \cdot x) - d\rho(A)\, f(x),

zero for every generator exactly when ``f`` is equivariant under the identity component
of the group. It measures *infinitesimal* (approximate) equivariance without sampling
large transformations. Here :math:`J_f (A\cdot x)` is a forward-mode derivative
(autograd, with fallbacks) in the model's dtype and the input / output
generators are central differences of the float64 actions (error :math:`O(h^2)`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from geodl.symmetry._context import cast, to_float64
from geodl.symmetry._element import GroupElement
from geodl.symmetry._measure import resolve
from geodl.symmetry._outputs import call_model, eval_mode
from geodl.symmetry._reps import apply_rep
from geodl.symmetry._tolerance import TINY, model_device, model_dtype

_AXES = "xyz"


def _gen(rot: bool, trans: bool, dim: int, h: float = 1e-4) -> list[Any]:
    out = []
    if rot:
        for i in range(dim):
            for j in range(i + 1, dim):
                A = torch.zeros(dim, dim, dtype=torch.float64)
                A[i, j], A[j, i] = -1.0, 1.0
                out.append(
                    (
                        f"rotation {_AXES[i]}{_AXES[j]}",
                        GroupElement("", rotation=torch.linalg.matrix_exp(h * A)),
                        GroupElement("", rotation=torch.linalg.matrix_exp(-h * A)),
                    )
                )
    if trans:
        for k in range(dim):
            e = torch.zeros(dim, dtype=torch.float64)
            e[k] = h
            out.append(
                (
                    f"translation {_AXES[k]}",
                    GroupElement("", translation=e),
                    GroupElement("", translation=-e),
                )
            )
    return out


def _jvp(f: Callable[..., torch.Tensor], primals: tuple, tangents: tuple) -> torch.Tensor:
    """Jacobian-vector product: the double-backward trick, else forward mode
    (``torch.func.jvp``), else a central difference in the model's dtype."""
    try:
        return torch.autograd.functional.jvp(f, primals, tangents)[1]
    except (NotImplementedError, RuntimeError):
        pass
    try:
        return torch.func.jvp(f, primals, tangents)[1]
    except (NotImplementedError, RuntimeError):
        pass
    h = float(torch.finfo(primals[0].dtype).eps) ** (1 / 3)
    plus = f(*(p + h * t for p, t in zip(primals, tangents, strict=False)))
    minus = f(*(p - h * t for p, t in zip(primals, tangents, strict=False)))
    return (plus - minus) / (2 * h)


def lie_derivative(
    model: Callable[..., Any],
    group: str,
    inputs: Any,
    *,
    kind: str | None = None,
    out_rep: str = "invariant",
    step: float = 1e-4,
) -> dict[str, float]:
    r"""Relative Lie derivative :math:`\lVert L_A f(x)\rVert / \lVert f(x)\rVert` per generator.

    Parameters
    ----------
    model : callable
        Differentiable model, ``model(*inputs)`` returning one Tensor.
    group : str
        A continuous group: ``"SO2"``, ``"SO3"``, ``"translation"``, ``"SE3"``, ... (its
        Lie algebra; reflections have none).
    inputs, kind, out_rep
        As in :func:`check_equivariance`.
    step : float
        Finite-difference step of the float64 group actions.

    Returns
    -------
    dict
        ``{"rotation xy": ..., "translation x": ..., ...}``.

    Examples
    --------
    >>> f = lambda x: torch.cdist(x, x).sum()
    >>> d = lie_derivative(f, "SE3", torch.randn(5, 3, dtype=torch.float64))
    >>> max(d.values()) < 1e-6
    True
    """
    G, kind, ctx = resolve(group, inputs, kind)
    if not G.continuous:
        raise ValueError(
            f"lie_derivative: group {G.name!r} is discrete; use a continuous group "
            "(SO2, SO3, translation, SE3, E3, ...)."
        )
    dt = model_dtype(model, inputs)
    x64 = to_float64(inputs)
    float_idx = [i for i, t in enumerate(x64) if t.is_floating_point()]
    kinds = {k for f in G.factor_records for k in f.generators}
    gens = _gen("rotation" in kinds, "translation" in kinds, ctx.dim or 3, step)
    dev = model_device(model, inputs)
    base = cast(x64, dt, dev)

    def f(*floats: torch.Tensor) -> torch.Tensor:
        args = list(base)
        for i, t in zip(float_idx, floats, strict=False):
            args[i] = t
        out = model(*args)
        if not isinstance(out, torch.Tensor):
            raise TypeError("lie_derivative: the model must return one Tensor.")
        return out

    out: dict[str, float] = {}
    with eval_mode(model):
        (_, y0), *_ = call_model(model, base)
        for name, gp, gm in gens:
            xp, xm = gp.act_items(x64, kind), gm.act_items(x64, kind)
            tangents = tuple(
                ((xp[i] - xm[i]) / (2 * step)).to(device=dev, dtype=dt) for i in float_idx
            )
            primals = tuple(base[i] for i in float_idx)
            jv = _jvp(f, primals, tangents)
            drho = (apply_rep(out_rep, gp, y0, kind) - apply_rep(out_rep, gm, y0, kind)) / (
                2 * step
            )
            out[name] = float((jv.detach().to("cpu", torch.float64) - drho).norm()) / max(
                float(y0.norm()), TINY
            )
    return out
