"""Input SPECs (``points:8``, ``image:1,16,16``, ...) and the generic inputs made from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

_SPEC_FORMS = {
    "points": "points:N or points:N,d (d = 2 or 3; default 3)",
    "set": "set:N,F",
    "image": "image:C,H,W",
    "signal": "signal:C,L",
    "sequence": "sequence:T,F",
    "atoms": "atoms:N or atoms:N,pbc (with a periodic cell)",
    "graph": "graph:N,F (x (N, F), edge_index of a radius graph, pos (N, 3))",
}


@dataclass(frozen=True)
class InputSpec:
    """A parsed input SPEC such as ``points:8`` or ``image:1,16,16``."""

    kind: str
    shape: tuple[int, ...]
    pbc: bool = False

    def __str__(self) -> str:
        body = ",".join(str(s) for s in self.shape) + (",pbc" if self.pbc else "")
        return f"{self.kind}:{body}"


def parse_input_spec(text: str) -> InputSpec:
    """Parse ``KIND:SIZES`` (see the CLI): ``points:N``, ``points:N,d``, ``set:N,F``,
    ``image:C,H,W``, ``signal:C,L``, ``sequence:T,F``, ``atoms:N``, ``atoms:N,pbc``.

    Examples
    --------
    >>> parse_input_spec("image:1,8,8")
    InputSpec(kind='image', shape=(1, 8, 8), pbc=False)
    """
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(
            f"input spec: expected KIND:SIZES, e.g. 'points:8' or 'image:1,16,16', got {text!r}. "
            f"Valid forms: {list(_SPEC_FORMS.values())}."
        )
    kind, _, body = text.partition(":")
    kind = kind.strip()
    if kind not in _SPEC_FORMS:
        raise ValueError(
            f"input spec: unknown kind {kind!r} in {text!r}; valid kinds: {list(_SPEC_FORMS)} "
            f"({'; '.join(_SPEC_FORMS.values())})."
        )
    parts = [p.strip() for p in body.split(",") if p.strip()]
    pbc = False
    if kind == "atoms" and parts and parts[-1].lower() == "pbc":
        pbc, parts = True, parts[:-1]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"input spec: sizes must be integers in {text!r}; expected {_SPEC_FORMS[kind]}."
        ) from None
    want = {
        "points": (1, 2),
        "set": (2,),
        "image": (3,),
        "signal": (2,),
        "sequence": (2,),
        "atoms": (1,),
        "graph": (2,),
    }[kind]
    if len(sizes) not in want or any(s < 1 for s in sizes):
        raise ValueError(
            f"input spec: {text!r} has the wrong sizes; expected {_SPEC_FORMS[kind]} with "
            "positive integers."
        )
    if kind == "points":
        if len(sizes) == 1:
            sizes = (sizes[0], 3)
        if sizes[1] not in (2, 3):
            raise ValueError(
                f"input spec: points must be 2D or 3D, got d = {sizes[1]} in {text!r}."
            )
    if kind in ("points", "atoms", "set", "graph") and sizes[0] < 2:
        raise ValueError(f"input spec: {text!r} needs at least 2 points / atoms.")
    return InputSpec(kind, sizes, pbc)


def _lattice_points(n: int, d: int, gen: torch.Generator) -> Tensor:
    side = math.ceil(n ** (1.0 / d))
    grid = torch.stack(
        torch.meshgrid(*[torch.arange(side, dtype=torch.float64)] * d, indexing="ij"), -1
    ).reshape(-1, d)
    pick = torch.randperm(grid.shape[0], generator=gen)[:n]
    return 1.5 * grid[pick] + 0.3 * (2 * torch.rand(n, d, generator=gen, dtype=torch.float64) - 1)


def make_inputs(
    spec: str | InputSpec, seed: int = 0, dtype: torch.dtype = torch.float64
) -> Tensor | tuple[Tensor, ...]:
    """A generic (non-degenerate) random input for a SPEC.

    Points and atoms sit on a jittered cubic lattice of spacing 1.5 (no two closer
    than 0.9); atoms get two species, shuffled; ``atoms:N,pbc`` adds a cubic cell around
    the lattice (rows are lattice vectors). Grids and sets are standard normal.

    Examples
    --------
    >>> species, pos = make_inputs("atoms:6")
    >>> pos.shape, species.dtype
    (torch.Size([6, 3]), torch.int64)
    """
    sp = parse_input_spec(spec) if isinstance(spec, str) else spec
    gen = torch.Generator().manual_seed(seed)
    if sp.kind == "graph":
        pos = _lattice_points(sp.shape[0], 3, gen)
        x = torch.randn(sp.shape[0], sp.shape[1], generator=gen, dtype=torch.float64)
        dist = torch.cdist(pos, pos)
        src, dst = torch.nonzero((dist < 2.2) & (dist > 0), as_tuple=True)
        return x.to(dtype), torch.stack([src, dst]), pos.to(dtype)
    if sp.kind in ("points", "atoms"):
        n = sp.shape[0]
        d = sp.shape[1] if sp.kind == "points" else 3
        side = math.ceil(n ** (1.0 / d))
        pos = _lattice_points(n, d, gen)
        if sp.kind == "points":
            return pos.to(dtype)
        species = (torch.arange(n) % 2)[torch.randperm(n, generator=gen)]
        if sp.pbc:
            cell = torch.eye(3, dtype=torch.float64) * 1.5 * side
            return species, pos.to(dtype), cell.to(dtype)
        return species, pos.to(dtype)
    return torch.randn(*sp.shape, generator=gen, dtype=torch.float64).to(dtype)
