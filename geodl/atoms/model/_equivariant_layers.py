"""Building blocks of the ``equivariant`` family: irreps helpers, the gate, the radial
MLP, the interaction (tensor-product convolution) and the MACE-style product basis."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from e3nn import o3
from torch import Tensor, nn

from geodl.nn import get_activation

__all__ = [
    "EquivariantGate",
    "InteractionBlock",
    "ProductBasis",
    "RadialMLP",
    "hidden_irreps",
]


def hidden_irreps(channels: int, l_max: int) -> str:
    """``channels`` copies of each degree :math:`l = 0 \\dots l_{max}` with the parity of
    a polar vector's spherical harmonics, :math:`(-1)^l`.

    Examples
    --------
    >>> hidden_irreps(8, 2)
    '8x0e + 8x1o + 8x2e'
    """
    return " + ".join(f"{int(channels)}x{l}{'e' if l % 2 == 0 else 'o'}" for l in range(l_max + 1))


class RadialMLP(nn.Module):
    r"""Per-edge weights of a tensor product from radial features, times the envelope.

    .. math::

        w_e = u(r_e)\; W_K\, \phi(\cdots \phi(W_1 B(r_e)))

    Bias-free with :math:`\phi(0) = 0` (SiLU), so :math:`w_e \to 0` with the envelope
    :math:`u(r_e)` at the cutoff.

    Shapes
    ------
    ``basis (E, K)``, ``envelope (E,)`` -> ``(E, out_features)``.

    Symmetry
    --------
    Acts on invariant features: E(3) invariant.

    Examples
    --------
    >>> import torch
    >>> RadialMLP(8, (16,), 5)(torch.ones(3, 8), torch.ones(3)).shape
    torch.Size([3, 5])
    """

    def __init__(
        self, in_features: int, widths: Sequence[int], out_features: int, activation: str = "silu"
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        dims = [int(in_features), *(int(w) for w in widths)]
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            lin = nn.Linear(a, b, bias=False)
            nn.init.normal_(lin.weight, std=math.sqrt(2.0 / a))
            layers += [lin, get_activation(activation)]
        out = nn.Linear(dims[-1], int(out_features), bias=False)
        nn.init.normal_(out.weight, std=1.0 / math.sqrt(dims[-1]))
        layers.append(out)
        self.net = nn.Sequential(*layers)

    def forward(self, basis: Tensor, envelope: Tensor) -> Tensor:
        return self.net(basis) * envelope.unsqueeze(-1)


class EquivariantGate(nn.Module):
    r"""Gate nonlinearity (Weiler et al. 2018): scalars through an activation, each
    higher-degree channel scaled by the sigmoid of its own gate scalar.

    .. math::

        (s, g, v) \mapsto \big(\phi(s),\ \sigma(g_c)\, v_c^{(l)}\big)

    Input layout ``C x 0e + G x 0e + [gated irreps]`` with one gate per gated channel
    (``G`` = number of gated multiplicities); output ``C x 0e + [gated irreps]``.

    Parameters
    ----------
    scalars : int
        :math:`C`, scalar channels.
    gated : str
        Irreps of the gated part (no scalars), e.g. ``"8x1o + 8x2e"``; may be empty.
    activation : str
        Activation of the scalars (a name of :data:`geodl.nn.ACTIVATIONS`).

    Shapes
    ------
    ``(N, C + G + dim(gated))`` -> ``(N, C + dim(gated))``.

    Symmetry
    --------
    O(3) equivariant: gates are invariant scalars, so :math:`\sigma(g_c) v_c` transforms
    like :math:`v_c`.

    Examples
    --------
    >>> import torch
    >>> gate = EquivariantGate(4, "2x1o")
    >>> gate.irreps_in, gate.irreps_out
    ('4x0e + 2x0e + 2x1o', '4x0e + 2x1o')
    >>> gate(torch.randn(5, 12)).shape
    torch.Size([5, 10])
    """

    def __init__(self, scalars: int, gated: str, activation: str = "silu") -> None:
        super().__init__()
        irreps = o3.Irreps(gated) if gated else o3.Irreps("")
        self.scalars = int(scalars)
        self.num_gates = sum(mul for mul, _ in irreps)
        self.act = get_activation(activation)
        # gate index of each gated component: channel c of a (2l+1)-dim irrep repeats.
        index = [
            g
            for g, (mul, ir) in enumerate((mul, ir) for mul, ir in irreps for _ in range(mul))
            for _ in range(ir.dim)
        ]
        self.register_buffer("gate_index", torch.tensor(index, dtype=torch.long), persistent=False)
        gated_text = str(irreps.simplify()) if irreps.dim else ""
        self.irreps_in = f"{self.scalars}x0e" + (
            f" + {self.num_gates}x0e + {gated_text}" if gated_text else ""
        )
        self.irreps_out = f"{self.scalars}x0e" + (f" + {gated_text}" if gated_text else "")

    def forward(self, x: Tensor) -> Tensor:
        s = self.act(x[:, : self.scalars])
        if self.num_gates == 0:
            return s
        g = torch.sigmoid(x[:, self.scalars : self.scalars + self.num_gates])
        v = x[:, self.scalars + self.num_gates :]
        index = self.gate_index  # a buffer (TorchScript reads no class annotations here)
        return torch.cat([s, v * g.index_select(1, index)], dim=1)  # type: ignore[arg-type]


def _tp_paths(irreps_in: o3.Irreps, irreps_sh: o3.Irreps, targets: set) -> tuple[str, list]:
    """Channel-wise (``uvu``) paths ``in (x) sh -> ir`` for ``ir`` in ``targets``."""
    mid: list[tuple[int, o3.Irrep]] = []
    instructions = []
    for i1, (mul, ir1) in enumerate(irreps_in):
        for i2, (_, ir2) in enumerate(irreps_sh):
            for ir in ir1 * ir2:
                if ir in targets:
                    instructions.append((i1, i2, len(mid), "uvu", True))
                    mid.append((mul, ir))
    return str(o3.Irreps(mid)), instructions


class InteractionBlock(nn.Module):
    r"""One message-passing layer: an e3nn tensor-product convolution with radial weights,
    normalised by the mean number of neighbours, then (optional) products of the
    aggregated features, a gate and a species-dependent residual.

    .. math::

        A_i &= \frac{1}{\bar n} \sum_{j \in \mathcal N(i)}
               R(r_{ij}) \big(W h_j\big) \otimes \mathbf Y(\hat{\mathbf r}_{ij}) \\
        h_i' &= \mathrm{Gate}\big(W' \, \mathcal B_\nu(A_i)\big) + W_{t_i} h_i

    with channel-wise (``uvu``) paths whose weights :math:`R(r)` come from a radial MLP of
    the Bessel basis (times the envelope), :math:`\bar n` the mean neighbour count of the
    training data, :math:`\mathcal B_\nu` the product basis of correlation order
    :math:`\nu` (:class:`ProductBasis`, identity for :math:`\nu = 1`) and
    :math:`W_{t}` a linear map per species. Row :math:`i` of the output depends on
    :math:`h_i` and on :math:`h_j` over the edges :math:`i \to j` only; ``n_out >= 0``
    computes the first ``n_out`` rows alone (every edge centre must be among them), as
    the per-layer LAMMPS path does for the atoms a rank owns.

    Parameters
    ----------
    irreps_in, irreps_out : str
        Node feature irreps before and after the layer (``irreps_out`` of the last layer
        is scalars only).
    irreps_sh : str
        Edge spherical harmonics.
    num_types : int
        Species.
    num_basis : int
        Radial basis size.
    radial_widths : sequence of int
        Hidden widths of the radial MLP.
    correlation : int
        Body order of the product basis per layer (1: none).
    activation : str
        Scalar activation of the gate and the radial MLP.

    Shapes
    ------
    ``h (N, dim irreps_in)``, ``attrs (N, num_types)`` (one-hot), ``species (N,)``,
    ``sh (E, dim irreps_sh)``, ``basis (E, num_basis)``, ``envelope (E,)``,
    ``center, neighbor (E,)`` -> ``(N, dim irreps_out)`` (``(n_out, dim irreps_out)``
    for ``n_out >= 0``).

    Symmetry
    --------
    O(3) equivariant (outputs transform by :attr:`irreps_out` when ``sh`` and ``h``
    transform by theirs) and permutation equivariant.

    Examples
    --------
    >>> import torch
    >>> block = InteractionBlock("4x0e", "4x0e + 4x1o", "1x0e + 1x1o", 2, 3, (8,))
    >>> N, E = 3, 4
    >>> out = block(torch.randn(N, 4), torch.eye(2)[[0, 1, 1]], torch.tensor([0, 1, 1]),
    ...             torch.randn(E, 4), torch.rand(E, 3), torch.ones(E),
    ...             torch.tensor([0, 1, 2, 0]), torch.tensor([1, 0, 0, 2]), torch.tensor(2.0))
    >>> out.shape
    torch.Size([3, 16])
    """

    def __init__(
        self,
        irreps_in: str,
        irreps_out: str,
        irreps_sh: str,
        num_types: int,
        num_basis: int,
        radial_widths: Sequence[int] = (64, 64),
        correlation: int = 1,
        activation: str = "silu",
    ) -> None:
        super().__init__()
        ir_in, ir_out, ir_sh = o3.Irreps(irreps_in), o3.Irreps(irreps_out), o3.Irreps(irreps_sh)
        self.irreps_in, self.irreps_out = str(ir_in), str(ir_out)
        scalars = sum(mul for mul, ir in ir_out if ir.l == 0 and ir.p == 1)
        gated = o3.Irreps([(mul, ir) for mul, ir in ir_out if ir.l > 0])
        self.gate = EquivariantGate(scalars, str(gated), activation)
        gate_in = o3.Irreps(self.gate.irreps_in)
        self.correlation = int(correlation)
        if self.correlation > 1:
            # products need every degree of the messages (A-basis up to the harmonics' l)
            targets = {ir for _, ir in ir_sh}
            self.irreps_messages = str(o3.Irreps([(scalars, ir) for _, ir in ir_sh]))
        else:
            targets = {ir for _, ir in ir_out}
            self.irreps_messages = str(gate_in)
        mid, instructions = _tp_paths(ir_in, ir_sh, targets)
        self.linear_up = o3.Linear(ir_in, ir_in)
        self.conv = o3.TensorProduct(
            ir_in, ir_sh, mid, instructions, shared_weights=False, internal_weights=False
        )
        self.radial = RadialMLP(num_basis, radial_widths, self.conv.weight_numel, activation)
        self.linear_down = o3.Linear(o3.Irreps(mid), o3.Irreps(self.irreps_messages))
        self.products = ProductBasis(
            self.irreps_messages, str(gate_in), num_types, self.correlation
        )
        self.linear_out = (
            o3.Linear(o3.Irreps(self.products.irreps_out), gate_in)
            if self.correlation > 1
            else nn.Identity()
        )
        self.skip = o3.FullyConnectedTensorProduct(ir_in, o3.Irreps(f"{num_types}x0e"), ir_out)

    def forward(
        self,
        h: Tensor,
        attrs: Tensor,
        species: Tensor,
        sh: Tensor,
        basis: Tensor,
        envelope: Tensor,
        center: Tensor,
        neighbor: Tensor,
        avg_num_neighbors: Tensor,
        n_out: int = -1,
    ) -> Tensor:
        n = h.shape[0] if n_out < 0 else n_out  # rows 0..n-1 hold every centre
        x = self.linear_up(h).index_select(0, neighbor)
        msg = self.conv(x, sh, self.radial(basis, envelope))
        agg = torch.zeros(n, msg.shape[1], dtype=msg.dtype, device=msg.device)
        agg = agg.index_add(0, center, msg) / avg_num_neighbors
        a = self.products(self.linear_down(agg), species[:n])
        return self.gate(self.linear_out(a)) + self.skip(h[:n], attrs[:n])


class ProductBasis(nn.Module):
    r"""MACE-style higher body order: channel-wise products of the aggregated features
    with species-dependent weights, all orders side by side.

    .. math::

        \mathcal B(A) = A \oplus B^{(2)} \oplus \dots \oplus B^{(\nu)}, \qquad
        B^{(k)} = w^{(k)}_{t} \cdot \big(B^{(k-1)} \otimes A\big),\quad B^{(1)} = A

    Each product is an e3nn ``uuu`` tensor product (channel :math:`c` of one factor with
    channel :math:`c` of the other, weights per species, path and channel). The first
    product couples :math:`A` with itself only once per pair of irreps (it is symmetric);
    the last keeps only the degrees in ``targets``. A layer's message thus carries body
    order up to :math:`\nu + 1` (MACE's correlation :math:`\nu`).

    Parameters
    ----------
    irreps : str
        Irreps of :math:`A` (one multiplicity for all degrees).
    targets : str
        Irreps the last product keeps (those the next linear map reads).
    num_types : int
        Species (weights per species).
    correlation : int
        :math:`\nu` (1: identity).

    Shapes
    ------
    ``a (N, dim irreps)``, ``species (N,)`` -> ``(N, dim irreps_out)``.

    Symmetry
    --------
    O(3) equivariant (output irreps :attr:`irreps_out`), permutation equivariant.

    Examples
    --------
    >>> import torch
    >>> pb = ProductBasis("2x0e + 2x1o", "2x0e", 1, 3)
    >>> pb.irreps_out
    '2x0e+2x1o+2x0e+2x1o+2x0e'
    >>> pb(torch.randn(4, 8), torch.zeros(4, dtype=torch.long)).shape
    torch.Size([4, 18])
    """

    def __init__(self, irreps: str, targets: str, num_types: int, correlation: int = 1) -> None:
        super().__init__()
        ir_a = o3.Irreps(irreps)
        keep = {ir for _, ir in o3.Irreps(targets)}
        self.correlation = int(correlation)
        self.products = nn.ModuleList()
        parts = [ir_a]
        current = ir_a
        for k in range(2, self.correlation + 1):
            wanted = keep if k == self.correlation else {ir for _, ir in ir_a}
            out, instructions = _product_paths(current, ir_a, wanted, symmetric=k == 2)
            tp = o3.TensorProduct(
                current, ir_a, out, instructions, shared_weights=False, internal_weights=False
            )
            self.products.append(_SpeciesProduct(tp, num_types))
            parts.append(out)
            current = out
        self.irreps_out = str(sum(parts[1:], parts[0]))

    def forward(self, a: Tensor, species: Tensor) -> Tensor:
        outs = [a]
        prod = a
        for product in self.products:
            prod = product(prod, a, species)
            outs.append(prod)
        return torch.cat(outs, dim=1) if len(outs) > 1 else a


def _product_paths(
    ir1: o3.Irreps, ir2: o3.Irreps, wanted: set, symmetric: bool
) -> tuple[o3.Irreps, list]:
    """``uuu`` paths of ``ir1 (x) ir2`` onto the irreps in ``wanted`` (one output block per
    degree, simplified); ``symmetric``: each unordered pair of inputs once."""
    mul = ir2[0].mul
    outs = sorted({ir for _, a in ir1 for _, b in ir2 for ir in a * b if ir in wanted})
    out = o3.Irreps([(mul, ir) for ir in outs])
    instructions = [
        (i1, i2, outs.index(ir), "uuu", True)
        for i1, (_, a) in enumerate(ir1)
        for i2, (_, b) in enumerate(ir2)
        if not (symmetric and i2 < i1)
        for ir in a * b
        if ir in wanted
    ]
    return out, instructions


class _SpeciesProduct(nn.Module):
    """One ``uuu`` product with weights per species."""

    def __init__(self, tp: o3.TensorProduct, num_types: int) -> None:
        super().__init__()
        self.tp = tp
        self.weight = nn.Parameter(torch.randn(num_types, int(tp.weight_numel)) * 0.1)

    def forward(self, x: Tensor, a: Tensor, species: Tensor) -> Tensor:
        return self.tp(x, a, self.weight.index_select(0, species))
