"""The result of one symmetry check."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

#: The verdict of a check.
Verdict = Literal["exact", "approximate", "broken"]
#: Where a non-exact error on a grid sits.
Where = Literal["boundary", "interior"]


@dataclass
class ElementError:
    """Error of one group element: ``abs = ||f(g x) - rho(g) f(x)||``, ``rel = abs / ||f(x)||``."""

    element: str
    coset: str
    rel: float
    abs: float


@dataclass
class SymmetryReport:
    """Outcome of :func:`check_equivariance` / :func:`check_invariance` for one group.

    Attributes
    ----------
    group : str
        Group checked.
    kind : str
        Input kind the group acted on.
    out_rep : str
        Representation the output was compared with.
    verdict : str
        ``"exact"`` (``max_rel_error <= tolerance``: round-off), ``"approximate"``
        (error confined to the boundary of a grid, or ``<= approx_tolerance``) or
        ``"broken"`` (otherwise, and for any NaN / inf output).
    max_rel_error, max_abs_error : float
        Worst case over the tested elements (``inf`` when an output was not finite).
    tolerance : float
        Round-off tolerance for the model's dtype (see ``EXACT_TOLERANCE``).
    approx_tolerance : float
        Largest relative error still called approximate off grids (equals ``tolerance``
        unless you set ``approx_tol``).
    dtype : str
        The dtype the model computes in (parameters, else inputs).
    errors : list of ElementError
        One entry per tested element.
    cosets : dict
        Worst relative error per coset (``"proper"`` / ``"improper"``): reflections are
        reported separately from rotations.
    where : str or None
        On images, signals and sequences, for a non-exact verdict: ``"boundary"`` when
        the break is a boundary effect (the error of an output map lies within
        ``boundary_width`` cells of the edges or the seam of the shift; a pooled output is
        equivariant once the input's outer ``boundary_width`` cells are zero), else
        ``"interior"``. Decides approximate vs. broken there.
    culprit : str or None
        First submodule (forward-hook order) whose output stopped transforming like any
        representation it could have (see :func:`localize`).
    noise_floor : float
        Relative change of the output when the input is perturbed by one rounding unit
        of the model's dtype (the model's own round-off level).
    warnings : list of str
        E.g. the input was a fixed point of every tested element (vacuous check), or the
        tolerance was raised above the noise floor.
    """

    group: str
    kind: str
    out_rep: str
    verdict: Verdict
    max_rel_error: float
    max_abs_error: float
    tolerance: float
    approx_tolerance: float
    dtype: str
    errors: list[ElementError] = field(default_factory=list)
    cosets: dict[str, float] = field(default_factory=dict)
    where: Where | None = None
    boundary_width: int | None = None
    culprit: str | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    nonfinite: bool = False
    noise_floor: float = 0.0
    declared: str | None = None
    note: str = ""

    @property
    def holds(self) -> bool:
        """True unless the verdict is ``"broken"``."""
        return self.verdict != "broken"

    @property
    def matches_declaration(self) -> bool | None:
        """Whether the verdict agrees with the declared one (``None`` if none declared).

        A declared ``"approximate"`` is also satisfied by an exact result.
        """
        if self.declared is None:
            return None
        return self.verdict == self.declared or (
            self.declared == "approximate" and self.verdict == "exact"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: ``group, verdict, max_rel_error, max_abs_error, tolerance,
        dtype`` plus details (non-finite errors become ``None``)."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        d: dict[str, Any] = {
            "group": self.group,
            "verdict": self.verdict,
            "max_rel_error": num(self.max_rel_error),
            "max_abs_error": num(self.max_abs_error),
            "tolerance": self.tolerance,
            "dtype": self.dtype,
            "approx_tolerance": self.approx_tolerance,
            "kind": self.kind,
            "out_rep": self.out_rep,
            "cosets": {k: num(v) for k, v in self.cosets.items()},
            "where": self.where,
            "culprit": self.culprit,
            "nonfinite": self.nonfinite,
            "noise_floor": num(self.noise_floor),
            "n_elements": len(self.errors),
            "warnings": list(self.warnings),
        }
        if self.declared is not None:
            d["declared"] = self.declared
        return d

    def summary(self) -> str:
        """One line: group, verdict and worst relative error."""
        extra = []
        if len(self.cosets) > 1:
            extra.append(", ".join(f"{k} {v:.2e}" for k, v in self.cosets.items()))
        if self.where:
            extra.append(
                f"error {'at the boundary' if self.where == 'boundary' else 'in the interior'}"
            )
        if self.culprit:
            extra.append(f"first break: {self.culprit}")
        if self.nonfinite:
            extra.append("non-finite output")
        tail = f" ({'; '.join(extra)})" if extra else ""
        return (
            f"{self.group} on {self.kind} -> {self.out_rep}: {self.verdict}, max rel error "
            f"{self.max_rel_error:.2e} (tolerance {self.tolerance:.0e}, {self.dtype}){tail}"
        )

    def __str__(self) -> str:
        lines = [self.summary()]
        for e in self.errors:
            lines.append(f"  {e.element:<44} {e.coset:<9} rel {e.rel:.3e}  abs {e.abs:.3e}")
        if self.where == "boundary":
            lines.append(
                f"  the error is confined to {self.boundary_width} cell(s) from the edges/seams"
            )
        for t in self.trace:
            if not t.get("ok", True):
                lines.append(
                    f"  first module whose output breaks the symmetry: {t['module']} "
                    f"(output {t['shape']}, best fit {t['best']} rel {t['rel']:.2e})"
                )
                break
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)
