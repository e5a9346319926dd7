r"""The registry of group factors: one record per factor says everything about it.

A group (:class:`geodl.symmetry.Group`) is a product of factors; each :class:`Factor`
knows the input kinds it acts on, how to draw a random element, its identity, the list
of its elements (finite factors), whether it has an improper coset (reflections, tested
separately by the checks) and which Lie-algebra generators it has (for
:func:`geodl.symmetry.lie_derivative`). Adding a group means adding one record here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

from geodl.symmetry._context import INPUT_KINDS, ActionContext
from geodl.symmetry._element import Coset, GroupElement
from geodl.symmetry._sampling import haar_orthogonal, rand_perm

_F64 = torch.float64

#: ``(generator, ctx, coset) -> element``: draws one random element of a factor.
Sampler = Callable[[torch.Generator | None, ActionContext, Coset | None], GroupElement]
#: Lie-algebra generators of a continuous factor.
Generator = Literal["rotation", "translation"]


def _identity(ctx: ActionContext) -> GroupElement:
    return GroupElement("")


@dataclass(frozen=True)
class Factor:
    """One group factor and everything the harness needs to know about it.

    Parameters
    ----------
    name : str
        Registered name, e.g. ``"SO3"``.
    kinds : tuple of str
        Input kinds it acts on.
    description : str
        One line of maths shown in audits and errors.
    sample : Sampler
        ``(generator, ctx, coset) -> GroupElement``: one random element (Haar-uniform for
        rotations); ``coset`` restricts to ``"proper"`` / ``"improper"`` elements.
    identity : callable
        ``ctx -> GroupElement``: the identity (shape-aware for shifts).
    elements : callable or None
        ``ctx -> list[GroupElement]`` for finite factors (identity first), else ``None``.
    improper : bool
        Whether it has an improper coset (reflections).
    continuous : bool
        Whether it is a Lie group.
    dims : tuple of int
        Coordinate dimensions it needs for ``points``.
    generators : tuple of str
        Lie-algebra generators (``"rotation"``, ``"translation"``).
    grid : bool
        Whether it moves grid axes (at most one such factor in a product).
    """

    name: str
    kinds: tuple[str, ...]
    description: str
    sample: Sampler
    identity: Callable[[ActionContext], GroupElement] = _identity
    elements: Callable[[ActionContext], list[GroupElement]] | None = None
    improper: bool = False
    continuous: bool = False
    dims: tuple[int, ...] = (2, 3)
    generators: tuple[Generator, ...] = ()
    grid: bool = False

    @property
    def finite(self) -> bool:
        """Whether :attr:`elements` lists the whole factor."""
        return self.elements is not None


# --------------------------------------------------------------------------- samplers
def _rot(d: int, proper_only: bool) -> Sampler:
    def sample(
        gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None
    ) -> GroupElement:
        dim = ctx.dim or d
        if proper_only or coset == "proper":
            proper = True
        elif coset == "improper":
            proper = False
        else:
            proper = bool(torch.rand((), generator=gen) < 0.5)
        return GroupElement("", rotation=haar_orthogonal(1, dim, gen, proper)[0])

    return sample


def _trans(gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None) -> GroupElement:
    dim = ctx.dim or 3
    return GroupElement("", translation=torch.randn(dim, generator=gen, dtype=_F64) * ctx.scale)


def _perm(gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None) -> GroupElement:
    if ctx.n is None:
        raise ValueError(
            "permutation: the number of rows is needed; pass inputs=... (and kind=...) or ctx=."
        )
    return GroupElement("", perm=rand_perm(ctx.n, gen, ctx.species))


def _shift(gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None) -> GroupElement:
    if ctx.grid is None:
        raise ValueError("shift: the grid size is needed; pass inputs=... (and kind=...).")
    grid = ctx.grid
    while True:
        s = tuple(int(torch.randint(0, n, (), generator=gen)) for n in grid)
        if any(s) or all(n == 1 for n in grid):
            return GroupElement("", shift=s, grid=grid)


def _lattice(gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None) -> GroupElement:
    if ctx.n is None or ctx.pbc is None or not any(ctx.pbc):
        raise ValueError(
            "lattice: lattice translations need periodic atoms (species, positions, cell"
            "[, pbc]) with at least one periodic direction."
        )
    mask = torch.tensor(ctx.pbc, dtype=torch.long)
    while True:
        n = torch.randint(-1, 2, (ctx.n, 3), generator=gen) * mask
        if bool(n.abs().sum() > 0):
            return GroupElement("", lattice=n)


def _shift_identity(ctx: ActionContext) -> GroupElement:
    grid = ctx.grid or ()
    return GroupElement("", shift=tuple(0 for _ in grid), grid=grid)


def _check_square(ctx: ActionContext) -> None:
    if ctx.grid is not None and len(set(ctx.grid)) != 1:
        raise ValueError(
            f"C4/D4: quarter turns need a square image, got H, W = {ctx.grid}. "
            "Crop or pad the image to H == W."
        )


def _dihedral(flips: bool) -> Sampler:
    def sample(
        gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None
    ) -> GroupElement:
        _check_square(ctx)
        turns = int(torch.randint(0, 4, (), generator=gen))
        if not flips or coset == "proper":
            flip = False
        elif coset == "improper":
            flip = True
        else:
            flip = bool(torch.randint(0, 2, (), generator=gen))
        return GroupElement("", turns=turns, flip=flip)

    return sample


def _dihedral_elements(flips: bool) -> Callable[[ActionContext], list[GroupElement]]:
    def elements(ctx: ActionContext) -> list[GroupElement]:
        _check_square(ctx)
        mirrors = (False, True) if flips else (False,)
        return [GroupElement("", turns=k, flip=f) for f in mirrors for k in range(4)]

    return elements


def _trivial_sample(
    gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None
) -> GroupElement:
    return GroupElement("")


# --------------------------------------------------------------------------- registry
_GEOM = ("points", "atoms", "graph")
_ROT3 = ("points", "atoms", "graph", "irreps")
_ROT: tuple[Generator, ...] = ("rotation",)

#: name -> Factor: every primitive group factor.
FACTORS: dict[str, Factor] = {
    f.name: f
    for f in [
        Factor(
            "trivial",
            tuple(INPUT_KINDS),
            "{e}: only the identity",
            _trivial_sample,
            elements=lambda c: [GroupElement("")],
        ),
        Factor(
            "permutation",
            ("points", "set", "atoms", "graph", "irreps"),
            "S_N: reorder rows (atoms: only atoms of equal species; graphs: relabel edges)",
            _perm,
        ),
        Factor(
            "translation",
            _GEOM,
            "T(d): x -> x + t",
            _trans,
            continuous=True,
            generators=("translation",),
        ),
        Factor(
            "SO2",
            ("points", "graph"),
            "SO(2): x -> R x, det R = +1",
            _rot(2, True),
            continuous=True,
            dims=(2,),
            generators=_ROT,
        ),
        Factor(
            "O2",
            ("points", "graph"),
            "O(2): x -> R x, R^T R = 1",
            _rot(2, False),
            improper=True,
            continuous=True,
            dims=(2,),
            generators=_ROT,
        ),
        Factor(
            "SO3",
            _ROT3,
            "SO(3): x -> R x, det R = +1",
            _rot(3, True),
            continuous=True,
            dims=(3,),
            generators=_ROT,
        ),
        Factor(
            "O3",
            _ROT3,
            "O(3): x -> R x, R^T R = 1 (with reflections)",
            _rot(3, False),
            improper=True,
            continuous=True,
            dims=(3,),
            generators=_ROT,
        ),
        Factor(
            "lattice",
            ("atoms",),
            "Z^3 per atom: move atoms by lattice vectors of the periodic cell",
            _lattice,
        ),
        Factor(
            "shift",
            ("image", "signal"),
            "Z_H x Z_W (Z_L): cyclic shifts of the grid",
            _shift,
            identity=_shift_identity,
            grid=True,
        ),
        Factor(
            "C4",
            ("image",),
            "C4: rotations of a square image by multiples of 90 deg",
            _dihedral(False),
            elements=_dihedral_elements(False),
            grid=True,
        ),
        Factor(
            "D4",
            ("image",),
            "D4: 90-degree rotations and mirror images",
            _dihedral(True),
            elements=_dihedral_elements(True),
            improper=True,
            grid=True,
        ),
        Factor(
            "time-shift",
            ("sequence",),
            "Z_T: cyclic shifts of the time axis",
            _shift,
            identity=_shift_identity,
            grid=True,
        ),
    ]
}


def get_factor(name: str) -> Factor:
    """The registered factor ``name`` (a ValueError lists the valid ones)."""
    if name not in FACTORS:
        raise ValueError(f"group factor: unknown factor {name!r}; valid: {list(FACTORS)}.")
    return FACTORS[name]
