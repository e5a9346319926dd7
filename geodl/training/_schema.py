"""One schema for every numeric option: type, finiteness and range, checked at the
boundary, with errors that name the key, the value and the valid range.

A config dataclass declares its numeric fields with :func:`bounded`; its
``__post_init__`` calls :func:`validate_fields`, so every way of building it (from YAML,
``--set``, ``dataclasses.replace``, Python) goes through the same checks. Legal values
that are probably mistakes raise :class:`SuspiciousValueWarning` (see :func:`warn`).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Any

from geodl.errors import InputError

__all__ = ["Bound", "SuspiciousValueWarning", "bounded", "validate_fields", "warn"]


class SuspiciousValueWarning(UserWarning):
    """A legal option value that is probably a mistake (``lr > 1``, ...)."""


def _fmt(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


@dataclass(frozen=True)
class Bound:
    """The valid values of one numeric option.

    Parameters
    ----------
    kind : {"int", "float"}
        Integers refuse fractions and booleans; floats accept integers.
    low, high : float or None
        The range; ``None`` leaves that side open.
    low_open, high_open : bool
        Exclude the end point.
    nullable : bool
        ``None`` (YAML ``null``) is also valid (it turns the option off).
    null_means : str
        What ``null`` does, for messages ("to turn it off").
    sequence : bool
        The value is a list of such numbers (each checked).
    min_items : int
        Fewest elements of a sequence.
    cli : str or None
        The command-line option that sets it, for messages (``"--max-time"``).

    Examples
    --------
    >>> Bound("float", 0, 10, low_open=True).check(1e-3, "training.lr")
    0.001
    >>> Bound("float", 0, 10, low_open=True).check(1e9, "training.lr")
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: training.lr must be > 0 and <= 10 (a finite number), got 1000000000.0.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    nullable: bool = False
    null_means: str = "to turn it off"
    sequence: bool = False
    min_items: int = 0
    cli: str | None = None

    def describe(self) -> str:
        """The valid values in words (``">= 1 and <= 10 (an integer)"``)."""
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {_fmt(self.low)}")
        if self.high is not None:
            bounds.append(f"{'<' if self.high_open else '<='} {_fmt(self.high)}")
        kind = "an integer" if self.kind == "int" else "a finite number"
        if self.sequence:
            kind = "a list of " + ("integers" if self.kind == "int" else "finite numbers")
            if self.min_items:
                kind += f", at least {self.min_items}"
        if self.nullable:
            kind += f", or null {self.null_means}"
        return f"{' and '.join(bounds)} ({kind})" if bounds else kind

    def _error(self, key: str, value: Any) -> InputError:
        via = f" (set by {self.cli})" if self.cli else ""
        return InputError(f"{key} must be {self.describe()}, got {value!r}{via}.")

    def check(self, value: Any, key: str) -> Any:
        """``value`` converted to ``int``/``float`` (a tuple for a sequence), or raise
        :class:`~geodl.errors.InputError` naming ``key``, ``value`` and the range."""
        if value is None:
            if self.nullable:
                return None
            raise self._error(key, value)
        if self.sequence:
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise self._error(key, value)
            item = dataclasses.replace(self, sequence=False, nullable=False)
            try:
                items = tuple(item._scalar(v, key) for v in value)
            except InputError:
                raise self._error(key, value) from None
            if len(items) < self.min_items:
                raise self._error(key, value)
            return items
        return self._scalar(value, key)

    def _scalar(self, value: Any, key: str) -> int | float:
        number = self._convert(value, key)
        if not math.isfinite(number):
            raise self._error(key, value)
        below = self.low is not None and (
            number < self.low or (self.low_open and number == self.low)
        )
        above = self.high is not None and (
            number > self.high or (self.high_open and number == self.high)
        )
        if below or above:
            raise self._error(key, value)
        return number

    def _convert(self, value: Any, key: str) -> int | float:
        if isinstance(value, bool):
            raise self._error(key, value)
        if self.kind == "int":
            if isinstance(value, int):
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise self._error(key, value)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise self._error(key, value)


def bounded(default: Any = dataclasses.MISSING, *, factory: Any = None, **bound: Any) -> Any:
    """A dataclass field with a :class:`Bound` (``bounded(2e-3, kind="float", low=0)``).

    Examples
    --------
    >>> @dataclass
    ... class Opt:
    ...     epochs: int = bounded(10, kind="int", low=1)
    ...     def __post_init__(self):
    ...         validate_fields(self, "opt.")
    >>> Opt(epochs=0)
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: opt.epochs must be >= 1 (an integer), got 0.
    """
    kw_only = bound.pop("kw_only", False)
    metadata = {"bound": Bound(**bound)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata, kw_only=kw_only)
    return dataclasses.field(default=default, metadata=metadata, kw_only=kw_only)


def validate_fields(obj: Any, prefix: str = "") -> None:
    """Check and convert every :func:`bounded` field of dataclass ``obj`` in place."""
    for f in dataclasses.fields(obj):
        bound = f.metadata.get("bound")
        if bound is not None:
            object.__setattr__(obj, f.name, bound.check(getattr(obj, f.name), prefix + f.name))


def warn(key: str, value: Any, why: str) -> str:
    """Issue a :class:`SuspiciousValueWarning` for a legal but odd value; returns the text.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     text = warn("training.lr", 5.0, "Adam usually diverges above 1e-1")
    >>> text
    'training.lr = 5.0 is legal but suspicious: Adam usually diverges above 1e-1.'
    """
    text = f"{key} = {value!r} is legal but suspicious: {why}."
    warnings.warn(text, SuspiciousValueWarning, stacklevel=2)
    return text
