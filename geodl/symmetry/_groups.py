r"""Groups, their elements, and how elements act on each kind of input.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._context import INPUT_KINDS, ActionContext, as_tuple, make_context

_F64 = torch.float64


# ----------------------------------------------------------------------------- elements
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
        Number of quarter turns (0..3) of an image, applied after ``flip``.
    flip : bool
        Mirror the last image axis (applied first).

    Examples
    --------
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
        turns = (a.turns + (-b.turns if a.flip else b.turns)) % 4
        return GroupElement(
            _join_names(a.group, b.group), rot, trans, perm, shift, grid, turns, a.flip ^ b.flip
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
        turns = self.turns if self.flip else (-self.turns) % 4
        return GroupElement(self.group, rot, trans, perm, shift, self.grid, turns, self.flip)

    def __invert__(self) -> GroupElement:
        return self.inverse()

    @property
    def is_improper(self) -> bool:
        """True for reflections: ``det(rotation) < 0`` or a mirrored image."""
        if self.flip:
            return True
        return self.rotation is not None and bool(torch.linalg.det(self.rotation) < 0)

    @property
    def coset(self) -> str:
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
        return self.turns == 0 and not self.flip

    def allclose(self, other: GroupElement, atol: float = 1e-10) -> bool:
        """Whether two elements act identically (up to ``atol`` on continuous parts)."""
        return (self @ other.inverse()).is_identity(atol)

    # -- action --------------------------------------------------------------------
    def act(self, inputs: Any, kind: str) -> Any:
        """Apply the element to one unbatched input of the given kind.

        Tensors are returned in float64 (except integer ones). The input layout is
        validated against ``kind`` (see :data:`geodl.symmetry.INPUT_KINDS`).
        """
        make_context(kind, inputs)
        items = tuple(x.to(_F64) if x.is_floating_point() else x for x in as_tuple(inputs))
        out = self._act_items(items, kind)
        return out if isinstance(inputs, (tuple, list)) else out[0]

    def _act_items(self, items: tuple[Tensor, ...], kind: str) -> tuple[Tensor, ...]:
        if kind == "atoms":
            species, pos = items[0], items[1]
            if self.perm is not None:
                species, pos = species[self.perm], pos[self.perm]
            pos = self.act_coords(pos)
            rest = items[2:]
            if rest and self.rotation is not None:
                rest = (rest[0] @ self.rotation.T,)
            return (species, pos, *rest)
        x = items[0]
        if kind in ("points", "set"):
            if self.perm is not None:
                x = x[self.perm]
            if kind == "points":
                x = self.act_coords(x)
            return (x,)
        return (self.act_grid(x, kind),)

    def act_coords(self, x: Tensor) -> Tensor:
        """``x @ R.T + t`` on the last axis (coordinates), without permuting rows."""
        if self.rotation is not None:
            x = x @ self.rotation.T
        if self.translation is not None:
            x = x + self.translation
        return x

    def act_grid(self, x: Tensor, kind: str) -> Tensor:
        """Shift / quarter-turn / flip the grid axes of ``x`` as for inputs of ``kind``.

        Images use the last two axes, signals the last axis, sequences axis ``-2``
        (time), so feature maps with extra leading axes are handled too.
        """
        if kind == "image":
            if self.flip:
                x = torch.flip(x, dims=(-1,))
            if self.turns:
                x = torch.rot90(x, self.turns, dims=(-2, -1))
            if self.shift is not None and any(self.shift):
                x = torch.roll(x, shifts=self.shift, dims=(-2, -1))
            return x
        if kind in ("signal", "sequence"):
            if self.shift is not None and any(self.shift):
                x = torch.roll(x, shifts=self.shift, dims=(-1,) if kind == "signal" else (-2,))
            return x
        return x

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
            parts.append(f"turns={self.turns}, flip={self.flip}")
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


def _join_names(a: str, b: str) -> str:
    return a if a == b else f"{a}*{b}"


# ------------------------------------------------------------------------ sampling utils
def haar_orthogonal(
    n: int, d: int, generator: torch.Generator | None = None, proper: bool = True
) -> Tensor:
    """``n`` Haar-random ``d x d`` orthogonal matrices (float64).

    QR decomposition of a Gaussian matrix with the sign fix ``Q <- Q diag(sign(diag(R)))``
    gives Haar measure on O(d) (Mezzadri 2007). With ``proper=True`` the first column of
    matrices with ``det = -1`` is negated, which maps the Haar measure of O(d) onto that
    of SO(d); with ``proper=False`` every matrix is an improper one (``det = -1``).

    Shapes
    ------
    output: ``(n, d, d)``
    """
    a = torch.randn(n, d, d, generator=generator, dtype=_F64)
    q, r = torch.linalg.qr(a)
    q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    det = torch.linalg.det(q)
    want = 1.0 if proper else -1.0
    fix = torch.ones(n, d, dtype=_F64)
    fix[:, 0] = torch.where(det * want < 0, -1.0, 1.0)
    return q * fix.unsqueeze(-2)


def _rand_perm(n: int, generator: torch.Generator | None, species: Tensor | None) -> Tensor:
    if species is None:
        for _ in range(8):
            p = torch.randperm(n, generator=generator)
            if n < 2 or not torch.equal(p, torch.arange(n)):
                return p
        return p
    # random permutation within each species: sort by (species, random key)
    species = species.to(torch.long)
    grouped = torch.argsort(species, stable=True)
    for _ in range(8):
        keys = species.to(_F64) * 2.0 + torch.rand(n, generator=generator, dtype=_F64)
        shuffled = torch.argsort(keys)
        p = torch.empty(n, dtype=torch.long)
        p[grouped] = shuffled
        if not torch.equal(p, torch.arange(n)):
            break
    return p


# -------------------------------------------------------------------------------- groups
@dataclass(frozen=True)
class Group:
    """A symmetry group: a name, the input kinds it acts on, and how to draw elements.

    Groups are small immutable values; get them with :func:`get_group` or combine them
    with :func:`product`. Elements (:class:`GroupElement`) compose with ``@``, invert with
    ``~`` and act on data with ``g.act(inputs, kind)``.

    Parameters
    ----------
    name : str
        Registered name (see :data:`GROUPS`).
    kinds : tuple of str
        Input kinds the group acts on.
    description : str
        One line of maths shown in audits and errors.
    finite : bool
        Whether :meth:`elements` lists the whole group.
    continuous : bool
        Whether the group is a Lie group (rotations / translations): it has a Lie algebra
        and the Lie derivative applies.
    dims : tuple of int
        Coordinate dimensions it needs for ``points`` (e.g. ``(3,)`` for SO(3)).

    Examples
    --------
    >>> G = get_group("C4")
    >>> len(G.elements(kind="image", inputs=torch.zeros(1, 4, 4)))
    4
    """

    name: str
    kinds: tuple[str, ...]
    description: str
    finite: bool = False
    continuous: bool = False
    dims: tuple[int, ...] = (2, 3)
    factors: tuple[str, ...] = field(default=(), repr=False)

    # -- kinds ----------------------------------------------------------------------
    def acts_on(self, kind: str, ctx: ActionContext | None = None) -> bool:
        """Whether the group acts on inputs of ``kind`` (and on this input's dimension)."""
        if kind not in self.kinds:
            return False
        if ctx is not None and kind in ("points",) and ctx.dim not in self.dims:
            return False
        return True

    def check_acts_on(self, kind: str, ctx: ActionContext | None = None) -> None:
        """Raise a ValueError naming the valid kinds if the group does not act on ``kind``."""
        if kind not in INPUT_KINDS:
            raise ValueError(f"input kind: expected one of {sorted(INPUT_KINDS)}, got {kind!r}.")
        if kind not in self.kinds:
            others = [g for g, grp in _REGISTRY.items() if kind in grp.kinds and g != "trivial"]
            raise ValueError(
                f"group {self.name!r} does not act on inputs of kind {kind!r}; it acts on "
                f"{list(self.kinds)}. Groups acting on {kind!r}: {others}."
            )
        if ctx is not None and not self.acts_on(kind, ctx):
            raise ValueError(
                f"group {self.name!r} acts on {kind!r} of dimension {list(self.dims)}, got "
                f"dimension {ctx.dim}. Use SO2/O2 for 2D points and SO3/O3/SE3/E3 for 3D."
            )

    # -- elements -------------------------------------------------------------------
    def _ctx(self, ctx: ActionContext | None, kind: str | None, inputs: Any) -> ActionContext:
        if ctx is not None:
            return ctx
        if inputs is not None:
            if kind is None:
                from geodl.symmetry._check import infer_kind

                kind = infer_kind(self, inputs)
            c = make_context(kind, inputs)
            self.check_acts_on(kind, c)
            return c
        # no input: coordinates of the natural dimension, no rows / grid
        kind = kind or self.kinds[0]
        dim = 2 if self.dims == (2,) else 3
        return ActionContext(kind, dim=dim)

    def identity(
        self, *, ctx: ActionContext | None = None, kind: str | None = None, inputs: Any = None
    ) -> GroupElement:
        """The identity element (acts trivially on every input)."""
        c = self._ctx(ctx, kind, inputs)
        g = GroupElement(self.name)
        for f in self._factor_names():
            g = g @ _IDENTITY[f](c)
        return replace(g, group=self.name)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        ctx: ActionContext | None = None,
        kind: str | None = None,
        inputs: Any = None,
        coset: str | None = None,
    ) -> list[GroupElement]:
        """``n`` random elements (Haar-uniform for rotations).

        Groups whose elements depend on the input (permutations need ``N``, shifts the
        grid size) take the input through ``inputs=`` (and ``kind=``) or ``ctx=``.
        ``coset="improper"`` draws only reflections (O(2), O(3), E(3), D4),
        ``"proper"`` only rotations.
        """
        if n < 0:
            raise ValueError(f"sample: 'n' must be >= 0, got {n}.")
        c = self._ctx(ctx, kind, inputs)
        out = []
        for _ in range(n):
            g = GroupElement(self.name)
            for f in self._factor_names():
                g = g @ _SAMPLERS[f](generator, c, coset)
            out.append(replace(g, group=self.name))
        return out

    def elements(
        self, *, ctx: ActionContext | None = None, kind: str | None = None, inputs: Any = None
    ) -> list[GroupElement]:
        """Every element of a finite group (identity first)."""
        if not self.finite:
            raise ValueError(
                f"group {self.name!r} is infinite; use sample(n, generator) to draw elements."
            )
        c = self._ctx(ctx, kind, inputs)
        els = [GroupElement(self.name)]
        for f in self._factor_names():
            els = [a @ b for a in els for b in _ELEMENTS[f](c)]
        return [replace(g, group=self.name) for g in els]

    def test_elements(
        self, n: int, generator: torch.Generator | None = None, *, ctx: ActionContext
    ) -> list[GroupElement]:
        """Elements used by the checks: every non-identity element of a finite group,
        else ``n`` random ones; groups with reflections get both cosets (half each)."""
        if self.finite:
            return [g for g in self.elements(ctx=ctx) if not g.is_identity()]
        if self.has_reflections:
            k = max(1, n // 2)
            return self.sample(max(1, n - k), generator, ctx=ctx, coset="proper") + self.sample(
                k, generator, ctx=ctx, coset="improper"
            )
        return self.sample(max(1, n), generator, ctx=ctx)

    @property
    def has_reflections(self) -> bool:
        """Whether the group has an improper coset (tested separately by the checks)."""
        return any(f in ("O2", "O3", "E3", "E2", "D4") for f in self._factor_names())

    def _factor_names(self) -> tuple[str, ...]:
        return self.factors or (self.name,)

    def __str__(self) -> str:
        return self.name


# -- primitive samplers: (generator, ctx, coset) -> element -------------------------------
def _rot(d: int, proper_only: bool) -> Callable[..., GroupElement]:
    def sample(gen: torch.Generator | None, ctx: ActionContext, coset: str | None) -> GroupElement:
        dim = ctx.dim or d
        if proper_only or coset == "proper":
            proper = True
        elif coset == "improper":
            proper = False
        else:
            proper = bool(torch.rand((), generator=gen) < 0.5)
        return GroupElement("", rotation=haar_orthogonal(1, dim, gen, proper)[0])

    return sample


def _trans(gen: torch.Generator | None, ctx: ActionContext, coset: str | None) -> GroupElement:
    dim = ctx.dim or 3
    return GroupElement("", translation=torch.randn(dim, generator=gen, dtype=_F64) * ctx.scale)


def _perm(gen: torch.Generator | None, ctx: ActionContext, coset: str | None) -> GroupElement:
    if ctx.n is None:
        raise ValueError(
            "permutation: the number of rows is needed; pass inputs=... (and kind=...) or ctx=."
        )
    return GroupElement("", perm=_rand_perm(ctx.n, gen, ctx.species))


def _shift(gen: torch.Generator | None, ctx: ActionContext, coset: str | None) -> GroupElement:
    if ctx.grid is None:
        raise ValueError("shift: the grid size is needed; pass inputs=... (and kind=...).")
    grid = ctx.grid
    while True:
        s = tuple(int(torch.randint(0, n, (), generator=gen)) for n in grid)
        if any(s) or all(n == 1 for n in grid):
            return GroupElement("", shift=s, grid=grid)


def _dihedral(flips: bool) -> Callable[..., GroupElement]:
    def sample(gen: torch.Generator | None, ctx: ActionContext, coset: str | None) -> GroupElement:
        turns = int(torch.randint(0, 4, (), generator=gen))
        if not flips or coset == "proper":
            flip = False
        elif coset == "improper":
            flip = True
        else:
            flip = bool(torch.randint(0, 2, (), generator=gen))
        return GroupElement("", turns=turns, flip=flip)

    return sample


def _identity_el(ctx: ActionContext) -> GroupElement:
    return GroupElement("")


def _shift_identity(ctx: ActionContext) -> GroupElement:
    grid = ctx.grid or ()
    return GroupElement("", shift=tuple(0 for _ in grid), grid=grid)


def _check_square(ctx: ActionContext) -> None:
    if ctx.grid is not None and len(set(ctx.grid)) != 1:
        raise ValueError(
            f"C4/D4: quarter turns need a square image, got H, W = {ctx.grid}. "
            "Crop or pad the image to H == W."
        )


def _c4_elements(ctx: ActionContext) -> list[GroupElement]:
    _check_square(ctx)
    return [GroupElement("", turns=k) for k in range(4)]


def _d4_elements(ctx: ActionContext) -> list[GroupElement]:
    _check_square(ctx)
    return [GroupElement("", turns=k, flip=f) for f in (False, True) for k in range(4)]


def _c4_sample(gen: torch.Generator | None, ctx: ActionContext, coset: str | None) -> GroupElement:
    _check_square(ctx)
    return _dihedral(False)(gen, ctx, coset)


def _d4_sample(gen: torch.Generator | None, ctx: ActionContext, coset: str | None) -> GroupElement:
    _check_square(ctx)
    return _dihedral(True)(gen, ctx, coset)


def _trivial_sample(
    gen: torch.Generator | None, ctx: ActionContext, coset: str | None
) -> GroupElement:
    return GroupElement("")


_SAMPLERS: dict[str, Callable[..., GroupElement]] = {
    "trivial": _trivial_sample,
    "permutation": _perm,
    "translation": _trans,
    "SO2": _rot(2, True),
    "O2": _rot(2, False),
    "SO3": _rot(3, True),
    "O3": _rot(3, False),
    "shift": _shift,
    "time-shift": _shift,
    "C4": _c4_sample,
    "D4": _d4_sample,
}
_SAMPLERS["SE3"] = lambda g, c, k: _trans(g, c, k) @ _SAMPLERS["SO3"](g, c, k)
_SAMPLERS["E3"] = lambda g, c, k: _trans(g, c, k) @ _SAMPLERS["O3"](g, c, k)
_SAMPLERS["SE2"] = lambda g, c, k: _trans(g, c, k) @ _SAMPLERS["SO2"](g, c, k)
_SAMPLERS["E2"] = lambda g, c, k: _trans(g, c, k) @ _SAMPLERS["O2"](g, c, k)

_IDENTITY: dict[str, Callable[[ActionContext], GroupElement]] = {
    name: _identity_el for name in _SAMPLERS
}
_IDENTITY["shift"] = _shift_identity
_IDENTITY["time-shift"] = _shift_identity

_ELEMENTS: dict[str, Callable[[ActionContext], list[GroupElement]]] = {
    "trivial": lambda c: [GroupElement("")],
    "C4": _c4_elements,
    "D4": _d4_elements,
}

_GEOM = ("points", "atoms")
#: name -> Group: every registered group.
_REGISTRY: dict[str, Group] = {
    g.name: g
    for g in [
        Group("trivial", tuple(INPUT_KINDS), "{e}: only the identity", finite=True),
        Group(
            "permutation",
            ("points", "set", "atoms"),
            "S_N: reorder rows (atoms: only atoms of equal species)",
        ),
        Group("translation", _GEOM, "T(d): x -> x + t", continuous=True),
        Group("SO2", ("points",), "SO(2): x -> R x, det R = +1", continuous=True, dims=(2,)),
        Group("O2", ("points",), "O(2): x -> R x, R^T R = 1", continuous=True, dims=(2,)),
        Group("SE2", ("points",), "SE(2): x -> R x + t, det R = +1", continuous=True, dims=(2,)),
        Group("E2", ("points",), "E(2): x -> R x + t, R in O(2)", continuous=True, dims=(2,)),
        Group("SO3", _GEOM, "SO(3): x -> R x, det R = +1", continuous=True, dims=(3,)),
        Group(
            "O3", _GEOM, "O(3): x -> R x, R^T R = 1 (with reflections)", continuous=True, dims=(3,)
        ),
        Group("SE3", _GEOM, "SE(3): x -> R x + t, det R = +1", continuous=True, dims=(3,)),
        Group("E3", _GEOM, "E(3): x -> R x + t, R in O(3)", continuous=True, dims=(3,)),
        Group("shift", ("image", "signal"), "Z_H x Z_W (Z_L): cyclic shifts of the grid"),
        Group(
            "C4", ("image",), "C4: rotations of a square image by multiples of 90 deg", finite=True
        ),
        Group("D4", ("image",), "D4: 90-degree rotations and mirror images", finite=True),
        Group("time-shift", ("sequence",), "Z_T: cyclic shifts of the time axis"),
    ]
}
#: Registered group names and one-line descriptions.
GROUPS: dict[str, str] = {name: g.description for name, g in _REGISTRY.items()}


def get_group(name: str | Group) -> Group:
    """Resolve a registered group name (or a product ``"E3 x permutation"``).

    Parameters
    ----------
    name : str or Group
        One of :data:`GROUPS`, or several joined by ``" x "`` / ``"*"`` for a product.

    Examples
    --------
    >>> get_group("SO3").kinds
    ('points', 'atoms')
    >>> get_group("E3 x permutation").name
    'E3*permutation'
    """
    if isinstance(name, Group):
        return name
    if not isinstance(name, str):
        raise TypeError(f"group: expected a group name (str) or Group, got {type(name).__name__}.")
    for sep in ("*", " x ", "×"):
        if sep in name:
            return product(*[get_group(p.strip()) for p in name.split(sep)])
    key = name.strip()
    if key not in _REGISTRY:
        lower = {k.lower().replace("(", "").replace(")", ""): k for k in _REGISTRY}
        key = lower.get(key.lower().replace("(", "").replace(")", ""), key)
    if key not in _REGISTRY:
        raise ValueError(
            f"group: unknown group {name!r}; valid groups are {list(_REGISTRY)} "
            "(or a product such as 'E3 x permutation')."
        )
    return _REGISTRY[key]


def product(*groups: str | Group) -> Group:
    """Direct product of groups acting on the same input (e.g. E(3) x S_N on a molecule).

    Elements are drawn factor by factor and composed; the product acts on the input kinds
    that every factor acts on.

    Examples
    --------
    >>> G = product("E3", "permutation")
    >>> G.kinds
    ('points', 'atoms')
    """
    gs = [get_group(g) for g in groups]
    if len(gs) == 0:
        raise ValueError("product: expected at least one group, got none.")
    if len(gs) == 1:
        return gs[0]
    kinds = tuple(k for k in gs[0].kinds if all(k in g.kinds for g in gs[1:]))
    if not kinds:
        raise ValueError(
            f"product: groups {[g.name for g in gs]} have no input kind in common "
            f"({[list(g.kinds) for g in gs]})."
        )
    grids = [g for g in gs if set(g._factor_names()) & {"shift", "C4", "D4", "time-shift"}]
    if len(grids) > 1:
        raise ValueError(
            "product: combining shifts with C4/D4 is not supported; check them separately."
        )
    dims = tuple(d for d in (2, 3) if all(d in g.dims for g in gs))
    factors: tuple[str, ...] = tuple(f for g in gs for f in g._factor_names())
    return Group(
        "*".join(g.name for g in gs),
        kinds,
        " x ".join(g.description.split(":")[0] for g in gs),
        finite=all(g.finite for g in gs),
        continuous=any(g.continuous for g in gs),
        dims=dims,
        factors=factors,
    )


def groups_acting_on(kind: str, ctx: ActionContext | None = None) -> list[Group]:
    """Every registered non-trivial group that acts on ``kind`` (and this input's dimension)."""
    return [
        g
        for name, g in _REGISTRY.items()
        if name != "trivial"
        and g.acts_on(kind, ctx)
        and not (kind == "atoms" and name in ("SO2", "O2", "SE2", "E2"))
    ]


def rotation_about(axis: Sequence[float], angle: float) -> Tensor:
    """Rotation matrix (float64) by ``angle`` radians about ``axis`` (Rodrigues)."""
    a = torch.as_tensor(axis, dtype=_F64)
    a = a / a.norm()
    k = torch.tensor([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]], dtype=_F64)
    return torch.eye(3, dtype=_F64) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k
