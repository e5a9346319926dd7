"""The DeepPot-SE ``se_e2_a`` descriptor with segment sums (no neighbour padding)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, cast

import torch
from torch import Tensor, nn

from geodl.geometry._environment import environment_matrix
from geodl.geometry._fused import fused_descriptor, fused_descriptor_available
from geodl.geometry._table import hermite_table, table_contract_reference
from geodl.nn import ResidualMLP


def default_neighbor_norm(r_cut: float, density: float = 0.085) -> float:
    """A guess for :math:`N_c` before statistics: neighbours in a sphere of radius
    ``r_cut`` at ``density`` atoms/Å³ (0.085 is fcc copper)."""
    return max(1.0, 4.0 / 3.0 * math.pi * r_cut**3 * density)


def segment_outer_sum(g: Tensor, env: Tensor, center: Tensor, num_centers: int) -> Tensor:
    r"""Per-centre sums of outer products, :math:`T_i = \sum_{e: c_e = i} \tilde R_e^{\top}
    G_e`, as one dense batched matrix product.

    Edges are laid out in a ``(num_centers, n_max, .)`` block (``n_max`` = largest
    neighbour count in this call, so nothing is ever dropped); the empty slots hold zero
    environment rows and contribute exactly nothing. This turns a memory-bound scatter of
    ``E x 4 x M1`` products into ``bmm`` calls (forward and backward).

    Parameters
    ----------
    g : Tensor
        ``(E, M1)`` embeddings.
    env : Tensor
        ``(E, 4)`` environment rows.
    center : LongTensor
        ``(E,)`` centre of each edge (any order; sorted is fastest).
    num_centers : int
        Number of centres ``N``.

    Returns
    -------
    Tensor
        ``(N, 4, M1)``.

    Examples
    --------
    >>> import torch
    >>> g, env = torch.ones(3, 2), torch.ones(3, 4)
    >>> segment_outer_sum(g, env, torch.tensor([0, 0, 1]), 2)[:, 0, 0]
    tensor([2., 1.])
    """
    slot, n_max = padding_slots(center, num_centers)
    m1 = g.shape[1]
    g_pad = g.new_zeros(num_centers * n_max, m1).index_copy_(0, slot, g)
    env_pad = env.new_zeros(num_centers * n_max, 4).index_copy_(0, slot, env)
    return torch.bmm(
        env_pad.view(num_centers, n_max, 4).transpose(1, 2), g_pad.view(num_centers, n_max, m1)
    )


def padding_slots(center: Tensor, num_centers: int) -> tuple[Tensor, int]:
    """Slot of every edge in a ``(num_centers, n_max)`` block: ``center * n_max + rank``,
    with ``rank`` the position of the edge among the edges of its centre and ``n_max``
    the largest neighbour count (so every edge has a slot)."""
    num_edges = center.shape[0]
    if num_edges == 0 or num_centers == 0:
        return center.new_zeros(0), 0
    counts = torch.bincount(center, minlength=num_centers)
    n_max = int(counts.max())
    start = torch.cumsum(counts, 0) - counts
    arange = torch.arange(num_edges, device=center.device)
    if num_edges > 1 and not bool((center[1:] >= center[:-1]).all()):
        order = torch.argsort(center, stable=True)
        rank = torch.empty_like(center)
        rank[order] = arange - start.index_select(0, center.index_select(0, order))
    else:
        rank = arange - start.index_select(0, center)
    return center * n_max + rank, n_max


#: Ways to compute :math:`T_i = \sum_j \tilde R_{ij}^T G_{ij}` (same result, different speed).
#: the names of :data:`AGGREGATIONS`, for type checkers
Aggregation = Literal["dense", "scatter"]

AGGREGATIONS: dict[str, str] = {
    "dense": "edges laid out in an (N, n_max) block, batched matmul (fast, default)",
    "scatter": "per-edge outer products summed with index_add (reference, slower)",
}


class SeADescriptor(nn.Module):
    r"""Smooth-edition DeepPot descriptor (``se_e2_a``), invariant by construction.

    For centre atom :math:`i` with neighbours :math:`j` within :math:`r_c`:

    .. math::

        \tilde R_{ij} &= s(r_{ij})\,(1, \hat{\mathbf r}_{ij}) \;\mathrm{diag}(\sigma_r^{-1},
            \sigma_a^{-1}, \sigma_a^{-1}, \sigma_a^{-1}) \\
        G_{ij} &= g_{t_j}\!\left(\frac{s(r_{ij}) - \mu_s}{\sigma_s}\right) \in
            \mathbb R^{M_1} \\
        T_i &= \frac{1}{N_c} \sum_j G_{ij}^{\top} \tilde R_{ij} \in \mathbb R^{M_1\times 4} \\
        D_i &= T_i\, (T_i^{<})^{\top} \in \mathbb R^{M_1 \times M_2}

    with :math:`T_i^{<}` the first :math:`M_2` rows (``axis_neurons``). Since
    :math:`T_i \to T_i\,\mathrm{diag}(1, Q^T)` under a rotation or reflection :math:`Q`
    and :math:`\mathrm{diag}(1,Q^T)\mathrm{diag}(1,Q) = I`, :math:`D_i` is O(3)
    invariant; it depends on relative vectors only (translations) and sums over
    neighbours (permutations). The sums are segment sums over the edge list
    (``index_add``), so no neighbour is ever dropped or padded, and :math:`N_c` is a
    constant so the descriptor stays smooth as neighbours enter or leave the cutoff
    (every term vanishes with :math:`s` at :math:`r_c`; the statistics only rescale,
    never shift, the environment rows). Statistics :math:`\mu_s, \sigma_s, \sigma_r,
    \sigma_a` are per centre type, set by :meth:`set_statistics`.

    Parameters
    ----------
    num_types : int
        Number of atom types.
    r_cut : float
        Cutoff radius :math:`r_c`.
    r_smooth : float
        Start of the switching interval :math:`r_s`.
    embed_widths : sequence of int
        Embedding network widths; the last is :math:`M_1`.
    axis_neurons : int
        :math:`M_2 \le M_1`.
    type_one_side : bool
        ``True``: one embedding network per neighbour type; ``False``: one per
        (centre type, neighbour type) pair.
    activation : str
        Activation name (``"tanh"``, ``"silu"``, ...).
    neighbor_norm : float, optional
        :math:`N_c`; default: a density-based guess, replaced by the mean neighbour count
        in :meth:`set_statistics`.
    resnet : bool
        Residual connections in the embedding networks (DeePMD style).
    aggregation : str
        ``"dense"`` (default) or ``"scatter"``, see :data:`AGGREGATIONS`; identical
        results, ``"dense"`` is 2-3x faster on CPU.

    Shapes
    ------
    ``edge_vec (E, 3)``, ``center (E,)``, ``neighbor_type (E,)``, ``center_type (N,)``
    -> ``(N, M1 * M2)``.

    Symmetry
    --------
    Invariant under E(3) acting on the edge vectors' positions (rotations, reflections,
    translations) and under permutations of the neighbours of each centre; equivariant
    (rows) under permutations of the centres.

    Examples
    --------
    >>> import torch
    >>> desc = SeADescriptor(num_types=2, r_cut=4.0, r_smooth=3.0, embed_widths=(4, 8),
    ...                      axis_neurons=2)
    >>> edge_vec = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
    >>> center, neighbor = torch.tensor([0, 1]), torch.tensor([1, 0])
    >>> types = torch.tensor([0, 1])
    >>> desc(edge_vec, center, types[neighbor], types).shape
    torch.Size([2, 16])
    """

    if TYPE_CHECKING:  # for mypy only: TorchScript cannot read these string annotations
        # buffers (registered in __init__)
        neighbor_norm: Tensor
        s_mean: Tensor
        s_inv_std: Tensor
        env_inv_std: Tensor
        table: Tensor

    def __init__(
        self,
        num_types: int,
        r_cut: float,
        r_smooth: float,
        embed_widths: Sequence[int] = (25, 50, 100),
        axis_neurons: int = 16,
        type_one_side: bool = True,
        activation: str = "tanh",
        neighbor_norm: float | None = None,
        resnet: bool = True,
        aggregation: Aggregation = "dense",
    ) -> None:
        super().__init__()
        if aggregation not in AGGREGATIONS:
            raise ValueError(
                f"SeADescriptor: unknown aggregation {aggregation!r}. Valid aggregations: "
                f"{', '.join(AGGREGATIONS)}."
            )
        self.aggregation = aggregation
        if int(num_types) < 1:
            raise ValueError(f"SeADescriptor: 'num_types' must be >= 1, got {num_types}.")
        if not 0.0 <= float(r_smooth) < float(r_cut):
            raise ValueError(
                f"SeADescriptor: expected 0 <= r_smooth < r_cut, got r_smooth={r_smooth}, "
                f"r_cut={r_cut}."
            )
        embed_widths = tuple(int(w) for w in embed_widths)
        if len(embed_widths) == 0 or min(embed_widths) < 1:
            raise ValueError(
                f"SeADescriptor: 'embed_widths' must be positive ints, got {embed_widths}."
            )
        if not 1 <= int(axis_neurons) <= embed_widths[-1]:
            raise ValueError(
                f"SeADescriptor: 'axis_neurons' must be in [1, {embed_widths[-1]}] (the last "
                f"embedding width), got {axis_neurons}."
            )
        self.num_types = int(num_types)
        self.r_cut = float(r_cut)
        self.r_smooth = float(r_smooth)
        self.embed_widths = embed_widths
        self.axis_neurons = int(axis_neurons)
        self.type_one_side = bool(type_one_side)
        self.activation = activation
        num_nets = self.num_types if self.type_one_side else self.num_types**2
        self.embeddings = nn.ModuleList(
            ResidualMLP(1, embed_widths, None, activation, resnet) for _ in range(num_nets)
        )
        nc = default_neighbor_norm(self.r_cut) if neighbor_norm is None else float(neighbor_norm)
        if nc <= 0:
            raise ValueError(f"SeADescriptor: 'neighbor_norm' must be > 0, got {neighbor_norm}.")
        self.register_buffer("neighbor_norm", torch.tensor(nc))
        # Per centre type: embedding-input shift/scale and env-row scales.
        self.register_buffer("s_mean", torch.zeros(self.num_types))
        self.register_buffer("s_inv_std", torch.ones(self.num_types))
        self.register_buffer("env_inv_std", torch.ones(self.num_types, 4))
        # Compressed embedding (see enable_table): empty and not saved until enabled.
        self.table_s_max = 0.0
        self.table_intervals = 0
        self.register_buffer("table", torch.zeros(0), persistent=False)

    @property
    def out_features(self) -> int:
        """Descriptor width :math:`M_1 M_2`."""
        return self.embed_widths[-1] * self.axis_neurons

    @torch.no_grad()
    def set_statistics(
        self,
        s_mean: Tensor,
        s_std: Tensor,
        radial_std: Tensor,
        angular_std: Tensor,
        neighbor_norm: float | None = None,
    ) -> None:
        """Set the per-centre-type normalisation (each ``(num_types,)``, stds > 0)."""
        eps = 1e-6
        self.s_mean.copy_(s_mean)
        self.s_inv_std.copy_(1.0 / s_std.clamp_min(eps))
        inv_r = 1.0 / radial_std.clamp_min(eps)
        inv_a = 1.0 / angular_std.clamp_min(eps)
        self.env_inv_std.copy_(torch.stack([inv_r, inv_a, inv_a, inv_a], dim=1))
        if neighbor_norm is not None:
            self.neighbor_norm.fill_(max(float(neighbor_norm), 1e-6))

    def embed_padded(self, x: Tensor, net_index: Tensor, slot: Tensor, size: int) -> Tensor:
        """Embeddings :math:`G` of the normalised radial inputs ``x (E, 1)``, written to
        rows ``slot`` of a zero ``(size, M1)`` block; edge ``e`` uses network
        ``net_index[e]``."""
        out = x.new_zeros(size, self.embed_widths[-1])
        if len(self.embeddings) == 1:
            for net in self.embeddings:
                out = out.index_copy_(0, slot, net(x))
            return out
        # One index_copy_ of the concatenated outputs: chained in-place copies would each
        # cost a full clone of the block in the backward pass.
        slots: list[Tensor] = []
        parts: list[Tensor] = []
        for t, net in enumerate(self.embeddings):
            idx = torch.nonzero(net_index == t).flatten()
            slots.append(slot.index_select(0, idx))
            parts.append(net(x.index_select(0, idx)))
        return out.index_copy_(0, torch.cat(slots), torch.cat(parts))

    @property
    def compressed(self) -> bool:
        """Whether the embedding is tabulated (:meth:`enable_table`)."""
        return self.table_intervals > 0

    def enable_table(self, s_max: float, intervals: int) -> None:
        r"""Switch to a tabulated embedding on ``intervals`` uniform intervals of
        :math:`s \in [0, s_{\max}]` (a zero table of the right shape, saved with the
        state dict; fill it with :meth:`build_table` or by loading a state dict).

        One table per (centre type, neighbour type) pair holds :math:`G_{ij}` as a
        function of :math:`s(r_{ij})`, normalisation included."""
        if not (float(s_max) > 0 and int(intervals) >= 1):
            raise ValueError(
                f"SeADescriptor.enable_table: need s_max > 0 and intervals >= 1, got "
                f"s_max={s_max}, intervals={intervals}."
            )
        self.table_s_max = float(s_max)
        self.table_intervals = int(intervals)
        shape = (self.num_types**2, self.table_intervals, 6, self.embed_widths[-1])
        self.register_buffer("table", self.s_mean.new_zeros(shape), persistent=True)

    @torch.no_grad()
    def embedding_of_s(self, s: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r"""The exact embedding of every (centre type, neighbour type) pair and its first
        two derivatives, :math:`G_{ct}(s) = g((s - \mu_c)/\sigma_c)`, at ``s (K,)``: three
        ``(T^2, K, M1)`` tensors, pair ``c T + t`` (what :meth:`build_table` tabulates)."""
        t = self.num_types
        out: list[tuple[Tensor, Tensor, Tensor]] = []
        for c in range(t):
            scale = self.s_inv_std[c].to(s.dtype)
            x = ((s - self.s_mean[c].to(s.dtype)) * scale).unsqueeze(-1)
            dx = torch.full_like(x, float(scale))
            for n in range(t):
                net = cast(ResidualMLP, self.embeddings[n if self.type_one_side else c * t + n])
                out.append(net.jet(x, dx, torch.zeros_like(x)))
        g, dg, ddg = (torch.stack([o[k] for o in out]) for k in range(3))
        return g, dg, ddg

    @torch.no_grad()
    def build_table(self, s_max: float, intervals: int) -> None:
        """:meth:`enable_table` and fill the table from the embedding networks (quintic
        Hermite coefficients computed in float64, see :func:`hermite_table`)."""
        import copy

        self.enable_table(s_max, intervals)
        exact = copy.deepcopy(self).double()
        table = hermite_table(exact.embedding_of_s, s_max, intervals, self.table.dtype)
        self.table.copy_(table)

    def forward(
        self, edge_vec: Tensor, center: Tensor, neighbor_type: Tensor, center_type: Tensor
    ) -> Tensor:
        num_atoms = center_type.shape[0]
        if not torch.jit.is_scripting():  # TorchScript skips this block (not compiled)
            if self.table_intervals > 0 and self._use_native(edge_vec):
                return self._native(edge_vec, center, neighbor_type, center_type)
        s, env = environment_matrix(edge_vec, self.r_smooth, self.r_cut)
        ctype = center_type.index_select(0, center)
        env = env * self.env_inv_std.index_select(0, ctype)
        if self.table_intervals > 0:
            pair = ctype * self.num_types + neighbor_type
            inv_h = self.table_intervals / self.table_s_max
            t = table_contract_reference(s, env, pair, center, num_atoms, self.table, inv_h)
        else:
            t = self._embedded(s, env, ctype, center, neighbor_type, num_atoms)
        t = t / self.neighbor_norm  # (N, 4, M1)
        d = torch.bmm(t.transpose(1, 2), t[:, :, : self.axis_neurons])  # (N, M1, M2)
        return d.reshape(num_atoms, self.embed_widths[-1] * self.axis_neurons)

    def _use_native(self, edge_vec: Tensor) -> bool:
        """The native fused path: eager inference on CPU with the kernel built (training,
        TorchScript and other devices take the differentiable reference path)."""
        return not self.training and edge_vec.device.type == "cpu" and fused_descriptor_available()

    def _native(
        self, edge_vec: Tensor, center: Tensor, neighbor_type: Tensor, center_type: Tensor
    ) -> Tensor:
        num_atoms = center_type.shape[0]
        if center.shape[0] > 1 and not bool((center[1:] >= center[:-1]).all()):
            order = torch.argsort(center, stable=True)
            edge_vec, center, neighbor_type = edge_vec[order], center[order], neighbor_type[order]
        counts = torch.bincount(center, minlength=num_atoms)
        ptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
        return fused_descriptor(
            edge_vec,
            neighbor_type,
            center_type,
            ptr,
            self.table,
            self.env_inv_std,
            self.axis_neurons,
            self.table_intervals / self.table_s_max,
            float(self.neighbor_norm),
            self.r_smooth,
            self.r_cut,
        )

    def _embedded(
        self,
        s: Tensor,
        env: Tensor,
        ctype: Tensor,
        center: Tensor,
        neighbor_type: Tensor,
        num_atoms: int,
    ) -> Tensor:
        m1 = self.embed_widths[-1]
        x = (s - self.s_mean.index_select(0, ctype)) * self.s_inv_std.index_select(0, ctype)
        if self.type_one_side:
            net_index = neighbor_type
        else:
            net_index = ctype * self.num_types + neighbor_type
        if self.aggregation == "scatter":
            num_edges = center.shape[0]
            g = self.embed_padded(
                x.unsqueeze(-1), net_index, torch.arange(num_edges, device=center.device), num_edges
            )
            outer = (env.unsqueeze(-1) * g.unsqueeze(1)).reshape(num_edges, 4 * m1)
            t = g.new_zeros(num_atoms, 4 * m1).index_add(0, center, outer)
            return t.view(num_atoms, 4, m1)
        # (N, n_max) layout: empty slots have zero env rows and contribute nothing.
        slot, n_max = padding_slots(center, num_atoms)
        size = num_atoms * n_max
        g_pad = self.embed_padded(x.unsqueeze(-1), net_index, slot, size)
        env_pad = env.new_zeros(size, 4).index_copy_(0, slot, env)
        return torch.bmm(
            env_pad.view(num_atoms, n_max, 4).transpose(1, 2),
            g_pad.view(num_atoms, n_max, m1),
        )

    def extra_repr(self) -> str:
        return (
            f"num_types={self.num_types}, r_cut={self.r_cut}, r_smooth={self.r_smooth}, "
            f"embed_widths={self.embed_widths}, axis_neurons={self.axis_neurons}, "
            f"type_one_side={self.type_one_side}, aggregation={self.aggregation!r}, "
            f"table_intervals={self.table_intervals}"
        )
