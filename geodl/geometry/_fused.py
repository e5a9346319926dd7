r"""The compressed ``se_e2_a`` descriptor in one native pass: edge vectors -> :math:`D_i`."""

from __future__ import annotations

import ctypes

import torch
from torch import Tensor

from geodl.geometry._kernels import table_kernel

__all__ = ["fused_descriptor", "fused_descriptor_available"]


def _p(x: Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(x.data_ptr())


def _i(v: int) -> ctypes.c_int64:
    return ctypes.c_int64(int(v))


def _d(v: float) -> ctypes.c_double:
    return ctypes.c_double(float(v))


class _FusedDescriptor(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: object,
        edge_vec: Tensor,
        neighbor_type: Tensor,
        center_type: Tensor,
        ptr: Tensor,
        table: Tensor,
        scale: Tensor,
        params: tuple[int, int, float, float, float, float, int],
    ) -> Tensor:
        lib = table_kernel()
        assert lib is not None
        num_types, m2, inv_h, inv_nc, r_smooth, r_cut, threads = params
        n = ptr.shape[0] - 1
        _, k, _, m = table.shape
        suffix = "f32" if edge_vec.dtype == torch.float32 else "f64"
        t_out = edge_vec.new_empty(n, 4, m)
        d_out = edge_vec.new_empty(n, m * m2)
        getattr(lib, f"geodl_se_a_fused_forward_{suffix}")(
            _p(edge_vec),
            _p(neighbor_type),
            _p(center_type),
            _p(ptr),
            _p(table),
            _p(scale),
            _i(num_types),
            _i(n),
            _i(k),
            _i(m),
            _i(m2),
            _d(inv_h),
            _d(inv_nc),
            _d(r_smooth),
            _d(r_cut),
            _p(t_out),
            _p(d_out),
            ctypes.c_int(threads),
        )
        ctx.save_for_backward(edge_vec, neighbor_type, center_type, ptr, table, scale, t_out)  # type: ignore[attr-defined]
        ctx.params = params  # type: ignore[attr-defined]
        return d_out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: object, grad: Tensor) -> tuple[Tensor | None, ...]:
        edge_vec, neighbor_type, center_type, ptr, table, scale, t_saved = ctx.saved_tensors  # type: ignore[attr-defined]
        num_types, m2, inv_h, inv_nc, r_smooth, r_cut, threads = ctx.params  # type: ignore[attr-defined]
        lib = table_kernel()
        assert lib is not None
        n = ptr.shape[0] - 1
        _, k, _, m = table.shape
        grad = grad.contiguous()
        dvec = torch.empty_like(edge_vec)
        suffix = "f32" if edge_vec.dtype == torch.float32 else "f64"
        getattr(lib, f"geodl_se_a_fused_backward_{suffix}")(
            _p(edge_vec),
            _p(neighbor_type),
            _p(center_type),
            _p(ptr),
            _p(table),
            _p(scale),
            _p(t_saved),
            _p(grad),
            _i(num_types),
            _i(n),
            _i(k),
            _i(m),
            _i(m2),
            _d(inv_h),
            _d(inv_nc),
            _d(r_smooth),
            _d(r_cut),
            _p(dvec),
            ctypes.c_int(threads),
        )
        return dvec, None, None, None, None, None, None


def fused_descriptor_available() -> bool:
    """Whether the native kernel of :func:`fused_descriptor` could be built.

    Examples
    --------
    >>> isinstance(fused_descriptor_available(), bool)
    True
    """
    return table_kernel() is not None


def fused_descriptor(
    edge_vec: Tensor,
    neighbor_type: Tensor,
    center_type: Tensor,
    ptr: Tensor,
    table: Tensor,
    env_scale: Tensor,
    axis_neurons: int,
    inv_h: float,
    neighbor_norm: float,
    r_smooth: float,
    r_cut: float,
    threads: int | None = None,
) -> Tensor:
    r"""Compressed ``se_e2_a`` descriptor of every centre in one native pass.

    For the edges :math:`e \in [p_i, p_{i+1})` of centre :math:`i` (sorted by centre):
    :math:`r_e = |\mathbf r_e|`, :math:`s_e = s(r_e)`, :math:`\tilde R_e = s_e (1,
    \hat{\mathbf r}_e) \mathrm{diag}(\sigma_{t_i}^{-1})`, :math:`G_e` from the table of
    pair :math:`(t_i, t_e)`,

    .. math::

        T_i = \frac{1}{N_c}\sum_e \tilde R_e^{\top} G_e, \qquad D_i = T_i^{\top} T_i^{<},

    with no per-edge tensor stored; the backward pass returns :math:`\partial L/\partial
    \mathbf r_e` directly (first order: train with the reference path).

    Parameters
    ----------
    edge_vec, neighbor_type, center_type, ptr
        ``(E, 3)`` edge vectors sorted by centre, ``(E,)`` neighbour types, ``(N,)``
        centre types, ``(N + 1,)`` CSR pointers of the edges of each centre.
    table, env_scale : Tensor
        ``(T^2, K, 6, M1)`` embedding table (pair ``t_i T + t_e``); ``(T, 4)`` inverse
        standard deviations of the environment columns.
    axis_neurons, inv_h, neighbor_norm, r_smooth, r_cut
        :math:`M_2`, inverse grid step, :math:`N_c`, switching interval.
    threads : int, optional
        OpenMP threads (default ``torch.get_num_threads()``).

    Shapes
    ------
    ``edge_vec (E, 3)``, ``ptr (N + 1,)`` -> ``(N, M1 * M2)``.

    Symmetry
    --------
    E(3) invariant and invariant under permutations of each centre's neighbours (see
    :class:`~geodl.geometry.SeADescriptor`).

    Examples
    --------
    >>> import torch
    >>> tab = torch.zeros(1, 4, 6, 2, dtype=torch.float64)
    >>> tab[0, :, 0] = 1.0  # G = (1, 1)
    >>> one = torch.ones(1, 4, dtype=torch.float64)
    >>> x = torch.tensor([[1.0, 0, 0]], dtype=torch.float64)
    >>> zero, ptr = torch.tensor([0]), torch.tensor([0, 1])
    >>> not fused_descriptor_available() or fused_descriptor(
    ...     x, zero, zero, ptr, tab, one, 1, 1.0, 1.0, 2.0, 3.0).tolist() == [[2.0, 2.0]]
    True
    """
    threads = torch.get_num_threads() if threads is None else int(threads)
    dtype = edge_vec.dtype
    params = (env_scale.shape[0], int(axis_neurons), float(inv_h), 1.0 / float(neighbor_norm),
              float(r_smooth), float(r_cut), threads)  # fmt: skip
    tensors = (edge_vec, neighbor_type, center_type, ptr, table.to(dtype), env_scale.to(dtype))
    return _FusedDescriptor.apply(*(t.contiguous() for t in tensors), params)
