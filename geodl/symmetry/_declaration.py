"""What a model says about its own symmetry, and the harness verifying it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from geodl.symmetry._check import SymmetryError, check_equivariance
from geodl.symmetry._context import INPUT_KINDS
from geodl.symmetry._groups import get_group
from geodl.symmetry._report import SymmetryReport, Verdict
from geodl.symmetry._reps import validate_rep

_VERDICTS: tuple[str, ...] = get_args(Verdict)


@dataclass(frozen=True)
class Declaration:
    """A model's claim: ``group`` acting on inputs of kind ``input`` leaves the output
    transforming as ``output``, with the given ``verdict``.

    Parameters
    ----------
    group : str
        Registered group name, e.g. ``"SO3"``, ``"permutation"``, ``"shift"``.
    input : str
        Input kind: ``"points"``, ``"set"``, ``"image"``, ``"signal"``, ``"sequence"``,
        ``"atoms"``.
    output : str
        Output representation: ``"invariant"``, ``"equivariant"`` (like the input), or
        another registered representation string (e.g. an e3nn irreps string).
    verdict : str
        The claim: ``"exact"`` (holds to round-off), ``"approximate"`` (small but real
        error, e.g. zero padding) or ``"broken"`` (the group is known not to be respected;
        declaring it lets the harness confirm the model is *not* accidentally symmetric).
    note : str
        Human explanation shown in audits.

    Examples
    --------
    >>> Declaration("shift", "image", "equivariant")
    Declaration(group='shift', input='image', output='equivariant', verdict='exact', note='')
    """

    group: str
    input: str
    output: str = "invariant"
    verdict: Verdict = "exact"
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in _VERDICTS:
            raise ValueError(
                f"Declaration: 'verdict' must be one of {_VERDICTS}, got {self.verdict!r}."
            )
        if self.input not in INPUT_KINDS:
            raise ValueError(
                f"Declaration: 'input' must be one of {list(INPUT_KINDS)}, got {self.input!r}."
            )
        try:
            group = get_group(self.group)
            group.check_acts_on(self.input)
            validate_rep(self.output)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"Declaration: {exc}") from exc


def verify_declarations(
    model: Any,
    inputs: Any,
    *,
    samples: int = 8,
    seed: int = 0,
    **kwargs: Any,
) -> list[SymmetryReport]:
    """Check every :class:`Declaration` of ``model.declared_symmetries()``.

    Parameters
    ----------
    model : nn.Module
        Has ``declared_symmetries() -> list[Declaration]``.
    inputs : input, or dict mapping input kind -> input
        One input per declared input kind (a single input is used for all).

    Returns
    -------
    list of SymmetryReport
        With ``.declared`` set; ``.matches_declaration`` says whether the measurement
        agrees with the claim.
    """
    declared = getattr(model, "declared_symmetries", None)
    if declared is None:
        raise TypeError(
            f"verify_declarations: {type(model).__name__} has no declared_symmetries(); "
            "implement it returning a list of geodl.symmetry.Declaration."
        )
    reports = []
    for d in declared():
        x = inputs[d.input] if isinstance(inputs, Mapping) else inputs
        r = check_equivariance(
            model, d.group, x, kind=d.input, out_rep=d.output, samples=samples, seed=seed, **kwargs
        )
        r.declared = d.verdict
        r.note = d.note
        reports.append(r)
    return reports


def assert_declarations(model: Any, inputs: Any, **kwargs: Any) -> list[SymmetryReport]:
    """:func:`verify_declarations`, raising :class:`SymmetryError` on the first mismatch."""
    __tracebackhide__ = True  # pytest: show the caller, not this frame
    reports = verify_declarations(model, inputs, **kwargs)
    for r in reports:
        if not r.matches_declaration:
            raise SymmetryError(
                f"{type(model).__name__} declares {r.group} on {r.kind} -> {r.out_rep} as "
                f"{r.declared!r}, measured {r.verdict!r}.\n{r}",
                r,
            )
    return reports
