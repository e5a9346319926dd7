r"""From measured errors to a verdict and a :class:`SymmetryReport`, output by output.

For output :math:`j` with allowance :math:`A_j` (:func:`allowance`) and scale
:math:`D_j = \max(S_j, A_j - \tau S_j)` (the input-dependent part, or the round-off
floor for round-off-size outputs), the relative error of element :math:`g` is
:math:`\epsilon_j(g) / D_j`. The verdict of the output:

* ``vacuous`` when nothing was compared: the output is empty, no element was tested,
  every element fixes the input, or the output does not depend on the input
  (:math:`S_j` below its round-off floor) and every error is within :math:`A_j`;
* ``broken`` for a NaN / inf output;
* ``exact`` when :math:`\max_g \epsilon_j(g) \le A_j` — ``approximate`` instead for a
  non-deterministic model (its symmetry holds only within the measured noise) and for
  groups that act by interpolation;
* else, on images, signals and sequences, ``approximate`` when the break is a boundary
  effect (e.g. zero padding) and ``broken`` otherwise; elsewhere ``approximate`` up to
  ``approx_tol`` (only when the caller sets it) and ``broken`` above.

Several outputs: the worst non-vacuous verdict (``broken`` > ``approximate`` >
``exact``), ``vacuous`` only when every output is.
"""

from __future__ import annotations

import math

from geodl.symmetry._boundary import GRID_KINDS, framed_boundary, map_boundary, spatial_matches
from geodl.symmetry._measure import CheckSetup, Measurement, OutputMeasure
from geodl.symmetry._outputs import OutRep, eval_mode
from geodl.symmetry._report import SEVERITY, ElementError, SymmetryReport, Verdict
from geodl.symmetry._tolerance import TINY, allowance, exact_tolerance

#: An interpolated action allows this many times what one interpolation does to the output.
INTERPOLATION_FACTOR = 3.0


def _vacuous_reason(setup: CheckSetup, m: Measurement) -> str | None:
    if not setup.elements:
        return "no group element was tested (samples=0 or a trivial group)"
    if setup.group.name != "trivial" and all(g.is_identity() for g in setup.elements):
        return "every tested element is the identity (e.g. all atoms of different species)"
    if m.moved and max(m.moved) < 1e-12:
        return (
            "the input is a fixed point of every tested element (e.g. a constant or "
            "symmetric input); use a generic input"
        )
    return None


def _output_report(
    setup: CheckSetup, m: Measurement, o: OutputMeasure, tol: float | None, approx: float | None
) -> SymmetryReport:
    tau = exact_tolerance(setup.dtype) if tol is None else float(tol)
    y_norm = float(o.y0.norm())
    if tol is None:
        allow = allowance(tau, o.scale, o.ulp, y_norm, setup.dtype, o.noise_sd, m.repeats)
    else:
        allow = tau * max(o.scale, TINY)
    interp = setup.group.interpolated
    allow += INTERPOLATION_FACTOR * o.interp
    denom = max(o.scale, allow - tau * o.scale, TINY)
    rel = [e / denom for e in o.abs_errors]
    worst_abs = max(o.abs_errors, default=0.0)
    atol = allow / denom if approx is None else max(float(approx), allow / denom)
    warnings: list[str] = []
    verdict: Verdict
    reason = _vacuous_reason(setup, m)
    if o.nonfinite or not all(math.isfinite(e) for e in o.abs_errors):
        verdict, warnings = "broken", ["the model returned NaN or inf: never a pass"]
        rel, worst_abs = [math.inf] * len(rel), math.inf
    elif o.y0.numel() == 0 or reason is not None:
        verdict = "vacuous"
        warnings.append(f"the check is vacuous: {reason or 'the output is empty'}")
    elif worst_abs <= allow:
        if o.scale <= allow - tau * o.scale:
            verdict = "vacuous"
            warnings.append(
                "the check is vacuous: the output does not depend on the input (constant, "
                "or round-off size)"
            )
        else:
            verdict = "exact" if m.deterministic and not interp else "approximate"
    else:
        verdict = "approximate" if max(rel) <= atol else "broken"
    if interp:
        warnings.append(
            f"{setup.group.name} acts by interpolation: approximate by construction (one "
            f"interpolation moves the output by {o.interp / max(o.scale, TINY):.1e} of its "
            "input-dependent part; the input was windowed to the inscribed disc)"
        )
    if not m.deterministic:
        warnings.append(
            f"the model is non-deterministic: repeated calls on the same input differ by "
            f"{o.noise_sd / max(y_norm, TINY):.1e} (relative); every output is the mean of "
            f"{m.repeats} calls and errors within {4:g} standard errors count as noise"
        )
    if setup.dtype.is_floating_point and o.ulp > 0.0 and o.scale > 0.0:
        if 10 * o.ulp > tau * o.scale and m.deterministic:
            warnings.append(
                f"the model amplifies round-off: a one-ulp input change moves the output by "
                f"{o.ulp / max(o.scale, TINY):.1e} of its input-dependent part"
            )
    cosets: dict[str, float] = {}
    errors = []
    for g, r, a in zip(setup.elements, rel, o.abs_errors, strict=False):
        cosets[g.coset] = max(cosets.get(g.coset, 0.0), r)
        errors.append(ElementError(repr(g), g.coset, r, a))
    return SymmetryReport(
        group=setup.group.name,
        kind=setup.kind,
        out_rep=o.rep,
        verdict=verdict,
        max_rel_error=max(rel, default=0.0),
        max_abs_error=worst_abs,
        tolerance=allow / denom,
        approx_tolerance=atol,
        dtype=str(setup.dtype).replace("torch.", ""),
        errors=errors,
        cosets=cosets,
        nonfinite=o.nonfinite,
        noise_floor=o.ulp / max(o.scale, TINY),
        scale=o.scale,
        deterministic=m.deterministic,
        spread=o.noise_sd / max(y_norm, TINY),
        warnings=warnings,
    )


def combine(reports: list[SymmetryReport], labels: list[str], out_rep: str) -> SymmetryReport:
    """One report for several outputs: the worst non-vacuous one, with :attr:`outputs`."""
    if len(reports) == 1 and labels == [""]:
        return reports[0]
    live = [r for r in reports if r.verdict != "vacuous"] or reports
    worst = max(live, key=lambda r: (SEVERITY[r.verdict], r.max_rel_error))
    top = SymmetryReport(**{**vars(worst), "outputs": {}, "warnings": [], "errors": []})
    top.out_rep = out_rep
    top.max_abs_error = max((r.max_abs_error for r in live), default=0.0)
    for i, e in enumerate(worst.errors):
        rel = max(r.errors[i].rel for r in live if i < len(r.errors))
        ab = max(r.errors[i].abs for r in live if i < len(r.errors))
        top.errors.append(ElementError(e.element, e.coset, rel, ab))
    top.cosets = {k: max(r.cosets.get(k, 0.0) for r in live) for k in worst.cosets}
    top.max_rel_error = max((r.max_rel_error for r in live), default=0.0)
    top.nonfinite = any(r.nonfinite for r in reports)
    top.outputs = dict(zip(labels, reports, strict=False))
    for label, r in top.outputs.items():
        top.warnings += [f"output {label!r}: {w}" for w in r.warnings]
    return top


def build_report(
    setup: CheckSetup,
    m: Measurement,
    *,
    tol: float | None,
    approx_tol: float | None,
    out_rep: OutRep,
) -> SymmetryReport:
    """The report of a measurement: one per output, combined."""
    reports = []
    for o in m.outputs:
        r = _output_report(setup, m, o, tol, approx_tol)
        refine_on_grid(r, setup, m, o)
        reports.append(r)
    name = out_rep if isinstance(out_rep, str) else str(out_rep)
    return combine(reports, [o.label for o in m.outputs], name)


def refine_on_grid(
    report: SymmetryReport, setup: CheckSetup, m: Measurement, o: OutputMeasure
) -> None:
    """On grids, tell a boundary effect (``approximate``) from a real break (``broken``).

    For a feature-map output, the error must be confined to a band of at most a quarter
    of the grid along the edges and the seam of the shift; for a pooled output, the
    symmetry must hold to ``10 * tol`` once the input's outer cells are zero (unit shifts
    for shift groups). Sets ``report.where`` / ``report.boundary_width`` and the verdict.
    """
    g_w, diff_w = o.worst
    if report.verdict in ("exact", "vacuous") or o.nonfinite or g_w is None or diff_w is None:
        return
    if setup.kind not in GRID_KINDS or setup.ctx.grid is None or not m.deterministic:
        return
    tol = report.tolerance
    if o.rep == "equivariant" and spatial_matches(diff_w, setup.ctx.grid, setup.kind):
        ref = float(o.y0.norm())
        report.where, report.boundary_width = map_boundary(diff_w, g_w, setup.kind, ref, tol)
    else:
        with eval_mode(setup.model):
            report.where, report.boundary_width = framed_boundary(
                setup.model, setup.group, setup.ctx, setup.x64, setup.kind, setup.dtype,
                m.reps, 10 * exact_tolerance(setup.dtype), setup.device,
            )  # fmt: skip
    # a break confined to the boundary is approximate, one inside is broken whatever its
    # size (unless below an approx_tol the caller set)
    within = report.max_rel_error <= report.approx_tolerance
    report.verdict = "approximate" if report.where == "boundary" or within else "broken"
