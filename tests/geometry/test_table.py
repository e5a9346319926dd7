"""Quintic Hermite tables and the fused lookup + contraction (native and pure torch)."""

from __future__ import annotations

import pytest
import torch

from geodl.geometry import (
    hermite_table,
    table_contract,
    table_contract_reference,
    table_derivative,
    table_lookup,
)


def _quintic(s: torch.Tensor) -> tuple[torch.Tensor, ...]:
    c = torch.tensor([0.3, -1.0, 0.5, 2.0, -0.7, 0.25], dtype=torch.float64)
    powers = torch.stack([s**n for n in range(6)], -1)
    d1 = torch.stack([n * s ** max(n - 1, 0) for n in range(6)], -1)
    d2 = torch.stack([n * (n - 1) * s ** max(n - 2, 0) for n in range(6)], -1)
    return tuple((p @ c)[None, :, None] for p in (powers, d1, d2))


def _smooth(s: torch.Tensor) -> tuple[torch.Tensor, ...]:
    f = torch.stack([torch.tanh(2 * s - 1), torch.sin(3 * s)], -1)
    d1 = torch.stack([2 / torch.cosh(2 * s - 1) ** 2, 3 * torch.cos(3 * s)], -1)
    t = torch.tanh(2 * s - 1)
    d2 = torch.stack([-8 * t * (1 - t * t), -9 * torch.sin(3 * s)], -1)
    return f[None], d1[None], d2[None]


def test_a_quintic_is_reproduced_exactly() -> None:
    table = hermite_table(_quintic, 2.0, 5, torch.float64)
    s = torch.linspace(0, 2, 101, dtype=torch.float64)
    rows = torch.zeros(101, dtype=torch.long)
    want, dwant, _ = _quintic(s)
    assert torch.allclose(table_lookup(table, s, rows, 2.5), want[0], atol=1e-12)
    assert torch.allclose(table_derivative(table, s, rows, 2.5), dwant[0], atol=1e-10)


def test_error_falls_as_h_to_the_sixth() -> None:
    s = torch.linspace(0, 2, 997, dtype=torch.float64)
    rows = torch.zeros(997, dtype=torch.long)
    errs = []
    for k in (8, 16, 32):
        table = hermite_table(_smooth, 2.0, k, torch.float64)
        errs.append(float((table_lookup(table, s, rows, k / 2.0) - _smooth(s)[0][0]).abs().max()))
    assert errs[0] / errs[1] > 30 and errs[1] / errs[2] > 30  # 2^6 = 64 asymptotically


def test_lookup_gradient_is_the_analytic_derivative() -> None:
    table = hermite_table(_smooth, 2.0, 16, torch.float64)
    s = torch.rand(50, dtype=torch.float64, requires_grad=True) * 1.9
    s = s.detach().requires_grad_(True)
    rows = torch.zeros(50, dtype=torch.long)
    g = table_lookup(table, s, rows, 8.0)
    (grad,) = torch.autograd.grad(g[:, 1].sum(), s)
    assert torch.allclose(grad, table_derivative(table, s, rows, 8.0)[:, 1], atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("native", [True, False])
def test_fused_contract_equals_reference(
    dtype: torch.dtype, native: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geodl.geometry import _kernels

    if not native:
        monkeypatch.setitem(_kernels._cache, "geodl_kernels", None)
    torch.manual_seed(0)
    table = hermite_table(_smooth, 2.0, 16, torch.float64).expand(3, -1, -1, -1).contiguous()
    table = table * torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64).view(3, 1, 1, 1)
    num_edges, n = 300, 20
    center = torch.sort(torch.randint(0, n, (num_edges,))).values
    ptr = torch.cat(
        [torch.zeros(1, dtype=torch.long), torch.bincount(center, minlength=n).cumsum(0)]
    )
    pair = torch.randint(0, 3, (num_edges,))
    s = (torch.rand(num_edges, dtype=torch.float64) * 2.2).to(dtype).requires_grad_(True)
    env = torch.randn(num_edges, 4, dtype=torch.float64).to(dtype).requires_grad_(True)
    weight = torch.randn(n, 4, 2, dtype=dtype)
    t = table_contract(s, env, pair, ptr, table.to(dtype), 8.0)
    gs, ge = torch.autograd.grad((t * weight).sum(), [s, env])
    t_ref = table_contract_reference(s, env, pair, center, n, table.to(dtype), 8.0)
    gs_ref, ge_ref = torch.autograd.grad((t_ref * weight).sum(), [s, env])
    tol = 1e-12 if dtype == torch.float64 else 1e-4
    for a, b in ((t, t_ref), (gs, gs_ref), (ge, ge_ref)):
        assert torch.allclose(a, b, atol=tol, rtol=tol)
