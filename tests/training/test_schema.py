"""The option schema: types, finiteness, ranges, null, sequences — errors name the key,
the value and the valid range."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geodl.errors import InputError
from geodl.training import Bound, bounded, validate_fields


@pytest.mark.parametrize(
    "bound, value, expected",
    [
        (Bound("float", 0, 10, low_open=True), 1, 1.0),
        (Bound("float", 0, 10, low_open=True), "5e-4", 5e-4),
        (Bound("int", 1, 100), 3.0, 3),
        (Bound("int", 1, None, nullable=True), None, None),
        (Bound("int", 1, 9, sequence=True), [1, 2], (1, 2)),
    ],
)
def test_valid_values_are_converted(bound: Bound, value: object, expected: object) -> None:
    got = bound.check(value, "k")
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    "bound, value, expected",
    [
        (Bound("float", 0, 10, low_open=True), 0.0, "must be > 0 and <= 10 (a finite number)"),
        (Bound("float", 0, 10), float("nan"), "must be >= 0 and <= 10 (a finite number)"),
        (Bound("float", 0, None), float("inf"), "must be >= 0 (a finite number)"),
        (Bound("float", 0, None), "abc", "must be >= 0 (a finite number)"),
        (Bound("int", 1, 10), 2.5, "must be >= 1 and <= 10 (an integer)"),
        (Bound("int", 1, 10), True, "must be >= 1 and <= 10 (an integer)"),
        (Bound("int", 1, 10), None, "must be >= 1 and <= 10 (an integer)"),
        (
            Bound("int", 1, 10, sequence=True, min_items=1),
            [],
            "must be >= 1 and <= 10 (a list of integers, at least 1)",
        ),
        (Bound("int", 1, 10, sequence=True), [1, 0], "must be >= 1 and <= 10 (a list of integers)"),
        (
            Bound("int", 1, None, nullable=True),
            0,
            "must be >= 1 (an integer, or null to turn it off)",
        ),
    ],
)
def test_invalid_values_name_key_range_and_value(
    bound: Bound, value: object, expected: str
) -> None:
    with pytest.raises(InputError) as info:
        bound.check(value, "training.key")
    text = str(info.value)
    assert text.startswith(f"training.key {expected}, got {value!r}"), text
    via = Bound("float", 0, 1, high_open=True, cli="--x")
    with pytest.raises(InputError, match=r"< 1 \(a finite number\), got 1.0 \(set by --x\)"):
        via.check(1.0, "k")


@given(st.one_of(st.floats(), st.integers(), st.text(max_size=4), st.booleans(), st.none()))
def test_a_bound_accepts_in_range_or_raises_input_error(value: object) -> None:
    bound = Bound("float", -1, 1)
    try:
        got = bound.check(value, "k")
    except InputError:
        return
    assert math.isfinite(got) and -1 <= got <= 1


def test_dataclass_fields_validate_on_every_construction() -> None:
    @dataclasses.dataclass
    class Opt:
        lr: float = bounded(0.1, kind="float", low=0, high=1, low_open=True)

        def __post_init__(self) -> None:
            validate_fields(self, "opt.")

    assert Opt(lr=1).lr == 1.0
    with pytest.raises(InputError, match="opt.lr must be > 0 and <= 1 .*, got -1"):
        dataclasses.replace(Opt(), lr=-1)
