"""The result of one symmetry check."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

#: The verdict of a check.
Verdict = Literal["exact", "approximate", "broken", "vacuous"]
#: Where a non-exact error on a grid sits.
Where = Literal["boundary", "interior"]
#: Worst first: the verdict of several outputs is the worst non-vacuous one.
SEVERITY: dict[str, int] = {"broken": 3, "approximate": 2, "exact": 1, "vacuous": 0}


@dataclass
class ElementError:
    """Error of one group element: ``abs = ||f(g x) - rho(g) f(x)||`` and ``rel = abs / S``
    with ``S`` the scale of the input-dependent part of the output."""

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
        ``"exact"`` (every error within the round-off allowance), ``"approximate"``
        (error confined to the boundary of a grid, within ``approx_tolerance``, within
        the measured noise of a non-deterministic model, or a group acting by
        interpolation), ``"broken"`` (otherwise, and for any NaN / inf output) or
        ``"vacuous"`` (nothing was compared: empty or constant output, no tested
        element, or an input fixed by every element). With several outputs: the worst
        non-vacuous verdict of :attr:`outputs`.
    max_rel_error, max_abs_error : float
        Worst case over the tested elements (``inf`` when an output was not finite);
        relative to :attr:`scale`.
    tolerance : float
        The largest relative error still exact (round-off allowance / scale).
    approx_tolerance : float
        Largest relative error still called approximate off grids.
    dtype : str
        The dtype the model computes in (parameters, else inputs).
    errors : list of ElementError
        One entry per tested element.
    cosets : dict
        Worst relative error per coset (``"proper"`` / ``"improper"``).
    where : str or None
        On grids, for a non-exact verdict: ``"boundary"`` or ``"interior"``.
    culprit : str or None
        First submodule whose output stopped transforming (see :func:`localize`).
    noise_floor : float
        Relative change of the output when the input moves by one rounding unit.
    scale : float
        :math:`S`, the size of the input-dependent part of the output.
    deterministic : bool
        Whether repeated calls on the same input returned the same output.
    spread : float
        Relative spread of repeated calls on the same input (0 when deterministic).
    outputs : dict of SymmetryReport
        One full report per named output of dict / tuple outputs (empty for one tensor).
    warnings : list of str
        E.g. the check is vacuous, the model amplifies round-off, it is non-deterministic.
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
    scale: float = 0.0
    deterministic: bool = True
    spread: float = 0.0
    outputs: dict[str, SymmetryReport] = field(default_factory=dict)
    declared: str | None = None
    note: str = ""

    @property
    def holds(self) -> bool:
        """True for ``"exact"`` and ``"approximate"`` (not for broken or vacuous)."""
        return self.verdict in ("exact", "approximate")

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
        dtype`` plus details (non-finite errors become ``None``; ``outputs`` nested)."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        d: dict[str, Any] = {
            "group": self.group,
            "verdict": self.verdict,
            "max_rel_error": num(self.max_rel_error),
            "max_abs_error": num(self.max_abs_error),
            "tolerance": num(self.tolerance),
            "dtype": self.dtype,
            "approx_tolerance": num(self.approx_tolerance),
            "kind": self.kind,
            "out_rep": self.out_rep,
            "cosets": {k: num(v) for k, v in self.cosets.items()},
            "where": self.where,
            "culprit": self.culprit,
            "nonfinite": self.nonfinite,
            "noise_floor": num(self.noise_floor),
            "scale": num(self.scale),
            "deterministic": self.deterministic,
            "spread": num(self.spread),
            "n_elements": len(self.errors),
            "warnings": list(self.warnings),
            "outputs": {k: r.to_dict() for k, r in self.outputs.items()},
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
        if not self.deterministic:
            extra.append(f"non-deterministic, spread {self.spread:.1e}")
        tail = f" ({'; '.join(extra)})" if extra else ""
        return (
            f"{self.group} on {self.kind} -> {self.out_rep}: {self.verdict}, max rel error "
            f"{self.max_rel_error:.2e} (tolerance {self.tolerance:.0e}, {self.dtype}){tail}"
        )

    def __str__(self) -> str:
        lines = [self.summary()]
        for e in self.errors:
            lines.append(f"  {e.element:<44} {e.coset:<9} rel {e.rel:.3e}  abs {e.abs:.3e}")
        for label, r in self.outputs.items():
            lines.append(f"  output {label!r}: {r.summary()}")
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
