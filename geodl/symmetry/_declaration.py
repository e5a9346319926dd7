"""What a model says about its own symmetry, for the harness to verify."""

from __future__ import annotations

from dataclasses import dataclass

_VERDICTS = ("exact", "approximate", "broken")


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
    verdict: str = "exact"
    note: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in _VERDICTS:
            raise ValueError(
                f"Declaration: 'verdict' must be one of {_VERDICTS}, got {self.verdict!r}."
            )
        from geodl.symmetry._context import INPUT_KINDS
        from geodl.symmetry._groups import get_group
        from geodl.symmetry._reps import validate_rep

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
