from __future__ import annotations

import pytest
import torch

from geodl.atoms import smooth_switch


def test_values_in_each_region(float64: None) -> None:
    r = torch.tensor([1.0, 2.0, 3.0, 5.0, 6.0])
    s = smooth_switch(r, r_smooth=2.5, r_cut=5.0)
    assert torch.allclose(s[:2], 1.0 / r[:2])
    u = (3.0 - 2.5) / 2.5
    assert s[2].item() == pytest.approx((u**3 * (-6 * u**2 + 15 * u - 10) + 1) / 3.0)
    assert s[3].item() == 0.0 and s[4].item() == 0.0


@pytest.mark.parametrize("knot", [2.5, 5.0])
def test_value_first_and_second_derivative_continuous(float64: None, knot: float) -> None:
    def derivs(r0: float) -> list[float]:
        r = torch.tensor(r0, requires_grad=True)
        s = smooth_switch(r, 2.5, 5.0)
        (d1,) = torch.autograd.grad(s, r, create_graph=True)
        (d2,) = torch.autograd.grad(d1, r)
        return [s.item(), d1.item(), d2.item()]

    eps = 1e-7
    below, above = derivs(knot - eps), derivs(knot + eps)
    for a, b in zip(below, above, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def test_monotone_and_positive_inside(float64: None) -> None:
    r = torch.linspace(0.5, 4.999, 500)
    s = smooth_switch(r, 1.0, 5.0)
    assert bool((s > 0).all())
    assert bool((s[1:] < s[:-1]).all())


def test_r_smooth_zero_allowed() -> None:
    s = smooth_switch(torch.tensor([0.1, 2.0]), 0.0, 5.0)
    assert torch.isfinite(s).all()


@pytest.mark.parametrize("r_s, r_c", [(5.0, 5.0), (6.0, 5.0), (-1.0, 5.0)])
def test_bad_interval(r_s: float, r_c: float) -> None:
    with pytest.raises(ValueError, match="r_smooth"):
        smooth_switch(torch.tensor([1.0]), r_s, r_c)
