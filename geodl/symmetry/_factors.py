r"""The registry of group factors: one record per factor says everything about it.

A group (:class:`geodl.symmetry.Group`) is a product of factors; each :class:`Factor`
knows the input kinds it acts on, how to draw a random element, its identity, the list
of its elements (finite factors), whether it has an improper coset (reflections, tested
separately by the checks) and which Lie-algebra generators it has (for
:func:`geodl.symmetry.lie_derivative`). Adding a group means adding one record here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    interpolated : bool
        Whether its action interpolates (rotations of images by angles that are not
        multiples of 90 degrees): approximate by construction.
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
    interpolated: bool = False

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


def _dihedral(flips: bool, order: int = 4) -> Sampler:
    def sample(
        gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None
    ) -> GroupElement:
        if order not in (1, 2):  # half turns and mirrors work on any rectangle
            _check_square(ctx)
        turns = int(torch.randint(0, order, (), generator=gen))
        if not flips or coset == "proper":
            flip = False
        elif coset == "improper":
            flip = True
        else:
            flip = bool(torch.randint(0, 2, (), generator=gen))
        return GroupElement("", turns=turns, flip=flip, order=order)

    return sample


def _dihedral_elements(
    flips: bool, order: int = 4
) -> Callable[[ActionContext], list[GroupElement]]:
    def elements(ctx: ActionContext) -> list[GroupElement]:
        if order not in (1, 2):  # half turns and mirrors work on any rectangle
            _check_square(ctx)
        mirrors = (False, True) if flips else (False,)
        return [
            GroupElement("", turns=k * 4 // order if order in (1, 2, 4) else k, flip=f,
                         order=4 if order in (1, 2, 4) else order)
            for f in mirrors
            for k in range(order)
        ]  # fmt: skip

    return elements


def dihedral_factor(name: str) -> Factor:
    """The factor ``C<N>`` (rotations of a square image by multiples of 360/N degrees) or
    ``D<N>`` (with mirror images). N = 1, 2, 4 act exactly (``rot90``, ``flip``); other
    N interpolate (approximate by construction)."""
    flips, order = name[0] == "D", int(name[1:])
    if order < 1:
        raise ValueError(f"group {name!r}: N must be >= 1.")
    exact = order in (1, 2, 4)
    step = f"{360 / order:g} deg"
    what = f"rotations by multiples of {step}" + (" and mirror images" if flips else "")
    note = "" if exact else " (interpolated: approximate by construction)"
    return Factor(
        name,
        ("image",),
        f"{name}: {what} of a square image{note}",
        _dihedral(flips, order) if not exact else _exact_dihedral(flips, order),
        elements=_dihedral_elements(flips, order),
        improper=flips,
        grid=True,
        interpolated=not exact,
    )


def _exact_dihedral(flips: bool, order: int) -> Sampler:
    base = _dihedral(flips, order)

    def sample(
        gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None
    ) -> GroupElement:
        g = base(gen, ctx, coset)
        return GroupElement("", turns=g.turns * 4 // order, flip=g.flip)

    return sample


def _cube_elements(proper_only: bool) -> Callable[[ActionContext], list[GroupElement]]:
    def elements(ctx: ActionContext) -> list[GroupElement]:
        if ctx.grid is not None and len(set(ctx.grid)) != 1:
            raise ValueError(
                f"cube groups: rotations of a voxel grid need D == H == W, got {ctx.grid}. "
                "Crop or pad the grid to a cube."
            )
        out = []
        for perm in itertools.permutations(range(3)):
            for signs in itertools.product((1.0, -1.0), repeat=3):
                M = torch.zeros(3, 3, dtype=_F64)
                for k, (i, s) in enumerate(zip(perm, signs, strict=True)):
                    M[k, i] = s
                if proper_only and float(torch.linalg.det(M)) < 0:
                    continue
                out.append(GroupElement("", rotation=M))
        out.sort(key=lambda g: not g.is_identity())
        return out

    return elements


def _cube_sample(proper_only: bool) -> Sampler:
    listing = _cube_elements(proper_only)

    def sample(
        gen: torch.Generator | None, ctx: ActionContext, coset: Coset | None
    ) -> GroupElement:
        els = [g for g in listing(ctx) if coset is None or g.coset == coset]
        return els[int(torch.randint(0, len(els), (), generator=gen))]

    return sample


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
        dihedral_factor("C2"),
        replace(
            dihedral_factor("D2"),
            name="flips",
            description="flips: the horizontal "
            "and vertical mirror images of an image and their product (D2)",
        ),
        Factor(
            "octahedral",
            ("voxels",),
            "O: the 24 rotations of a cubic voxel grid",
            _cube_sample(True),
            elements=_cube_elements(True),
            grid=True,
        ),
        Factor(
            "full-octahedral",
            ("voxels",),
            "O_h: the 48 rotations and reflections of a cubic voxel grid",
            _cube_sample(False),
            elements=_cube_elements(False),
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
    """The registered factor ``name`` (``C<N>`` / ``D<N>`` are made on first use; a
    ValueError lists the valid ones)."""
    if name not in FACTORS and len(name) > 1 and name[0] in "CD" and name[1:].isdigit():
        FACTORS[name] = dihedral_factor(name)
    if name not in FACTORS:
        raise ValueError(f"group factor: unknown factor {name!r}; valid: {list(FACTORS)}.")
    return FACTORS[name]
