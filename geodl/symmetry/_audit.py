"""Audit: run every group that acts on a kind of input, and tabulate the verdicts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from geodl.symmetry._check import check_equivariance
from geodl.symmetry._context import INPUT_KINDS, as_tuple, compatible_kinds, make_context
from geodl.symmetry._groups import Group, get_group, groups_acting_on
from geodl.symmetry._report import SymmetryReport
from geodl.symmetry._specs import InputSpec, make_inputs, parse_input_spec

_SYMBOL = {"exact": "exact", "approximate": "approx.", "broken": "BROKEN", "vacuous": "vacuous"}
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
        colour = {"exact": "green", "approx.": "yellow", "BROKEN": "bold red", "vacuous": "magenta"}
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
    >>> import torch
    >>> energy = lambda x: torch.cdist(x, x).sum()
    >>> audit(energy, "points:6").verdicts["E3"]
    'exact'
    """
    inputs, kind, label = _audit_input(input_spec, kind, seed)
    gs, skipped = _audit_groups(kind, make_context(kind, inputs), groups)
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
        )  # fmt: skip
        for g in gs
    ]
    return AuditReport(reports, kind, label, out_rep, skipped)


def _audit_input(
    input_spec: str | InputSpec | Tensor | tuple[Tensor, ...], kind: str | None, seed: int
) -> tuple[Any, str, str]:
    """The input, its kind and a label for the table."""
    if isinstance(input_spec, (str, InputSpec)):
        spec = parse_input_spec(input_spec) if isinstance(input_spec, str) else input_spec
        return make_inputs(spec, seed=seed), spec.kind, str(spec)
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
    return inputs, kind, label


def _audit_groups(
    kind: str, ctx: Any, groups: Sequence[str | Group] | None
) -> tuple[list[Group], dict[str, str]]:
    """The groups to check (and those skipped, with the reason)."""
    if groups is not None:
        return [get_group(g) for g in groups], {}
    gs = groups_acting_on(kind, ctx)
    skipped: dict[str, str] = {}
    if kind == "image" and ctx.grid is not None and ctx.grid[0] != ctx.grid[1]:
        skipped = {g.name: "needs a square image" for g in gs if g.name in ("C4", "D4")}
        gs = [g for g in gs if g.name not in skipped]
    return gs, skipped
