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
