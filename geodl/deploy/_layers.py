"""The per-layer path of a deployed message-passing model in plain Python: what
``pair_style geodl`` does in its exchange mode, on domains of one process (used by the
deploy check and the tests)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["check_layer_path", "simulate_exchange"]


def _domain_graph(
    owner: Tensor, domain: int, edge_index: Tensor
) -> tuple[Tensor, int, Tensor, Tensor]:
    """Nodes of one domain (its atoms first, then every other atom as a ghost), their
    count of owned atoms, the domain's edges (those whose centre it owns: a boolean mask
    over all edges) and those edges in the domain's node numbering."""
    owned = torch.nonzero(owner == domain).flatten()
    ghosts = torch.nonzero(owner != domain).flatten()
    nodes = torch.cat([owned, ghosts])
    number = torch.empty_like(nodes)
    number[nodes] = torch.arange(len(nodes))
    mask = owner[edge_index[0]] == domain
    return nodes, len(owned), mask, number[edge_index[:, mask]]


def simulate_exchange(
    module: Any,
    species: Tensor,
    edge_vec: Tensor,
    edge_index: Tensor,
    owner: Tensor,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Energies and edge gradients through ``mp_forward`` / ``mp_backward`` of a deployed
    model, as LAMMPS ranks compute them with the per-layer exchange.

    Domain :math:`d` owns the atoms with ``owner == d`` and holds every other atom as a
    ghost; it evaluates the edges whose centre it owns. Forward, layers :math:`t = 0 \ldots
    L - 2`: each domain computes :math:`h^{(t+1)}` of its own atoms, then every ghost row
    is set to its owner's row (forward communication). Backward, from the last layer (whose
    energies ``mp_backward`` gives, so it never runs forward alone):

    .. math::

        S_t = \sum_{i\ \text{own}} \left[e_i^{(t)} + h_i^{(t+1)} \cdot g_i^{(t+1)}\right],
        \qquad g^{(t)} = \text{owner sum of } \partial S_t / \partial h^{(t)}, \qquad
        \mathbf G_e = \sum_t \partial S_t / \partial \mathbf r_e

    (the owner sum is the reverse communication of ghost rows).

    Parameters
    ----------
    module : DeployedPotential or its TorchScript
        A model with ``mp_layers > 0``.
    owner : Tensor
        ``(N,)`` int64, the domain of each atom (``0 ... D - 1``).

    Shapes
    ------
    ``species (N,)``, ``edge_vec (E, 3)``, ``edge_index (2, E)``, ``owner (N,)`` ->
    ``energy ()``, ``atomic (N,)``, ``grad (E, 3)``, float64.

    Examples
    --------
    >>> import torch
    >>> from geodl.atoms import AtomisticModel, EquivariantConfig
    >>> from geodl.deploy import DeployedPotential
    >>> from geodl.geometry import neighbor_list
    >>> m = AtomisticModel(EquivariantConfig(type_map=["H"], r_cut=2.0, channels=4,
    ...     radial_mlp=(8,), readout_mlp=(4,), dtype="float64"))
    >>> pot = DeployedPotential(m)
    >>> pos = torch.rand(6, 3, dtype=torch.float64) * 2.5
    >>> ei, _ = neighbor_list(pos, 2.0)
    >>> vec, s = pos[ei[1]] - pos[ei[0]], torch.zeros(6, dtype=torch.long)
    >>> e, _, g = simulate_exchange(pot, s, vec, ei, torch.tensor([0, 0, 0, 1, 1, 1]))
    >>> e_ref, _, g_ref = pot(s, vec, ei, 6)
    >>> bool(torch.allclose(e, e_ref)), bool(torch.allclose(g, g_ref))
    (True, True)
    """
    n = species.shape[0]
    domains = [_domain_graph(owner, d, edge_index) for d in range(int(owner.max()) + 1)]
    atomic = torch.zeros(n, dtype=torch.float64)
    feats = _forward(module, species, edge_vec, domains, atomic)
    grad = _backward(module, species, edge_vec, domains, atomic, feats)
    return atomic.sum(), atomic, grad


def _forward(
    module: Any, species: Tensor, edge_vec: Tensor, domains: list, atomic: Tensor
) -> list[Tensor]:
    """Layers 0 ... L-2 over every domain, features exchanged: ``[h_0 (unused), h_1, ...,
    h_{L-1}]`` of all atoms; energies added to ``atomic``."""
    n = species.shape[0]
    feats = [torch.zeros(0, dtype=torch.float64)]  # h_0 is built from the species
    for t in range(int(module.mp_layers) - 1):
        h_next = torch.zeros(n, int(module.mp_widths[t + 1]), dtype=torch.float64)
        for nodes, nown, mask, index in domains:
            h_in = feats[t][nodes] if t else feats[0]
            h_own, e_own = module.mp_forward(t, h_in, species[nodes], edge_vec[mask], index, nown)
            h_next[nodes[:nown]] = h_own  # forward communication: owners' rows everywhere
            atomic[nodes[:nown]] += e_own
        feats.append(h_next)
    return feats


def _backward(
    module: Any, species: Tensor, edge_vec: Tensor, domains: list, atomic: Tensor, feats: list
) -> Tensor:
    """Layers L-1 ... 0 backward over every domain: the summed edge gradients; the last
    layer's energies added to ``atomic``."""
    layers = int(module.mp_layers)
    grad = torch.zeros(edge_vec.shape[0], 3, dtype=torch.float64)
    g_next = torch.zeros(0, dtype=torch.float64)
    for t in reversed(range(layers)):
        g_h = torch.zeros(species.shape[0], int(module.mp_widths[t]), dtype=torch.float64)
        for nodes, nown, mask, index in domains:
            down = g_next[nodes[:nown]] if t < layers - 1 else g_next
            h_in = feats[t][nodes] if t else feats[0]
            g_nodes, g_edges, e_own = module.mp_backward(
                t, h_in, species[nodes], edge_vec[mask], index, nown, down
            )
            grad[mask] += g_edges
            if t == layers - 1:
                atomic[nodes[:nown]] += e_own
            if t:
                g_h.index_add_(0, nodes, g_nodes)  # reverse communication: ghosts to owners
        g_next = g_h
    return grad


def check_layer_path(module: Any, species: Tensor, pos: Tensor, r_cut: float) -> float:
    """Largest |difference| of energies / edge gradients between the one-shot ``forward``
    of a deployed message-passing model and :func:`simulate_exchange` over two domains
    (the atoms left and right of the median x), on the cluster ``pos``."""
    from geodl.geometry import neighbor_list

    edge_index, _ = neighbor_list(pos, r_cut)
    vec = pos[edge_index[1]] - pos[edge_index[0]]
    owner = (pos[:, 0] > pos[:, 0].median()).to(torch.long)
    e_one, a_one, g_one = module(species, vec, edge_index, species.shape[0])
    e_mp, a_mp, g_mp = simulate_exchange(module, species, vec, edge_index, owner)
    pairs = [(e_one, e_mp), (a_one, a_mp), (g_one, g_mp)]
    return max(float((x - y).abs().max()) for x, y in pairs)
