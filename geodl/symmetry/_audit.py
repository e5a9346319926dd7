"""Audit: run every group that acts on a kind of input, and tabulate the verdicts."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._context import INPUT_KINDS, as_tuple, compatible_kinds, make_context
from geodl.symmetry._groups import Group, get_group, groups_acting_on
from geodl.symmetry._report import SymmetryReport

_SPEC_FORMS = {
    "points": "points:N or points:N,d (d = 2 or 3; default 3)",
    "set": "set:N,F",
    "image": "image:C,H,W",
    "signal": "signal:C,L",
    "sequence": "sequence:T,F",
    "atoms": "atoms:N or atoms:N,pbc (with a periodic cell)",
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
    if kind in ("points", "atoms", "set") and sizes[0] < 2:
        raise ValueError(f"input spec: {text!r} needs at least 2 points / atoms.")
    return InputSpec(kind, sizes, pbc)


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
    if sp.kind in ("points", "atoms"):
        n = sp.shape[0]
        d = sp.shape[1] if sp.kind == "points" else 3
        side = math.ceil(n ** (1.0 / d))
        grid = torch.stack(
            torch.meshgrid(*[torch.arange(side, dtype=torch.float64)] * d, indexing="ij"), -1
        ).reshape(-1, d)
        pick = torch.randperm(grid.shape[0], generator=gen)[:n]
        pos = 1.5 * grid[pick] + 0.3 * (
            2 * torch.rand(n, d, generator=gen, dtype=torch.float64) - 1
        )
        if sp.kind == "points":
            return pos.to(dtype)
        species = (torch.arange(n) % 2)[torch.randperm(n, generator=gen)]
        if sp.pbc:
            cell = torch.eye(3, dtype=torch.float64) * 1.5 * side
            return species, pos.to(dtype), cell.to(dtype)
        return species, pos.to(dtype)
    return torch.randn(*sp.shape, generator=gen, dtype=torch.float64).to(dtype)


_SYMBOL = {"exact": "exact", "approximate": "approx.", "broken": "BROKEN"}
_HEADER = ("group", "verdict", "max rel err", "max abs err", "tolerance", "dtype", "notes")


@dataclass
class AuditReport:
    """Verdicts of every group acting on one input: a table (``str``) and JSON.

    Attributes
    ----------
    reports : list of SymmetryReport
        One per group, in registry order.
    kind : str
        Input kind audited.
    spec : str
        Input SPEC (or a description of the given input).
    out_rep : str
        Output representation checked.
    """

    reports: list[SymmetryReport]
    kind: str
    spec: str
    out_rep: str
    skipped: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[SymmetryReport]:
        return iter(self.reports)

    def __len__(self) -> int:
        return len(self.reports)

    def __getitem__(self, group: str) -> SymmetryReport:
        for r in self.reports:
            if r.group == group:
                return r
        raise KeyError(f"audit: no report for group {group!r}; have {list(self.verdicts)}.")

    @property
    def verdicts(self) -> dict[str, str]:
        """``{group: verdict}``."""
        return {r.group: r.verdict for r in self.reports}

    def to_list(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per group (see :meth:`SymmetryReport.to_dict`)."""
        return [r.to_dict() for r in self.reports]

    def to_json(self, indent: int | None = 2) -> str:
        """The audit as a JSON list."""
        return json.dumps(self.to_list(), indent=indent)

    def rows(self) -> list[list[str]]:
        """Table rows: group, verdict, max rel error, max abs error, tolerance, dtype, notes."""
        rows = []
        for r in self.reports:
            notes = []
            if len(r.cosets) > 1:
                notes.append(" / ".join(f"{k} {v:.1e}" for k, v in r.cosets.items()))
            if r.where:
                notes.append(r.where)
            if r.culprit:
                notes.append(f"first break: {r.culprit}")
            notes += r.warnings[:1]
            rows.append(
                [
                    r.group,
                    _SYMBOL[r.verdict],
                    f"{r.max_rel_error:.2e}",
                    f"{r.max_abs_error:.2e}",
                    f"{r.tolerance:.0e}",
                    r.dtype,
                    "; ".join(notes),
                ]
            )
        return rows

    def __str__(self) -> str:
        header = list(_HEADER)
        body = self.rows()
        widths = [max(len(x) for x in col) for col in zip(header, *body, strict=False)]

        def line(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)).rstrip()

        out = [
            f"audit: {self.spec} -> {self.out_rep}",
            line(header),
            line(["-" * w for w in widths]),
        ]
        out += [line(r) for r in body]
        out += [f"skipped {g}: {why}" for g, why in self.skipped.items()]
        return "\n".join(out)

    def print(self) -> None:
        """Print the table with ``rich`` (colours in a terminal), or plain text."""
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:  # pragma: no cover - rich is a dependency
            print(self)
            return
        colour = {"exact": "green", "approx.": "yellow", "BROKEN": "bold red"}
        table = Table(title=f"audit: {self.spec} -> {self.out_rep}")
        for h in _HEADER:
            table.add_column(h)
        for row in self.rows():
            row = list(row)
            row[1] = f"[{colour[row[1]]}]{row[1]}[/]"
            table.add_row(*row)
        Console().print(table)
        for g, why in self.skipped.items():
            print(f"skipped {g}: {why}")


def audit(
    model: Callable[..., Any],
    input_spec: str | InputSpec | Tensor | tuple[Tensor, ...],
    out_rep: str = "invariant",
    *,
    kind: str | None = None,
    groups: Sequence[str | Group] | None = None,
    samples: int = 8,
    seed: int = 0,
    tol: float | None = None,
    approx_tol: float | None = None,
    localize: bool = True,
) -> AuditReport:
    """Check every group that acts on the input kind and tabulate exact / approximate /
    broken.

    Parameters
    ----------
    model : callable
        Called on one unbatched input, ``model(*inputs)``.
    input_spec : str, InputSpec, Tensor or tuple of Tensor
        A SPEC (``"points:8"``, ``"image:1,16,16"``, ``"atoms:6"``, ...) from which a
        generic input is made with :func:`make_inputs`, or the input itself.
    out_rep : str
        Output representation (same for every group), e.g. ``"invariant"``,
        ``"equivariant"``, ``"per-point:vector"``.
    kind : str, optional
        Input kind when ``input_spec`` is a tensor with an ambiguous layout.
    groups : sequence, optional
        Groups to check (default: every registered group acting on the kind; C4 and D4
        are skipped for non-square images).

    Returns
    -------
    AuditReport
        ``str()`` is a table, ``.to_json()`` a JSON list, ``.verdicts`` a dict.

    Examples
    --------
    >>> energy = lambda x: torch.cdist(x, x).sum()
    >>> audit(energy, "points:6").verdicts["E3"]
    'exact'
    """
    from geodl.symmetry._check import check_equivariance

    if isinstance(input_spec, (str, InputSpec)):
        spec = parse_input_spec(input_spec) if isinstance(input_spec, str) else input_spec
        inputs = make_inputs(spec, seed=seed)
        kind = spec.kind
        label = str(spec)
    else:
        inputs = input_spec
        if kind is None:
            kinds = compatible_kinds(inputs)
            if not kinds:
                raise ValueError(
                    "audit: 'input_spec' must be a SPEC string (e.g. 'points:8') or one input "
                    f"laid out as {list(INPUT_KINDS)}; got {type(input_spec).__name__}."
                )
            kind = kinds[0]
        label = f"{kind}:" + ",".join("x".join(str(s) for s in t.shape) for t in as_tuple(inputs))
    ctx = make_context(kind, inputs)
    skipped: dict[str, str] = {}
    if groups is None:
        gs = groups_acting_on(kind, ctx)
        if kind == "image" and ctx.grid is not None and ctx.grid[0] != ctx.grid[1]:
            skipped = {g.name: "needs a square image" for g in gs if g.name in ("C4", "D4")}
            gs = [g for g in gs if g.name not in skipped]
    else:
        gs = [get_group(g) for g in groups]
    reports = [
        check_equivariance(
            model,
            g,
            inputs,
            kind=kind,
            out_rep=out_rep,
            samples=samples,
            seed=seed,
            tol=tol,
            approx_tol=approx_tol,
            localize=localize,
        )
        for g in gs
    ]
    return AuditReport(reports, kind, label, out_rep, skipped)
