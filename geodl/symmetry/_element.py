r"""Group elements and how they act on each kind of input.

Every element is one value of :class:`GroupElement`, a product of (at most) these parts,
all optional (``None`` means the identity part):

* an orthogonal matrix ``rotation`` :math:`R` and a ``translation`` :math:`t`, acting on
  coordinates as :math:`x \mapsto R x + t` (rows of an ``(N, d)`` tensor:
  ``x @ R.T + t``);
* a permutation ``perm`` :math:`\pi` of the rows: :math:`(g \cdot x)_i = x_{\pi(i)}`;
* a cyclic ``shift`` of the grid axes (``torch.roll``);
* a dihedral part on square images: ``flip`` (mirror the last axis) then ``turns``
  quarter turns (``torch.rot90`` over the last two axes).

Composition ``g @ h`` means "apply ``h`` first, then ``g``", so that
:math:`(g h) \cdot x = g \cdot (h \cdot x)` — the action is a homomorphism. All
continuous parts are float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from geodl.symmetry._actions import act_on, grid
from geodl.symmetry._context import make_context, pack_like, to_items

_F64 = torch.float64

#: The two cosets of a group with reflections.
Coset = Literal["proper", "improper"]


@dataclass(frozen=True, eq=False)
class GroupElement:
    """One element of a group, with its action on data.

    Parameters
    ----------
    group : str
        Name of the group the element was drawn from (for display).
    rotation : Tensor or None
        Orthogonal ``(d, d)`` float64 matrix (``det = -1`` for improper elements).
    translation : Tensor or None
        ``(d,)`` float64 translation.
    perm : Tensor or None
        ``(N,)`` long permutation of rows, ``(g . x)[i] = x[perm[i]]``.
    shift : tuple of int or None
        Cyclic shift of the grid axes, reduced modulo ``grid``.
    grid : tuple of int or None
        Sizes of the shifted axes.
    turns : int
        Rotation of an image by ``turns * 360 / order`` degrees (``0 .. order - 1``),
        applied after ``flip``: exact by ``rot90`` for multiples of 90 degrees, else by
        bilinear interpolation (approximate by construction).
    flip : bool
        Mirror the last image axis (applied first).
    order : int
        Rotations of the image come in steps of ``360 / order`` degrees (4: quarter
        turns).
    lattice : Tensor or None
        ``(N, 3)`` long: atom ``i`` moves by ``lattice[i] @ cell`` (a lattice translation
        of a periodic system; applied after ``perm``, before the rotation).

    Examples
    --------
    >>> from geodl.symmetry import get_group
    >>> g = get_group("SO3").sample(2, torch.Generator().manual_seed(0))
    >>> h = g[0] @ g[1]
    >>> bool(torch.allclose((h @ ~h).rotation, torch.eye(3, dtype=torch.float64)))
    True
    """

    group: str
    rotation: Tensor | None = None
    translation: Tensor | None = None
    perm: Tensor | None = None
    shift: tuple[int, ...] | None = None
    grid: tuple[int, ...] | None = None
    turns: int = 0
    flip: bool = False
    lattice: Tensor | None = None
    order: int = 4

    # -- algebra -------------------------------------------------------------------
    def __matmul__(self, other: GroupElement) -> GroupElement:
        if not isinstance(other, GroupElement):
            return NotImplemented
        a, b = self, other
        if (a.shift is not None and (b.turns or b.flip)) or (
            b.shift is not None and (a.turns or a.flip)
        ):
            if any(a.shift or ()) or any(b.shift or ()):
                raise ValueError(
                    "GroupElement: composing cyclic shifts with quarter turns / flips is not "
                    "supported; check 'shift' and 'C4'/'D4' separately."
                )
        rot = _mul_opt(a.rotation, b.rotation)
        # (R1, t1)(R2, t2) = (R1 R2, R1 t2 + t1)
        trans: Tensor | None
        if b.translation is None:
            trans = a.translation
        else:
            t2 = b.translation if a.rotation is None else a.rotation @ b.translation
            trans = t2 if a.translation is None else t2 + a.translation
        # (g h).x = g.(h.x) = (x[p_h])[p_g] = x[p_h[p_g]]
        if a.perm is None:
            perm = b.perm
        elif b.perm is None:
            perm = a.perm
        else:
            if a.perm.shape != b.perm.shape:
                raise ValueError(
                    f"GroupElement: permutations of different sizes ({a.perm.numel()} and "
                    f"{b.perm.numel()}) cannot be composed."
                )
            perm = b.perm[a.perm]
        shift, grid = _add_shift(a, b)
        # dihedral part T = R^k F^f:  (k1,f1)(k2,f2) = (k1 + (-1)^f1 k2, f1 xor f2)
        order = _common_order(a, b)
        turns = a.turns * order // a.order + (-1 if a.flip else 1) * b.turns * order // b.order
        turns %= order
        # lattice shifts travel with their atoms: n = n_b[p_a] + n_a
        lat = b.lattice if b.lattice is None or a.perm is None else b.lattice[a.perm]
        lat = a.lattice if lat is None else lat if a.lattice is None else lat + a.lattice
        return GroupElement(
            _join_names(a.group, b.group),
            rot,
            trans,
            perm,
            shift,
            grid,
            turns,
            a.flip ^ b.flip,
            lat,
            order,
        )

    def inverse(self) -> GroupElement:
        """The inverse element: ``g @ g.inverse()`` is the identity."""
        rot = None if self.rotation is None else self.rotation.T.contiguous()
        trans = None
        if self.translation is not None:
            trans = -(self.translation if rot is None else rot @ self.translation)
        perm = None if self.perm is None else torch.argsort(self.perm)
        shift = None
        if self.shift is not None and self.grid is not None:
            shift = tuple((-s) % n for s, n in zip(self.shift, self.grid, strict=False))
        turns = self.turns if self.flip else (-self.turns) % self.order
        lat = None
        if self.lattice is not None:
            lat = -(self.lattice if perm is None else self.lattice[perm])
        return GroupElement(
            self.group, rot, trans, perm, shift, self.grid, turns, self.flip, lat, self.order
        )

    def __invert__(self) -> GroupElement:
        return self.inverse()

    @property
    def interpolated(self) -> bool:
        """Whether the image rotation is not a multiple of 90 degrees (its action
        interpolates: approximate by construction)."""
        return bool((4 * self.turns) % self.order)

    @property
    def is_improper(self) -> bool:
        """True for reflections: ``det(rotation) < 0`` or a mirrored image."""
        if self.flip:
            return True
        return self.rotation is not None and bool(torch.linalg.det(self.rotation) < 0)

    @property
    def coset(self) -> Coset:
        """``"proper"`` or ``"improper"`` (rotations vs. reflections)."""
        return "improper" if self.is_improper else "proper"

    @property
    def det(self) -> float:
        """Determinant of the linear part (+1 or -1)."""
        if self.rotation is not None:
            return float(torch.linalg.det(self.rotation))
        return -1.0 if self.flip else 1.0

    def is_identity(self, atol: float = 1e-10) -> bool:
        """Whether the element acts trivially."""
        if self.rotation is not None and not torch.allclose(
            self.rotation, torch.eye(self.rotation.shape[0], dtype=_F64), atol=atol, rtol=0
        ):
            return False
        if self.translation is not None and bool(self.translation.abs().max() > atol):
            return False
        if self.perm is not None and not torch.equal(self.perm, torch.arange(self.perm.numel())):
            return False
        if self.shift is not None and any(self.shift):
            return False
        if self.lattice is not None and bool(self.lattice.abs().sum() > 0):
            return False
        return self.turns == 0 and not self.flip

    def allclose(self, other: GroupElement, atol: float = 1e-10) -> bool:
        """Whether two elements act identically (up to ``atol`` on continuous parts)."""
        return (self @ other.inverse()).is_identity(atol)

    # -- action --------------------------------------------------------------------
    def act(self, inputs: Any, kind: str, in_rep: str | None = None) -> Any:
        """Apply the element to one unbatched input of the given kind.

        Tensors are returned in float64 (except integer ones); a PyG ``Data`` stays a
        ``Data``. The input layout is validated against ``kind`` (see
        :data:`geodl.symmetry.INPUT_KINDS`); ``in_rep`` is the e3nn irreps string of the
        features (``"irreps"`` inputs, node features of graphs).
        """
        make_context(kind, inputs, in_rep)
        items = tuple(x.to(_F64) if x.is_floating_point() else x for x in to_items(inputs))
        out = self.act_items(items, kind, in_rep)
        return pack_like(inputs, out)

    def act_items(
        self, items: tuple[Tensor, ...], kind: str, in_rep: str | None = None
    ) -> tuple[Tensor, ...]:
        """Apply the element to an input already split into float64 / integer tensors
        (no validation: see :meth:`act`)."""
        return act_on(self, items, kind, in_rep)

    def act_coords(self, x: Tensor) -> Tensor:
        """``x @ R.T + t`` on the last axis (coordinates), without permuting rows."""
        if self.rotation is not None:
            x = x @ self.rotation.T
        if self.translation is not None:
            x = x + self.translation
        return x

    def act_grid(self, x: Tensor, kind: str) -> Tensor:
        """Shift / quarter-turn / flip the grid axes of ``x`` as for inputs of ``kind``."""
        return grid(self, x, kind)

    def __repr__(self) -> str:
        parts = []
        if self.rotation is not None:
            parts.append(_describe_rotation(self.rotation, self.det))
        if self.translation is not None:
            parts.append("t=" + _fmt_vec(self.translation))
        if self.perm is not None:
            parts.append(f"perm={self.perm.tolist()}" if self.perm.numel() <= 8 else "perm=...")
        if self.shift is not None:
            parts.append(f"shift={self.shift}")
        if self.turns or self.flip:
            angle = f", {360 * self.turns / self.order:g} deg" if self.order != 4 else ""
            parts.append(f"turns={self.turns}{angle}, flip={self.flip}")
        if self.lattice is not None:
            parts.append(f"lattice shifts of {int((self.lattice != 0).any(1).sum())} atom(s)")
        return f"GroupElement({self.group}: {', '.join(parts) or 'identity'})"


def _describe_rotation(R: Tensor, det: float) -> str:
    """``"rotation 37 deg"``, ``"rotoreflection 37 deg"`` (3D: angle of -R) or
    ``"reflection"`` (2D)."""
    d = R.shape[0]
    if d == 2 and det < 0:
        return "reflection"
    if d == 3 and det < 0:
        R = -R
    c = (float(torch.diagonal(R).sum()) - (1.0 if d == 3 else 0.0)) / 2
    angle = math.degrees(math.acos(max(-1.0, min(1.0, c))))
    return f"{'rotation' if det > 0 else 'rotoreflection'} {angle:.0f} deg"


def _fmt_vec(t: Tensor) -> str:
    return "(" + ", ".join(f"{float(v):.3g}" for v in t) + ")"


def _mul_opt(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None:
        return b
    if b is None:
        return a
    return a @ b


def _add_shift(a: GroupElement, b: GroupElement) -> tuple[tuple[int, ...] | None, Any]:
    if a.shift is None:
        return b.shift, b.grid
    if b.shift is None:
        return a.shift, a.grid
    if a.grid != b.grid:
        raise ValueError(f"GroupElement: shifts on different grids {a.grid} and {b.grid}.")
    grid = a.grid or tuple(0 for _ in a.shift)
    return tuple(
        (s + t) % n if n else s + t for s, t, n in zip(a.shift, b.shift, grid, strict=False)
    ), a.grid


def _common_order(a: GroupElement, b: GroupElement) -> int:
    """The rotation step of a product: the least common multiple of the two orders."""
    return a.order * b.order // math.gcd(a.order, b.order)


def _join_names(a: str, b: str) -> str:
    return a if a == b else f"{a}*{b}"
