r"""Tabulated embeddings: quintic Hermite tables of a function of one scalar, and the
fused lookup + contraction :math:`T_i = \sum_j \tilde R_{ij}^T G(s_{ij})` of the
compressed ``se_e2_a`` descriptor."""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import torch
from torch import Tensor

from geodl.geometry._kernels import table_kernel

__all__ = [
    "hermite_table",
    "table_contract",
    "table_contract_reference",
    "table_derivative",
    "table_lookup",
]


def hermite_table(
    fn: Callable[[Tensor], tuple[Tensor, Tensor, Tensor]],
    s_max: float,
    intervals: int,
    dtype: torch.dtype,
) -> Tensor:
    r"""Quintic Hermite coefficients of ``fn`` on a uniform grid of ``[0, s_max]``.

    On interval :math:`k` (:math:`s = (k + t) h`, :math:`t \in [0, 1]`, :math:`h =
    s_{\max}/K`) the table holds :math:`c_0 \dots c_5` with

    .. math::

        G(s) \approx \sum_{n=0}^{5} c_{k,n}\, t^n,

    matching value, first and second derivative of ``fn`` at both nodes (so the
    tabulated function is :math:`C^2`). The error on an interval is at most
    :math:`h^6 \max|G^{(6)}| / 46080`.

    Parameters
    ----------
    fn : callable
        ``s (K,) -> (G, dG/ds, d²G/ds²)``, each ``(P, K, M)``: ``P`` functions of ``M``
        outputs with their first two derivatives (e.g. from
        :meth:`geodl.nn.ResidualMLP.jet`).
    s_max : float
        Upper end of the grid (the lower end is 0).
    intervals : int
        Number of intervals :math:`K`.
    dtype : torch.dtype
        Dtype of the returned table (coefficients are computed in float64).

    Returns
    -------
    Tensor
        ``(P, K, 6, M)``.

    Shapes
    ------
    ``-> (P, K, 6, M)``.

    Symmetry
    --------
    None of its own: a function of the invariant scalar :math:`s`.

    Examples
    --------
    >>> import torch
    >>> def sin(s):  # value, first and second derivative; one function, one output
    ...     return tuple(v[None, :, None] for v in (torch.sin(s), torch.cos(s), -torch.sin(s)))
    >>> tab = hermite_table(sin, 1.0, 4, torch.float64)
    >>> s = torch.tensor([0.3, 0.77], dtype=torch.float64)
    >>> g = table_lookup(tab, s, torch.zeros(2, dtype=torch.long), 4.0)
    >>> bool((g[:, 0] - torch.sin(s)).abs().max() < 1e-7)
    True
    """
    h = float(s_max) / int(intervals)
    nodes = torch.arange(int(intervals) + 1, dtype=torch.float64) * h
    f, d1, d2 = (v.detach().to(torch.float64) for v in fn(nodes))
    # Local variable t = (s - s_k) / h: derivatives scale by h and h^2.
    f0, f1 = f[:, :-1], f[:, 1:]
    a0, a1 = d1[:, :-1] * h, d1[:, 1:] * h
    b0, b1 = d2[:, :-1] * h * h, d2[:, 1:] * h * h
    df = f1 - f0
    c3 = 10 * df - 6 * a0 - 4 * a1 - 1.5 * b0 + 0.5 * b1
    c4 = -15 * df + 8 * a0 + 7 * a1 + 1.5 * b0 - b1
    c5 = 6 * df - 3 * a0 - 3 * a1 - 0.5 * b0 + 0.5 * b1
    return torch.stack([f0, a0, 0.5 * b0, c3, c4, c5], dim=2).to(dtype).contiguous()


def table_derivative(table: Tensor, s: Tensor, pair: Tensor, inv_h: float) -> Tensor:
    r""":math:`dG/ds` of a :func:`hermite_table` row-wise, ``(E, M)`` (the analytic
    derivative of the polynomial).

    Examples
    --------
    >>> import torch
    >>> tab = torch.zeros(1, 2, 6, 1)
    >>> tab[0, :, 2] = 1.0  # G = t^2 on intervals of width 0.5: dG/ds = 2 t / 0.5
    >>> table_derivative(tab, torch.tensor([0.25]), torch.tensor([0]), 2.0)
    tensor([[2.]])
    """
    row, t = _locate(table, s, pair, inv_h)
    coef = table.reshape(-1, 6, table.shape[-1])
    t = t.unsqueeze(-1)
    g = 5 * coef[:, 5].index_select(0, row)
    for n in (4, 3, 2, 1):
        g = g * t + n * coef[:, n].index_select(0, row)
    return g * inv_h


def _locate(table: Tensor, s: Tensor, pair: Tensor, inv_h: float) -> tuple[Tensor, Tensor]:
    num_intervals = table.shape[1]
    x = (s * inv_h).clamp_min(0.0)
    k = x.detach().floor().clamp_max(num_intervals - 1)
    row = pair * num_intervals + k.long()
    return row, x - k


def table_lookup(table: Tensor, s: Tensor, pair: Tensor, inv_h: float) -> Tensor:
    r"""Evaluate a :func:`hermite_table` row-wise, differentiably (Horner's rule).

    Beyond the last node the last interval's polynomial is continued.

    Parameters
    ----------
    table : Tensor
        ``(P, K, 6, M)``.
    s : Tensor
        ``(E,)`` arguments :math:`\ge 0`.
    pair : LongTensor
        ``(E,)`` which of the ``P`` functions.
    inv_h : float
        :math:`1/h`.

    Returns
    -------
    Tensor
        ``(E, M)``; its gradient with respect to ``s`` is the analytic derivative of the
        polynomial.

    Shapes
    ------
    ``table (P, K, 6, M)``, ``s (E,)``, ``pair (E,)`` -> ``(E, M)``.

    Symmetry
    --------
    Row-wise: equivariant under permutations of the rows of ``s`` and ``pair``.

    Examples
    --------
    >>> import torch
    >>> tab = torch.zeros(1, 2, 6, 1)
    >>> tab[0, :, 1] = 1.0  # G(s) = t on each interval of width 0.5
    >>> table_lookup(tab, torch.tensor([0.25]), torch.tensor([0]), 2.0)
    tensor([[0.5000]])
    """
    row, t = _locate(table, s, pair, inv_h)
    coef = table.reshape(-1, 6, table.shape[-1])
    t = t.unsqueeze(-1)
    g = coef[:, 5].index_select(0, row)
    for n in (4, 3, 2, 1, 0):
        g = g * t + coef[:, n].index_select(0, row)
    return g


def table_contract_reference(
    s: Tensor,
    env: Tensor,
    pair: Tensor,
    center: Tensor,
    num_centers: int,
    table: Tensor,
    inv_h: float,
) -> Tensor:
    r""":math:`T_i = \sum_{e: c_e = i} \tilde R_e^{\top} G(s_e)` with plain torch ops
    (differentiable to any order; materialises ``(E, M)``). TorchScript-able.

    Shapes
    ------
    ``s (E,)``, ``env (E, 4)``, ``pair (E,)``, ``center (E,)`` -> ``(N, 4, M)``.

    Examples
    --------
    >>> import torch
    >>> tab = torch.zeros(1, 1, 6, 2)
    >>> tab[0, 0, 0] = 1.0
    >>> table_contract_reference(torch.tensor([0.5]), torch.ones(1, 4), torch.tensor([0]),
    ...                          torch.tensor([0]), 1, tab, 1.0).shape
    torch.Size([1, 4, 2])
    """
    g = table_lookup(table, s, pair, inv_h)
    m = g.shape[1]
    outer = (env.unsqueeze(-1) * g.unsqueeze(1)).reshape(-1, 4 * m)
    out = g.new_zeros(num_centers, 4 * m).index_add(0, center, outer)
    return out.view(num_centers, 4, m)


def _ptr(x: Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(x.data_ptr())


class _TableContract(torch.autograd.Function):
    """Fused lookup + contraction; backward by the analytic table derivative."""

    @staticmethod
    def forward(
        ctx: object,
        s: Tensor,
        env: Tensor,
        table: Tensor,
        pair: Tensor,
        ptr: Tensor,
        inv_h: float,
        threads: int,
    ) -> Tensor:
        lib = table_kernel()
        n, (_, k, _, m) = ptr.shape[0] - 1, table.shape
        s, env = s.contiguous(), env.contiguous()
        out = s.new_empty(n, 4, m)
        if lib is not None:
            fn = (
                lib.geodl_se_a_table_forward_f32
                if s.dtype == torch.float32
                else (lib.geodl_se_a_table_forward_f64)
            )
            fn(
                _ptr(s),
                _ptr(env),
                _ptr(pair),
                _ptr(ptr),
                _ptr(table),
                ctypes.c_int64(n),
                ctypes.c_int64(k),
                ctypes.c_int64(m),
                ctypes.c_double(inv_h),
                _ptr(out),
                ctypes.c_int(threads),
            )
        else:
            _fallback(s, env, table, pair, ptr, inv_h, out, None)
        ctx.save_for_backward(s, env, table, pair, ptr)  # type: ignore[attr-defined]
        ctx.inv_h, ctx.threads = inv_h, threads  # type: ignore[attr-defined]
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: object, grad: Tensor) -> tuple[Tensor | None, ...]:
        s, env, table, pair, ptr = ctx.saved_tensors  # type: ignore[attr-defined]
        inv_h, threads = ctx.inv_h, ctx.threads  # type: ignore[attr-defined]
        grad = grad.contiguous()
        ds, denv = torch.empty_like(s), torch.empty_like(env)
        lib = table_kernel()
        n, (_, k, _, m) = ptr.shape[0] - 1, table.shape
        if lib is not None:
            fn = (
                lib.geodl_se_a_table_backward_f32
                if s.dtype == torch.float32
                else (lib.geodl_se_a_table_backward_f64)
            )
            fn(
                _ptr(s),
                _ptr(env),
                _ptr(pair),
                _ptr(ptr),
                _ptr(table),
                _ptr(grad),
                ctypes.c_int64(n),
                ctypes.c_int64(k),
                ctypes.c_int64(m),
                ctypes.c_double(inv_h),
                _ptr(ds),
                _ptr(denv),
                ctypes.c_int(threads),
            )
        else:
            _fallback(s, env, table, pair, ptr, inv_h, None, (grad, ds, denv))
        return ds, denv, None, None, None, None, None


def _fallback(
    s: Tensor,
    env: Tensor,
    table: Tensor,
    pair: Tensor,
    ptr: Tensor,
    inv_h: float,
    out: Tensor | None,
    backward: tuple[Tensor, Tensor, Tensor] | None,
    chunk: int = 4096,
) -> None:
    """Pure-torch forward (fills ``out``) or backward (fills ``ds``, ``denv``), over edge
    chunks so that only ``chunk x M`` values are alive at once."""
    num_edges, n = s.shape[0], ptr.shape[0] - 1
    counts = ptr[1:] - ptr[:-1]
    center = torch.repeat_interleave(torch.arange(n, device=s.device), counts)
    if out is not None:
        out.zero_()
    coef = table.reshape(-1, 6, table.shape[-1])
    for a in range(0, num_edges, chunk):
        b = min(a + chunk, num_edges)
        row, t = _locate(table, s[a:b], pair[a:b], inv_h)
        t = t.unsqueeze(-1)
        c = [coef[:, j].index_select(0, row) for j in range(6)]
        g = ((((c[5] * t + c[4]) * t + c[3]) * t + c[2]) * t + c[1]) * t + c[0]
        e, ce = env[a:b], center[a:b]
        if out is not None:
            outer = e.unsqueeze(-1) * g.unsqueeze(1)
            out.index_add_(0, ce, outer)
            continue
        assert backward is not None
        grad, ds, denv = backward
        dg = (((5 * c[5] * t + 4 * c[4]) * t + 3 * c[3]) * t + 2 * c[2]) * t + c[1]
        gt = grad.index_select(0, ce)  # (chunk, 4, M)
        denv[a:b] = torch.bmm(gt, g.unsqueeze(-1)).squeeze(-1)
        ds[a:b] = (torch.bmm(e.unsqueeze(1), gt).squeeze(1) * dg).sum(-1) * inv_h


def table_contract(
    s: Tensor,
    env: Tensor,
    pair: Tensor,
    ptr: Tensor,
    table: Tensor,
    inv_h: float,
    threads: int | None = None,
) -> Tensor:
    r"""Fused :math:`T_i = \sum_{e \in [p_i, p_{i+1})} \tilde R_e^{\top} G(s_e)` (edges
    sorted by centre, CSR pointers ``ptr``): the ``(E, M)`` embedding matrix is never
    stored. Native kernel when available (:func:`~geodl.geometry.table_kernel`), else
    chunked torch ops; first-order gradients for ``s`` and ``env`` (inference and forces;
    use :func:`table_contract_reference` for higher orders).

    Parameters
    ----------
    s : Tensor
        ``(E,)`` radial weights :math:`s(r)`.
    env : Tensor
        ``(E, 4)`` environment rows.
    pair : LongTensor
        ``(E,)`` table index of each edge.
    ptr : LongTensor
        ``(N + 1,)`` CSR pointers: the edges of centre ``i`` are ``ptr[i]:ptr[i+1]``.
    table : Tensor
        ``(P, K, 6, M)`` from :func:`hermite_table`, dtype of ``s``.
    inv_h : float
        Inverse grid step.
    threads : int, optional
        OpenMP threads (default: ``torch.get_num_threads()``).

    Returns
    -------
    Tensor
        ``(N, 4, M)``.

    Shapes
    ------
    ``s (E,)``, ``env (E, 4)``, ``pair (E,)``, ``ptr (N+1,)`` -> ``(N, 4, M)``.

    Symmetry
    --------
    Invariant under permutations of the edges of a centre; ``env``'s vector columns carry
    through (O(3) equivariant columns 1-3).

    Examples
    --------
    >>> import torch
    >>> def poly(s):  # G = (s, s^2) with its derivatives
    ...     one, zero = torch.ones_like(s), torch.zeros_like(s)
    ...     values = ((s, s * s), (one, 2 * s), (zero, 2 * one))
    ...     return tuple(torch.stack(v, -1)[None] for v in values)
    >>> tab = hermite_table(poly, 2.0, 8, torch.float64)
    >>> s = torch.tensor([0.5, 1.5], dtype=torch.float64)
    >>> env = torch.ones(2, 4, dtype=torch.float64)
    >>> t = table_contract(s, env, torch.zeros(2, dtype=torch.long), torch.tensor([0, 2]), tab, 4.0)
    >>> t[0, 0].tolist()
    [2.0, 2.5]
    """
    if s.device.type != "cpu":
        raise ValueError("table_contract: the fused path runs on CPU; use the reference path.")
    threads = torch.get_num_threads() if threads is None else int(threads)
    return _TableContract.apply(
        s, env, table.contiguous(), pair.contiguous(), ptr.contiguous(), float(inv_h), threads
    )
