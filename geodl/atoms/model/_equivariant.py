"""The equivariant message-passing family (``model.type: equivariant``) on e3nn."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from e3nn import o3
from torch import Tensor, nn

from geodl.atoms.model._equivariant_config import EquivariantConfig
from geodl.atoms.model._equivariant_layers import InteractionBlock, hidden_irreps
from geodl.geometry import BesselBasis, EdgeHarmonics, PolynomialEnvelope
from geodl.nn import get_activation

__all__ = ["Equivariant"]


class _Readout(nn.Module):
    """Atomic energy contribution of one layer from its scalar channels."""

    def __init__(self, scalars: int, widths: tuple[int, ...], activation: str) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        dims = [scalars, *widths]
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            layers += [nn.Linear(a, b), get_activation(activation)]
        layers.append(nn.Linear(dims[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, s: Tensor) -> Tensor:
        return self.net(s).squeeze(-1)


class Equivariant(nn.Module):
    r"""Atomic energies of an E(3)-equivariant message-passing network (NequIP / MACE
    family) built from e3nn tensor products.

    .. math::

        h_i^{(0)} &= W_\text{embed}\, \mathbf 1_{t_i} \quad (C \times 0e) \\
        h_i^{(t+1)} &= \mathrm{Interaction}_t\big(h^{(t)}, \{R_t(r_{ij})\,
            \mathbf Y(\hat{\mathbf r}_{ij})\}\big) \\
        \varepsilon_i &= \sum_{t=1}^{T} \mathrm{Readout}_t\big(h_i^{(t)}\big|_{0e}\big)

    Edge features: spherical harmonics :math:`\mathbf Y` up to ``l_max`` of the unit edge
    vectors and a learnable Bessel basis times the polynomial envelope (zero with its
    first two derivatives at ``r_cut``). Hidden features carry ``channels`` copies of each
    degree :math:`l \le l_{max}` (parity :math:`(-1)^l`); the last layer keeps only
    scalars. Messages are normalised by the mean neighbour count of the training data
    (:meth:`fit_statistics`). Each of the ``layers`` layers reaches ``r_cut`` further,
    so the receptive field is ``layers * r_cut``.

    Parameters
    ----------
    config : EquivariantConfig
        Hyper-parameters.

    Shapes
    ------
    ``species (N,)``, ``edge_vec (E, 3)``, ``edge_index (2, E)`` -> ``(N,)``.

    Symmetry
    --------
    E(3) invariant atomic energies (O(3) equivariant node features layer by layer, see
    :attr:`irreps_per_layer`), permutation equivariant.

    Examples
    --------
    >>> import torch
    >>> from geodl.atoms import EquivariantConfig
    >>> fam = Equivariant(EquivariantConfig(type_map=["H"], r_cut=3.0, channels=4,
    ...                                     l_max=1, radial_mlp=(8,), readout_mlp=(4,)))
    >>> fam(torch.zeros(2, dtype=torch.long), torch.tensor([[1.0, 0, 0], [-1.0, 0, 0]]),
    ...     torch.tensor([[0, 1], [1, 0]])).shape
    torch.Size([2])
    >>> fam.receptive_field, fam.irreps_per_layer
    (6.0, ['4x0e + 4x1o', '4x0e'])
    """

    def __init__(self, config: EquivariantConfig) -> None:
        super().__init__()
        c = config
        self.num_types = len(c.type_map)
        self.receptive_field = float(c.layers * c.r_cut)
        self.channels = int(c.channels)
        self.register_buffer("avg_num_neighbors", torch.tensor(float(c.avg_num_neighbors or 1.0)))
        self.fixed_avg_num_neighbors = c.avg_num_neighbors is not None
        self.embedding = nn.Linear(self.num_types, c.channels, bias=False)
        nn.init.normal_(self.embedding.weight)  # unit-variance scalars for e3nn's norms
        self.harmonics = EdgeHarmonics(c.l_max)
        hidden_l = min(c.l_max, c.hidden_l_max)
        self.basis = BesselBasis(c.r_cut, c.num_radial_basis)
        self.envelope = PolynomialEnvelope(c.r_cut, c.envelope_exponent)
        irreps = [f"{c.channels}x0e"]
        for t in range(c.layers):
            last = t == c.layers - 1
            irreps.append(f"{c.channels}x0e" if last else hidden_irreps(c.channels, hidden_l))
        self.irreps_per_layer = irreps[1:]
        #: feature widths of h_0 ... h_L (the per-layer path of deployment)
        self.layer_widths = [int(o3.Irreps(ir).dim) for ir in irreps]
        self.interactions = nn.ModuleList(
            InteractionBlock(
                irreps[t],
                irreps[t + 1],
                self.harmonics.irreps,
                self.num_types,
                c.num_radial_basis,
                c.radial_mlp,
                c.correlation,
                c.activation,
            )
            for t in range(c.layers)
        )
        self.readouts = nn.ModuleList(
            _Readout(c.channels, tuple(c.readout_mlp) if t == c.layers - 1 else (), c.activation)
            for t in range(c.layers)
        )

    @staticmethod
    def activation_count(config: EquivariantConfig, n_atoms: int, n_edges: int) -> int:
        r"""Activation values of one forward pass (an estimate for the size check of
        :func:`~geodl.atoms.model.check_model_size`): per edge the harmonics and basis,
        and per layer the radial MLP, its :math:`C \cdot P` path weights, the gathered
        features and the messages (:math:`C \cdot P \cdot (2 L + 1)` at most); per atom
        a few copies of the hidden features, :math:`C \sum_{l \le L_h} (2l + 1)`.

        Examples
        --------
        >>> from geodl.atoms import EquivariantConfig
        >>> Equivariant.activation_count(EquivariantConfig(channels=4, radial_mlp=(8,),
        ...                                                readout_mlp=(4,)), 1, 10)
        3356
        """
        c, lh, lm = config.channels, min(config.hidden_l_max, config.l_max), config.l_max
        hidden = c * (lh + 1) ** 2
        paths = (lh + 1) * (lm + 1) * 2  # uvu paths in (x) sh -> out, upper bound
        per_edge_layer = sum(config.radial_mlp) + c * paths * (2 * lm + 2) + hidden
        per_edge = (lm + 1) ** 2 + config.num_radial_basis + config.layers * per_edge_layer
        per_atom = config.layers * 6 * hidden + sum(config.readout_mlp)
        return int(n_edges) * per_edge + int(n_atoms) * per_atom

    def _edges(self, species: Tensor, edge_vec: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        r = torch.linalg.vector_norm(edge_vec, dim=-1)
        attrs = nn.functional.one_hot(species, self.num_types).to(edge_vec.dtype)
        return attrs, self.harmonics(edge_vec), self.basis(r), self.envelope(r)

    def node_features(self, species: Tensor, edge_vec: Tensor, edge_index: Tensor) -> list[Tensor]:
        """Node features after each layer, ``(N, dim irreps_per_layer[t])`` each."""
        attrs, sh, basis, env = self._edges(species, edge_vec)
        h = self.embedding(attrs)
        out: list[Tensor] = []
        for block in self.interactions:
            h = block(
                h,
                attrs,
                species,
                sh,
                basis,
                env,
                edge_index[0],
                edge_index[1],
                self.avg_num_neighbors,
            )
            out.append(h)
        return out

    @torch.jit.export
    def embed(self, species: Tensor) -> Tensor:
        """Node features :math:`h^{(0)}` ``(N, channels)``: a function of the species only."""
        attrs = nn.functional.one_hot(species, self.num_types).to(self.embedding.weight.dtype)
        return self.embedding(attrs)

    @torch.jit.export
    def layer(
        self, t: int, h: Tensor, species: Tensor, edge_vec: Tensor, edge_index: Tensor, n_out: int
    ) -> tuple[Tensor, Tensor]:
        r"""Layer ``t`` alone: :math:`h^{(t+1)}` and the readout
        :math:`\mathrm{Readout}_t(h^{(t+1)}|_{0e})` of the first ``n_out`` nodes.

        :meth:`forward` is :meth:`embed` followed by ``layer(t, ...)`` for ``t = 0 ...
        layers - 1`` with ``n_out = N``, the readouts summed. With ``n_out < N`` only the
        rows of the nodes ``0 ... n_out - 1`` are computed, which must hold every edge
        centre: what an MD engine needs for the atoms it owns when the other nodes'
        features come from elsewhere (LAMMPS's per-layer ghost exchange).

        Shapes
        ------
        ``h (N, layer_widths[t])``, ``species (N,)``, ``edge_vec (E, 3)``, ``edge_index
        (2, E)`` -> ``(n_out, layer_widths[t + 1])``, ``(n_out,)``.

        Examples
        --------
        >>> import torch
        >>> from geodl.atoms import EquivariantConfig
        >>> fam = Equivariant(EquivariantConfig(type_map=["H"], r_cut=3.0, channels=4,
        ...                                     l_max=1, radial_mlp=(8,), readout_mlp=(4,)))
        >>> s, v = torch.zeros(2, dtype=torch.long), torch.tensor([[1.0, 0, 0], [-1.0, 0, 0]])
        >>> ei = torch.tensor([[0, 1], [1, 0]])
        >>> h1, e0 = fam.layer(0, fam.embed(s), s, v, ei, 2)
        >>> h2, e1 = fam.layer(1, h1, s, v, ei, 2)
        >>> fam.layer_widths, h1.shape, bool(torch.allclose(e0 + e1, fam(s, v, ei)))
        ([4, 16, 4], torch.Size([2, 16]), True)
        """
        attrs, sh, basis, env = self._edges(species, edge_vec)
        center, neighbor = edge_index[0], edge_index[1]
        out = h
        found = False
        for i, block in enumerate(self.interactions):
            if i == t:
                avg = self.avg_num_neighbors
                out = block(h, attrs, species, sh, basis, env, center, neighbor, avg, n_out)
                found = True
        if not found:
            n = len(self.interactions)
            raise RuntimeError(f"Equivariant.layer: no layer {t}; valid layers are 0 to {n - 1}")
        energy = torch.zeros(0, dtype=out.dtype, device=out.device)
        for i, readout in enumerate(self.readouts):
            if i == t:
                energy = readout(out[:, : self.channels])
        return out, energy

    def forward(self, species: Tensor, edge_vec: Tensor, edge_index: Tensor) -> Tensor:
        attrs, sh, basis, env = self._edges(species, edge_vec)
        h = self.embedding(attrs)
        center, neighbor = edge_index[0], edge_index[1]
        energy = torch.zeros(species.shape[0], dtype=edge_vec.dtype, device=edge_vec.device)
        for block, readout in zip(self.interactions, self.readouts):  # noqa: B905 (TorchScript)
            h = block(h, attrs, species, sh, basis, env, center, neighbor, self.avg_num_neighbors)
            energy = energy + readout(h[:, : self.channels])
        return energy

    @torch.jit.unused
    def describe(self) -> dict[str, Any]:
        """Irreps of the node features after each layer and the message normalisation."""
        return {
            "irreps_per_layer": list(self.irreps_per_layer),
            "avg_num_neighbors": float(self.get_buffer("avg_num_neighbors")),
        }

    @torch.no_grad()
    def fit_statistics(self, samples: Iterable[tuple[Tensor, Tensor, Tensor]]) -> dict[str, Any]:
        r"""Mean number of neighbours :math:`\bar n` (edges per atom within ``r_cut``) of
        the training environments, unless ``avg_num_neighbors`` was given.

        Parameters
        ----------
        samples : iterable of (species, edge_vec, edge_index)
            float64 CPU tensors, one tuple per batch of structures.
        """
        edges = atoms = 0
        for species, _, edge_index in samples:
            edges += int(edge_index.shape[1])
            atoms += int(species.shape[0])
        if not self.fixed_avg_num_neighbors and atoms > 0:
            self.get_buffer("avg_num_neighbors").fill_(max(edges / atoms, 1.0))
        return {"avg_num_neighbors": float(self.get_buffer("avg_num_neighbors"))}
