"""The ``symmetry`` fixture (pytest11 plugin) and its marker."""

from __future__ import annotations

import pytest
import torch

from geodl.symmetry.pytest_plugin import SymmetryFixture


def _energy(x: torch.Tensor) -> torch.Tensor:
    return torch.cdist(x, x).sum()


@pytest.mark.symmetry("E3")
def test_fixture_asserts(symmetry: SymmetryFixture) -> None:
    x = torch.randn(5, 3, dtype=torch.float64)
    assert symmetry.assert_invariant(_energy, "E3", x).verdict == "exact"
    symmetry.assert_equivariant(lambda p: p - p.mean(0), "SO3", x)
    symmetry.assert_forces(lambda p: (torch.cdist(p, p) ** 2).sum(), "E3", x)
    with pytest.raises(AssertionError, match="does not hold"):
        symmetry.assert_invariant(lambda p: p[0].sum(), "SO3", x)
    assert symmetry.check_invariance(_energy, "SO3", x).holds
    assert symmetry.audit(_energy, "points:5").verdicts["E3"] == "exact"
    assert symmetry.get_group("SO3").name == "SO3"
    assert "reports=" in repr(symmetry) and len(symmetry.reports) >= 3


def test_vacuous_checks_fail_unless_allowed(symmetry: SymmetryFixture) -> None:
    x = torch.randn(5, 3, dtype=torch.float64)
    constant = lambda p: torch.ones(2, dtype=p.dtype)  # noqa: E731
    with pytest.raises(AssertionError, match="compared nothing"):
        symmetry.assert_invariant(constant, "SO3", x)
    with pytest.raises(pytest.fail.Exception, match="vacuous"):
        symmetry.check_invariance(constant, "SO3", x)
    with pytest.raises(AssertionError, match="allow_vacuous"):
        symmetry.assert_invariant(_energy, "SO3", x, samples=0)
    r = symmetry.assert_invariant(constant, "SO3", x, allow_vacuous=True)
    assert r.verdict == "vacuous"
    assert symmetry.check_invariance(constant, "SO3", x, allow_vacuous=True).verdict == "vacuous"


def test_assert_functions_fail_on_vacuous() -> None:
    from geodl.symmetry import SymmetryError, assert_invariant

    x = torch.randn(5, 3, dtype=torch.float64)
    with pytest.raises(SymmetryError, match="vacuous"):
        assert_invariant(lambda p: torch.zeros(()), "SO3", x)
    assert assert_invariant(lambda p: torch.zeros(()), "SO3", x, allow_vacuous=True)
