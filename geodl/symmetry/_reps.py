r"""Output representations: how a model's output should transform, :math:`\rho(g)`.

A representation is named by a string (one registry, :data:`REPRESENTATIONS`):

``"invariant"``
    :math:`\rho(g) = 1`.
``"equivariant"``
    the output is acted on like the input (coordinates rotated and translated, rows
    permuted, feature maps shifted / rotated on their last grid axes).
``"vector"`` / ``"pseudovector"``
    :math:`y \mapsto R y` / :math:`y \mapsto \det(R)\, R y` on the last axis.
``"rank2"``
    :math:`S \mapsto R S R^\top` on the last two axes (e.g. stress, virial).
any e3nn irreps string, e.g. ``"2x0e + 1x1o"``
    :math:`y \mapsto D(R)\, y` with ``e3nn.o3.Irreps(...).D_from_matrix`` (parity
    handled for improper :math:`R`).
``"per-point"``, ``"per-point:<rep>"``
    rows permuted with the points, each row transforming by ``<rep>`` (default
    invariant); e.g. forces are ``"per-point:vector"``.
``"pairwise"``, ``"pairwise:<rep>"``
    an ``(N, N, ...)`` array whose rows and columns are both permuted.
"""

from __future__ import annotations

import torch
from torch import Tensor

from geodl.symmetry._element import GroupElement
from geodl.symmetry._wigner import irreps as _irreps
from geodl.symmetry._wigner import irreps_matrix
from geodl.symmetry._wigner import looks_like_irreps as _looks_like_irreps

#: Representation names (besides e3nn irreps strings) and what they mean.
REPRESENTATIONS: dict[str, str] = {
    "invariant": "unchanged: rho(g) = 1",
    "equivariant": "acted on like the input (coordinates, rows, feature maps)",
    "vector": "y -> R y (last axis)",
    "pseudovector": "y -> det(R) R y (last axis)",
    "rank2": "S -> R S R^T (last two axes)",
    "per-point": "rows permuted with the points, otherwise invariant",
    "per-point:<rep>": "rows permuted, each row transforms by <rep> (e.g. per-point:vector)",
    "pairwise[:<rep>]": "(N, N, ...) rows and columns permuted",
    "<irreps>": "an e3nn irreps string such as '2x0e + 1x1o' (D_from_matrix)",
    "regular:<C_N|D_N>": "group-CNN feature map (..., |G|, H, W): the grid rotates and the "
    "fibre axis is permuted by the regular representation",
    "quotient:<D_N>": "feature map (..., N, H, W) on the cosets D_N / {e, flip}",
}

_BASE = ("invariant", "equivariant", "vector", "pseudovector", "rank2")


def validate_rep(rep: str) -> str:
    """Return ``rep`` normalised, or raise a ValueError listing the valid representations."""
    if not isinstance(rep, str):
        raise TypeError(f"out_rep: expected a string, got {type(rep).__name__}.")
    rep = rep.strip()
    head, _, inner = rep.partition(":")
    if head in ("per-point", "pairwise"):
        if inner:
            validate_rep(inner)
        return rep
    if head in ("regular", "quotient"):
        fibre_group(rep)
        return rep
    if rep in _BASE:
        return rep
    if _looks_like_irreps(rep):
        try:
            _irreps(rep)
            return rep
        except (ValueError, AssertionError) as exc:
            raise ValueError(
                f"out_rep: {rep!r} is not a valid e3nn irreps string ({exc})."
            ) from exc
    raise ValueError(
        f"out_rep: unknown representation {rep!r}; valid: {list(REPRESENTATIONS)} "
        "(e.g. 'invariant', 'per-point:vector', '1x0e + 1x1o')."
    )


def _rotation(g: GroupElement, dim: int) -> Tensor:
    if g.rotation is None:
        return torch.eye(dim, dtype=torch.float64)
    if g.rotation.shape[0] != dim:
        raise ValueError(
            f"out_rep: the output's last axis has size {dim} but the rotation acts in "
            f"{g.rotation.shape[0]} dimensions."
        )
    return g.rotation


def _point_rep(rep: str, g: GroupElement, y: Tensor) -> Tensor:
    """Apply a non-permuting representation on the trailing axes of ``y``."""
    if rep in ("", "invariant"):
        return y
    if rep in ("vector", "pseudovector"):
        R = _rotation(g, y.shape[-1])
        out = y @ R.T
        return out * g.det if rep == "pseudovector" else out
    if rep == "rank2":
        if y.ndim < 2 or y.shape[-1] != y.shape[-2]:
            raise ValueError(f"out_rep 'rank2': expected (..., d, d) output, got {tuple(y.shape)}.")
        R = _rotation(g, y.shape[-1])
        return R @ y @ R.T
    irreps = _irreps(rep)
    if y.shape[-1] != irreps.dim:
        raise ValueError(
            f"out_rep {rep!r}: expected the output's last axis to have size {irreps.dim}, got "
            f"shape {tuple(y.shape)}."
        )
    D = irreps_matrix(rep, _rotation(g, 3)).to(y.dtype)
    return y @ D.T


def apply_rep(rep: str, g: GroupElement, y: Tensor, kind: str) -> Tensor:
    r"""Return :math:`\rho(g)\, y` for an output ``y`` (float64) of a model on ``kind`` inputs.

    Shapes
    ------
    y: any shape compatible with ``rep`` (``(N, ...)`` for per-point, ``(..., 3)`` for
    vectors, ``(..., H, W)`` for equivariant image maps).

    Examples
    --------
    >>> from geodl.symmetry import GroupElement
    >>> g = GroupElement("O3", rotation=-torch.eye(3, dtype=torch.float64))  # inversion
    >>> y = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    >>> apply_rep("vector", g, y, "points").tolist()
    [-1.0, -2.0, -3.0]
    >>> apply_rep("pseudovector", g, y, "points").tolist()
    [1.0, 2.0, 3.0]
    """
    rep = validate_rep(rep)
    head, _, inner = rep.partition(":")
    if head == "per-point":
        if g.perm is not None:
            if y.ndim == 0 or y.shape[0] != g.perm.numel():
                raise ValueError(
                    f"out_rep {rep!r}: expected an output with one row per point "
                    f"({g.perm.numel()}), got shape {tuple(y.shape)}."
                )
            y = y[g.perm]
        return _point_rep(inner, g, y)
    if head == "pairwise":
        if g.perm is not None:
            y = y[g.perm][:, g.perm]
        return _point_rep(inner, g, y)
    if rep == "equivariant":
        return _equivariant(g, y, kind)
    if head in ("regular", "quotient"):
        return _fibre(rep, g, y, kind)
    if kind in ("graph", "irreps") and rep != "invariant" and g.perm is not None:
        if y.ndim >= 1 and y.shape[0] == g.perm.numel():
            y = y[g.perm]  # node outputs of a graph-level rep (e.g. irreps per node)
    return _point_rep(rep, g, y)


def _equivariant(g: GroupElement, y: Tensor, kind: str) -> Tensor:
    if kind in ("points", "atoms", "set", "graph", "irreps"):
        if g.perm is not None:
            if y.ndim == 0 or y.shape[0] != g.perm.numel():
                raise ValueError(
                    f"out_rep 'equivariant': expected an output with one row per point "
                    f"({g.perm.numel()}), got shape {tuple(y.shape)}."
                )
            y = y[g.perm]
        linear = g.rotation if g.rotation is not None else g.translation
        if kind in ("points", "atoms") and linear is not None:
            dim = linear.shape[0]
            if y.shape[-1] != dim:
                raise ValueError(
                    f"out_rep 'equivariant': coordinates-like output must end in {dim}, got "
                    f"shape {tuple(y.shape)}; use 'per-point' for invariant per-point features."
                )
            y = g.act_coords(y)
        return y
    if kind == "image" and y.ndim < 2 or kind in ("signal", "sequence") and y.ndim < 1:
        raise ValueError(
            f"out_rep 'equivariant' for {kind!r} inputs expects a feature map, got shape "
            f"{tuple(y.shape)}; use 'invariant' for pooled outputs."
        )
    return g.act_grid(y, kind)


def fibre_group(rep: str) -> tuple[str, bool, int]:
    """``(kind, flips, N)`` of a fibre representation ``regular:C8`` / ``quotient:D4``."""
    head, _, inner = rep.partition(":")
    name = inner.strip()
    ok = len(name) > 1 and name[0] in "CD" and name[1:].isdigit() and int(name[1:]) >= 1
    if not ok or (head == "quotient" and name[0] != "D"):
        raise ValueError(
            f"out_rep {rep!r}: expected 'regular:C<N>', 'regular:D<N>' or 'quotient:D<N>' "
            "(e.g. 'regular:C4' for a C4 group-CNN feature map (..., 4, H, W))."
        )
    return head, name[0] == "D", int(name[1:])


def _fibre_source(rep: str, g: GroupElement) -> list[int]:
    """``src[h]``: the fibre index whose value lands on ``h``, i.e. ``g^-1 h``."""
    head, flips, n = fibre_group(rep)
    if (g.turns * n) % g.order:
        raise ValueError(f"out_rep {rep!r}: the element {g!r} is not in the group of {rep}.")
    if g.flip and not flips:
        raise ValueError(f"out_rep {rep!r}: C_N has no mirror images; use regular:D{n}.")
    a = g.turns * n // g.order
    inv_a, inv_f = (a, 1) if g.flip else ((-a) % n, 0)  # g^-1 as (k, f)

    def times(k1: int, f1: int, k2: int, f2: int) -> tuple[int, int]:
        return (k1 + (-k2 if f1 else k2)) % n, f1 ^ f2

    if head == "quotient":  # cosets r^k {e, F}: g . k = a + (-1)^f k
        return [times(inv_a, inv_f, k, 0)[0] for k in range(n)]
    src = []
    for f in (0, 1) if flips else (0,):
        for k in range(n):
            k2, f2 = times(inv_a, inv_f, k, f)
            src.append(f2 * n + k2)
    return src


def _fibre(rep: str, g: GroupElement, y: Tensor, kind: str) -> Tensor:
    """A group-CNN feature map ``(..., F, H, W)``: rotate the grid, permute the fibre."""
    src = _fibre_source(rep, g)
    if kind != "image" or y.ndim < 3 or y.shape[-3] != len(src):
        raise ValueError(
            f"out_rep {rep!r}: expected an image feature map (..., {len(src)}, H, W), got "
            f"shape {tuple(y.shape)} for {kind!r} inputs."
        )
    return g.act_grid(y, "image")[..., src, :, :]
