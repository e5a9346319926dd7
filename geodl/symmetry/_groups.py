r"""Groups: named products of registered factors, and how to draw their elements.

A :class:`Group` is a product of factors of :data:`geodl.symmetry._factors.FACTORS`
(e.g. E(3) = T(3) x O(3)); its elements are :class:`GroupElement` values drawn factor by
factor and composed. Composition ``g @ h`` means "apply ``h`` first, then ``g``".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from geodl.symmetry._context import INPUT_KINDS, ActionContext, infer_kind, make_context
from geodl.symmetry._element import Coset, GroupElement
from geodl.symmetry._factors import FACTORS, Factor, get_factor
from geodl.symmetry._sampling import haar_orthogonal, rotation_about

__all__ = [
    "GROUPS",
    "Group",
    "GroupElement",
    "get_group",
    "groups_acting_on",
    "haar_orthogonal",
    "product",
    "rotation_about",
]


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
    factors : tuple of str
        Names of its factors in :data:`geodl.symmetry._factors.FACTORS` (empty: the
        group is the factor of its own name).

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
        if ctx is None:
            return True
        if kind == "points" and ctx.dim not in self.dims:
            return False
        if "lattice" in self._factor_names() and not any(ctx.pbc or ()):
            return False
        if kind == "graph":
            gens = {k for f in self.factor_records for k in f.generators}
            if "translation" in gens and ctx.dim is None:
                return False
            if "rotation" in gens and ctx.dim not in self.dims and not ctx.in_irreps:
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
            if kind == "graph":
                got = "no pos" if ctx.dim is None else f"pos of dimension {ctx.dim}"
                raise ValueError(
                    f"group {self.name!r} acts on graphs through node positions pos (N, "
                    f"{'/'.join(map(str, self.dims))}) or node features with in_rep=<irreps>; "
                    f"this graph has {got}. Pass (x, edge_index, pos) or a Data with pos, "
                    "or in_rep=..."
                )
            raise ValueError(
                f"group {self.name!r} acts on {kind!r} of dimension {list(self.dims)}, got "
                f"dimension {ctx.dim}. Use SO2/O2 for 2D points and SO3/O3/SE3/E3 for 3D."
            )

    # -- elements -------------------------------------------------------------------
    def context(
        self, ctx: ActionContext | None = None, kind: str | None = None, inputs: Any = None
    ) -> ActionContext:
        """The :class:`ActionContext` of an input (given, made from ``inputs``, or the
        natural one of the group when there is no input)."""
        if ctx is not None:
            return ctx
        if inputs is not None:
            kind = kind or infer_kind(self, inputs)
            c = make_context(kind, inputs)
            self.check_acts_on(kind, c)
            return c
        # no input: coordinates of the natural dimension, no rows / grid
        return ActionContext(kind or self.kinds[0], dim=2 if self.dims == (2,) else 3)

    def identity(
        self, *, ctx: ActionContext | None = None, kind: str | None = None, inputs: Any = None
    ) -> GroupElement:
        """The identity element (acts trivially on every input)."""
        c = self.context(ctx, kind, inputs)
        g = GroupElement(self.name)
        for f in self.factor_records:
            g = g @ f.identity(c)
        return replace(g, group=self.name)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        *,
        ctx: ActionContext | None = None,
        kind: str | None = None,
        inputs: Any = None,
        coset: Coset | None = None,
    ) -> list[GroupElement]:
        """``n`` random elements (Haar-uniform for rotations).

        Groups whose elements depend on the input (permutations need ``N``, shifts the
        grid size) take the input through ``inputs=`` (and ``kind=``) or ``ctx=``.
        ``coset="improper"`` draws only reflections (O(2), O(3), E(3), D4),
        ``"proper"`` only rotations.
        """
        if n < 0:
            raise ValueError(f"sample: 'n' must be >= 0, got {n}.")
        c = self.context(ctx, kind, inputs)
        out = []
        for _ in range(n):
            g = GroupElement(self.name)
            for f in self.factor_records:
                g = g @ f.sample(generator, c, coset)
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
        c = self.context(ctx, kind, inputs)
        els = [GroupElement(self.name)]
        for f in self.factor_records:
            assert f.elements is not None  # finite factors list their elements
            els = [a @ b for a in els for b in f.elements(c)]
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
        return any(f.improper for f in self.factor_records)

    @property
    def interpolated(self) -> bool:
        """Whether some element acts by interpolation (approximate by construction)."""
        return any(f.interpolated for f in self.factor_records)

    @property
    def factor_records(self) -> tuple[Factor, ...]:
        """The :class:`Factor` records of the group, in the order elements are drawn."""
        return tuple(get_factor(f) for f in self.factors or (self.name,))

    def _factor_names(self) -> tuple[str, ...]:
        return self.factors or (self.name,)

    def __str__(self) -> str:
        return self.name


def _of(factor: Factor) -> Group:
    return Group(
        factor.name,
        factor.kinds,
        factor.description,
        finite=factor.finite,
        continuous=factor.continuous,
        dims=factor.dims,
    )


def _named(name: str, description: str, *factors: str) -> Group:
    return replace(product(*factors), name=name, description=description)


def _build_registry() -> dict[str, Group]:
    g = {name: _of(f) for name, f in FACTORS.items()}
    named = {
        "SE2": _named("SE2", "SE(2): x -> R x + t, det R = +1", "translation", "SO2"),
        "E2": _named("E2", "E(2): x -> R x + t, R in O(2)", "translation", "O2"),
        "SE3": _named("SE3", "SE(3): x -> R x + t, det R = +1", "translation", "SO3"),
        "E3": _named("E3", "E(3): x -> R x + t, R in O(3)", "translation", "O3"),
    }
    order = ["trivial", "permutation", "translation", "SO2", "O2", "SE2", "E2", "SO3", "O3"]
    order += ["SE3", "E3", "shift", "C4", "D4", "time-shift"]
    everything = {**g, **named}
    return {name: everything[name] for name in order} | {
        k: v for k, v in everything.items() if k not in order
    }


def get_group(name: str | Group) -> Group:
    """Resolve a registered group name (or a product ``"E3 x permutation"``).

    Parameters
    ----------
    name : str or Group
        One of :data:`GROUPS`, or several joined by ``" x "`` / ``"*"`` for a product.

    Examples
    --------
    >>> get_group("SO3").kinds
    ('points', 'atoms', 'graph', 'irreps')
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
    if key not in _REGISTRY and len(key) > 1 and key[0] in "CD" and key[1:].isdigit():
        return _of(get_factor(key))  # C<N> / D<N>, made on demand (not audited by default)
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
    ('points', 'atoms', 'graph')
    """
    gs = [g if isinstance(g, Group) else _lookup(g) for g in groups]
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
    if sum(any(f.grid for f in g.factor_records) for g in gs) > 1:
        raise ValueError(
            "product: combining shifts with C4/D4 (or other grid groups) is not supported; "
            "check them separately."
        )
    return Group(
        "*".join(g.name for g in gs),
        kinds,
        " x ".join(g.description.split(":")[0] for g in gs),
        finite=all(g.finite for g in gs),
        continuous=any(g.continuous for g in gs),
        dims=tuple(d for d in (2, 3) if all(d in g.dims for g in gs)),
        factors=tuple(f for g in gs for f in g._factor_names()),
    )


def _lookup(name: str) -> Group:
    # while the registry is being built, factors resolve directly
    if "_REGISTRY" not in globals() and name in FACTORS:
        return _of(FACTORS[name])
    return get_group(name)


def groups_acting_on(kind: str, ctx: ActionContext | None = None) -> list[Group]:
    """Every registered non-trivial group that acts on ``kind`` (and this input's dimension)."""
    return [
        g
        for name, g in _REGISTRY.items()
        if name != "trivial"
        and g.acts_on(kind, ctx)
        and not (kind == "atoms" and name in ("SO2", "O2", "SE2", "E2"))
    ]


#: name -> Group: every registered group.
_REGISTRY: dict[str, Group] = _build_registry()
#: Registered group names and one-line descriptions.
GROUPS: dict[str, str] = {name: g.description for name, g in _REGISTRY.items()}
