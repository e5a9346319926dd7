r"""Invariance / equivariance checks of arbitrary models.

For sampled group elements :math:`g` the checks measure

.. math::

    \epsilon_{\mathrm{abs}}(g) = \lVert f(g \cdot x) - \rho(g)\, f(x) \rVert, \qquad
    \epsilon_{\mathrm{rel}}(g) = \frac{\epsilon_{\mathrm{abs}}(g)}
                                      {\max(\lVert f(x) \rVert, \mathrm{tiny})}

with the group acting in float64 on the input, which is then cast to the dtype of the
model. The worst relative error gives the verdict: ``exact`` up to the round-off
tolerance of that dtype (:data:`EXACT_TOLERANCE`), raised to 100 times the model's
noise floor (the relative change of its output when the input is perturbed by one
rounding unit of its dtype, at most ``1e-2``) for models that amplify round-off — with a
warning in the report; ``approximate`` when the error is confined to the boundary of a
grid (zero padding) or below a tolerance ``approx_tol`` you set; else ``broken``. A NaN
or inf output is always ``broken``.

The steps live in their own modules: input kinds (``_context``), the measurement
(``_measure``), tolerances (``_tolerance``), boundary effects on grids (``_boundary``),
verdict and report (``_verdict``), and localisation (``_localize``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from geodl.symmetry._context import infer_kind
from geodl.symmetry._groups import Group
from geodl.symmetry._localize import localize as localize_break
from geodl.symmetry._measure import CheckSetup, Measurement, measure
from geodl.symmetry._outputs import OutRep, eval_mode
from geodl.symmetry._report import SymmetryReport
from geodl.symmetry._verdict import build_report

__all__ = [
    "SymmetryError",
    "assert_equivariant",
    "assert_invariant",
    "check_equivariance",
    "check_invariance",
    "infer_kind",
]


class SymmetryError(AssertionError):
    """Raised by :func:`assert_invariant` / :func:`assert_equivariant`; carries ``.report``."""

    def __init__(self, message: str, report: SymmetryReport) -> None:
        super().__init__(message)
        self.report = report


def check_equivariance(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    *,
    kind: str | None = None,
    in_rep: str | None = None,
    out_rep: OutRep = "equivariant",
    samples: int = 8,
    tol: float | None = None,
    approx_tol: float | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    seed: int = 0,
    localize: bool = True,
    module_reps: Mapping[str, str] | None = None,
) -> SymmetryReport:
    r"""Measure how far ``f(g x)`` is from ``rho(g) f(x)`` over sampled group elements.

    .. math::

        \epsilon_{\mathrm{rel}} = \max_g \frac{\lVert f(g \cdot x) - \rho(g) f(x)\rVert}
                                               {\max(\lVert f(x)\rVert, \mathrm{tiny})}

    Parameters
    ----------
    model : callable
        Called as ``model(*inputs)`` on one unbatched input (eval mode during the check).
    group : str or Group
        E.g. ``"SO3"``, ``"E3 x permutation"`` (see :data:`GROUPS`).
    inputs : Tensor or tuple of Tensor
        One generic input (see :data:`INPUT_KINDS`), not a fixed point of the group.
    kind, in_rep : str, optional
        Input kind (``in_rep`` is an alias); inferred from the layout when omitted.
    out_rep : str, or dict / sequence of str for several outputs
        Output representation (see :data:`REPRESENTATIONS`).
    samples : int
        Random elements of infinite groups (finite groups: every non-identity element);
        groups with reflections test half proper, half improper elements.
    tol, approx_tol : float, optional
        Round-off tolerance (default: calibrated, see the module notes) and the largest
        relative error still ``"approximate"`` off grid boundaries (default: none).
    dtype, device : optional
        Where the model computes (default: detected, :func:`model_dtype`).
    generator, seed
        Randomness of the sampled elements.
    localize, module_reps
        On a non-exact verdict, name the first breaking submodule (:func:`localize`).

    Returns
    -------
    SymmetryReport

    Shapes
    ------
    inputs: one unbatched input; output: any shape matching ``out_rep``.

    Examples
    --------
    >>> f = lambda x: x - x.mean(0)          # centring: E(3) x S_N equivariant up to t
    >>> x = torch.randn(5, 3, dtype=torch.float64)
    >>> check_equivariance(f, "SO3", x).verdict
    'exact'
    >>> check_equivariance(f, "translation", x).verdict  # f(x + t) = f(x), not f(x) + t
    'broken'
    """
    setup = CheckSetup.build(
        model, group, inputs, kind=kind, in_rep=in_rep, samples=samples, dtype=dtype, device=device,
        generator=generator, seed=seed,
    )  # fmt: skip
    with eval_mode(model):
        m = measure(setup, out_rep)
    report = build_report(setup, m, tol=tol, approx_tol=approx_tol, out_rep=out_rep)
    if localize and report.verdict not in ("exact", "vacuous"):
        _localise(report, setup, m, module_reps)
    return report


def _localise(
    report: SymmetryReport,
    setup: CheckSetup,
    m: Measurement,
    module_reps: Mapping[str, str] | None,
) -> None:
    """Name the first breaking submodule (best effort: a failure becomes a warning)."""
    worst = max(m.outputs, key=lambda o: max(o.abs_errors, default=0.0) / max(o.scale, 1e-300))
    g_w = worst.worst[0]
    if m.nonfinite or g_w is None or not isinstance(setup.model, nn.Module):
        return
    try:
        with eval_mode(setup.model):
            report.culprit, report.trace = localize_break(
                setup.model, g_w, setup.x64, setup.kind, setup.dtype, report.tolerance,
                module_reps, pack=setup.caller.pack, in_rep=setup.ctx.in_irreps,
            )  # fmt: skip
    except Exception as exc:  # localisation is best effort, never fatal
        report.warnings.append(f"localisation failed: {type(exc).__name__}: {exc}")


def check_invariance(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    *,
    kind: str | None = None,
    samples: int = 8,
    tol: float | None = None,
    **kwargs: Any,
) -> SymmetryReport:
    r"""Check :math:`f(g \cdot x) = f(x)`: :func:`check_equivariance` with ``out_rep="invariant"``.

    Examples
    --------
    >>> energy = lambda x: torch.cdist(x, x).sum()
    >>> check_invariance(energy, "E3 x permutation", torch.randn(6, 3)).verdict
    'exact'
    """
    return check_equivariance(
        model, group, inputs, kind=kind, out_rep="invariant", samples=samples, tol=tol, **kwargs
    )


def _passes(report: SymmetryReport, allow_approximate: bool, allow_vacuous: bool) -> bool:
    return (
        report.verdict == "exact"
        or (allow_approximate and report.verdict == "approximate")
        or (allow_vacuous and report.verdict == "vacuous")
    )


def _fail_message(report: SymmetryReport, want: str) -> str:
    if report.verdict == "vacuous":
        return (
            f"{report.group} {want}: the check compared nothing (verdict 'vacuous'): "
            f"{'; '.join(report.warnings)}. Use a generic input and a non-constant output, "
            f"or pass allow_vacuous=True.\n{report}"
        )
    return (
        f"{report.group} {want} does not hold: verdict {report.verdict!r}, max relative error "
        f"{report.max_rel_error:.3e} > tolerance {report.tolerance:.1e} ({report.dtype}).\n"
        + str(report)
    )


def assert_equivariant(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    out_rep: OutRep = "equivariant",
    *,
    allow_approximate: bool = False,
    allow_vacuous: bool = False,
    **kwargs: Any,
) -> SymmetryReport:
    """Raise :class:`SymmetryError` (an AssertionError) unless the equivariance is exact
    (or approximate with ``allow_approximate=True``; a vacuous check, which compared
    nothing, fails unless ``allow_vacuous=True``); returns the report otherwise.

    Examples
    --------
    >>> assert_equivariant(lambda x: 2 * x, "SO3", torch.randn(4, 3), "equivariant").verdict
    'exact'
    """
    __tracebackhide__ = True  # pytest: show the caller, not this frame
    report = check_equivariance(model, group, inputs, out_rep=out_rep, **kwargs)
    if not _passes(report, allow_approximate, allow_vacuous):
        raise SymmetryError(_fail_message(report, f"equivariance ({report.out_rep})"), report)
    return report


def assert_invariant(
    model: Callable[..., Any],
    group: str | Group,
    inputs: Any,
    *,
    allow_approximate: bool = False,
    allow_vacuous: bool = False,
    **kwargs: Any,
) -> SymmetryReport:
    """Raise :class:`SymmetryError` unless ``model`` is invariant (exactly, or approximately
    with ``allow_approximate=True``; vacuous only with ``allow_vacuous=True``); returns the
    report otherwise.

    Examples
    --------
    >>> assert_invariant(lambda x: x.norm(dim=1), "O3", torch.randn(4, 3)).verdict
    'exact'
    """
    __tracebackhide__ = True  # pytest: show the caller, not this frame
    report = check_equivariance(model, group, inputs, out_rep="invariant", **kwargs)
    if not _passes(report, allow_approximate, allow_vacuous):
        raise SymmetryError(_fail_message(report, "invariance"), report)
    return report
