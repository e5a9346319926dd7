"""From measured errors to a verdict and a :class:`SymmetryReport`.

Verdicts: ``exact`` if the worst relative error is at most the round-off tolerance.
Else, on images, signals and sequences, ``approximate`` when the break is a boundary
effect (e.g. zero padding) and ``broken`` otherwise; elsewhere ``approximate`` up to
``approx_tol`` (only when the caller sets it) and ``broken`` above. NaN / inf outputs
are always ``broken``.
"""

from __future__ import annotations

import math

from geodl.symmetry._boundary import GRID_KINDS, framed_boundary, map_boundary, spatial_matches
from geodl.symmetry._measure import CheckSetup, Measurement
from geodl.symmetry._outputs import OutRep, eval_mode
from geodl.symmetry._report import SymmetryReport, Verdict
from geodl.symmetry._tolerance import NOISE_FACTOR, exact_tolerance


def verdict_of(max_rel: float, tol: float, atol: float, nonfinite: bool) -> Verdict:
    """``exact`` up to ``tol``, ``approximate`` up to ``atol``, else ``broken``."""
    if nonfinite or not math.isfinite(max_rel):
        return "broken"
    if max_rel <= tol:
        return "exact"
    return "approximate" if max_rel <= atol else "broken"


def _warnings(setup: CheckSetup, m: Measurement, tol: float, dtype: str) -> list[str]:
    out = []
    if m.floor * NOISE_FACTOR > exact_tolerance(setup.dtype):
        out.append(
            f"the model amplifies round-off: relative noise floor {m.floor:.1e} for inputs "
            f"perturbed at the {dtype} epsilon; tolerance raised to {tol:.1e}"
        )
    if m.nonfinite:
        out.append("the model returned NaN or inf: never a pass")
    if m.moved and max(m.moved) < 1e-12:
        out.append(
            "the input is a fixed point of every tested element (e.g. a constant or symmetric "
            "input): the check is vacuous; use a generic input"
        )
    if setup.group.name != "trivial" and all(g.is_identity() for g in setup.elements):
        out.append(
            "every tested element is the identity (e.g. all atoms of different species): "
            "the check is vacuous"
        )
    return out


def build_report(
    setup: CheckSetup, m: Measurement, *, tol: float, atol: float, out_rep: OutRep
) -> SymmetryReport:
    """The report of a measurement (verdict from the worst relative error)."""
    max_rel = max(e.rel for e in m.errors)
    max_abs = max(e.abs for e in m.errors)
    verdict = verdict_of(max_rel, tol, atol, m.nonfinite)
    if m.nonfinite or not math.isfinite(max_rel):
        max_rel = max_abs = math.inf
    cosets: dict[str, float] = {}
    for e in m.errors:
        cosets[e.coset] = max(cosets.get(e.coset, 0.0), e.rel)
    dtype = str(setup.dtype).replace("torch.", "")
    return SymmetryReport(
        group=setup.group.name,
        kind=setup.kind,
        out_rep=out_rep if isinstance(out_rep, str) else str(out_rep),
        verdict=verdict,
        max_rel_error=max_rel,
        max_abs_error=max_abs,
        tolerance=tol,
        approx_tolerance=atol,
        dtype=dtype,
        errors=m.errors,
        cosets=cosets,
        nonfinite=m.nonfinite,
        noise_floor=m.floor,
        warnings=_warnings(setup, m, tol, dtype),
    )


def refine_on_grid(report: SymmetryReport, setup: CheckSetup, m: Measurement) -> None:
    """On grids, tell a boundary effect (``approximate``) from a real break (``broken``).

    For a feature-map output, the error must be confined to a band of at most a quarter
    of the grid along the edges and the seam of the shift; for a pooled output, the
    symmetry must hold to ``10 * tol`` once the input's outer cells are zero (unit shifts
    for shift groups). Sets ``report.where`` / ``report.boundary_width`` and the verdict.
    """
    g_w, diff_w, j_w = m.worst
    if report.verdict == "exact" or m.nonfinite or g_w is None or diff_w is None:
        return
    if setup.kind not in GRID_KINDS or setup.ctx.grid is None:
        return
    tol = report.tolerance
    if m.reps[j_w] == "equivariant" and spatial_matches(diff_w, setup.ctx.grid, setup.kind):
        ref = float(m.y0[j_w][1].norm())
        report.where, report.boundary_width = map_boundary(diff_w, g_w, setup.kind, ref, tol)
    else:
        with eval_mode(setup.model):
            report.where, report.boundary_width = framed_boundary(
                setup.model,
                setup.group,
                setup.ctx,
                setup.x64,
                setup.kind,
                setup.dtype,
                m.reps,
                10 * tol,
                setup.device,
            )
    # a break confined to the boundary is approximate, one inside is broken whatever its
    # size (unless below an approx_tol the caller set)
    within = report.max_rel_error <= report.approx_tolerance
    report.verdict = "approximate" if report.where == "boundary" or within else "broken"
