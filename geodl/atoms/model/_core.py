"""The shared head of every family: energies, forces, virial and stress by autograd."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from geodl.geometry import edge_vectors

__all__ = ["PotentialCore"]


class PotentialCore(nn.Module):
    r"""Tensor-only energy/force/stress evaluation around a family's atomic energies
    (TorchScript-able).

    .. math::

        E_b = \sum_{i \in b} \left[\alpha\, \varepsilon_i + e_{t_i}\right], \quad
        \mathbf F_i = -\frac{\partial E}{\partial \mathbf x_i}, \quad
        W_b = -\frac{\partial E_b}{\partial \varepsilon}\Big|_0, \quad
        \sigma_b = -\frac{W_b}{V_b}

    with :math:`\varepsilon_i` the family's atomic energies (``atomic``), the output scale
    :math:`\alpha` and per-species reference energies :math:`e_t` (E0s). Stress and
    virial are the derivative with respect to a symmetric strain :math:`\varepsilon`
    of positions and cell (:math:`x \to x(1+\varepsilon)`); since the energy depends on
    positions only through the edge vectors, one backward pass to the edge vectors
    gives both: :math:`\mathbf g_e = \partial E/\partial \mathbf r_e`,
    :math:`\mathbf F_i = \sum_{e: c_e = i} \mathbf g_e - \sum_{e: n_e = i} \mathbf g_e`,
    :math:`W = -\mathrm{sym} \sum_e \mathbf r_e \otimes \mathbf g_e`. The stress uses
    ASE's sign (eV/Å³) and is zero for structures without a cell volume, whose virial
    is still returned.

    Parameters
    ----------
    atomic : nn.Module
        ``atomic(species, edge_vec, edge_index) -> (N,)`` (a family of
        :data:`~geodl.atoms.MODEL_TYPES`).
    num_types : int
        Number of species.

    Shapes
    ------
    ``species (N,)``, ``pos (N, 3)``, ``edge_index (2, E)``, ``shifts (E, 3)``,
    ``cell (B, 3, 3)``, ``batch (N,)`` -> dict of ``energy (B,)``,
    ``atomic_energies (N,)``, ``forces (N, 3)``, ``virial``/``stress (B, 3, 3)``.

    Symmetry
    --------
    That of ``atomic``: energies E(3) invariant, forces equivariant, stress and virial
    rank-2 tensors, all permutation equivariant over like atoms.

    Examples
    --------
    >>> import torch
    >>> from geodl.atoms import SeE2AConfig
    >>> from geodl.atoms.model._se_e2_a import SeE2A
    >>> cfg = SeE2AConfig(type_map=["H"], r_cut=3.0, r_smooth=2.0, embed_widths=(4,),
    ...                   axis_neurons=2, fitting_widths=(4,))
    >>> core = PotentialCore(SeE2A(cfg), 1)
    >>> pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0]])
    >>> out = core(torch.zeros(2, dtype=torch.long), pos, torch.tensor([[0, 1], [1, 0]]),
    ...            torch.zeros(2, 3), torch.zeros(1, 3, 3), torch.zeros(2, dtype=torch.long), 1)
    >>> out["forces"].shape
    torch.Size([2, 3])
    """

    if TYPE_CHECKING:  # for mypy only: TorchScript cannot read these string annotations
        #: the family's module: ``atomic(species, edge_vec, edge_index)``,
        #: ``receptive_field``, ``fit_statistics(samples)`` (an nn.Module of the family)
        atomic: Any
        # buffers (registered in __init__)
        energy_shift: Tensor
        energy_scale: Tensor

    def __init__(self, atomic: nn.Module, num_types: int) -> None:
        super().__init__()
        self.atomic = atomic
        self.register_buffer("energy_shift", torch.zeros(int(num_types)))
        self.register_buffer("energy_scale", torch.tensor(1.0))

    def atomic_energies(self, species: Tensor, edge_vec: Tensor, edge_index: Tensor) -> Tensor:
        r"""Per-atom energies :math:`\alpha \varepsilon_i + e_{t_i}` ``(N,)`` from edge
        vectors :math:`\mathbf r_{ij} = \mathbf x_j - \mathbf x_i (+ \text{image})`;
        differentiable with respect to ``edge_vec`` (the entry point for deployment)."""
        eps = self.atomic(species, edge_vec, edge_index)
        return eps * self.energy_scale + self.energy_shift.index_select(0, species)

    def forward(
        self,
        species: Tensor,
        pos: Tensor,
        edge_index: Tensor,
        shifts: Tensor,
        cell: Tensor,
        batch: Tensor,
        num_graphs: int,
        compute_forces: bool = True,
        compute_stress: bool = False,
    ) -> dict[str, Tensor]:
        dtype = self.energy_shift.dtype
        pos = pos.to(dtype)
        cell = cell.to(dtype)
        shifts = shifts.to(dtype)
        want_grad = compute_forces or compute_stress
        edge_vec = edge_vectors(pos, edge_index, shifts, cell, batch)
        if want_grad and not edge_vec.requires_grad:
            edge_vec.requires_grad_(True)
        atomic = self.atomic_energies(species, edge_vec, edge_index)
        energy = torch.zeros(num_graphs, dtype=dtype, device=pos.device).index_add(0, batch, atomic)
        out: dict[str, Tensor] = {"energy": energy, "atomic_energies": atomic}
        if want_grad:
            grads = torch.autograd.grad(
                [energy.sum()], [edge_vec], create_graph=self.training, allow_unused=True
            )
            g = grads[0]
            if g is None:
                g = torch.zeros_like(edge_vec)
            if compute_forces:
                # r_e = x_j - x_i (+ image): dE/dx_j += g_e, dE/dx_i -= g_e.
                forces = torch.zeros_like(pos).index_add(0, edge_index[0], g)
                out["forces"] = forces.index_add(0, edge_index[1], -g)
            if compute_stress:
                out.update(_virial_stress(edge_vec, g, cell, batch, edge_index, num_graphs))
        return out


def _virial_stress(
    edge_vec: Tensor, g: Tensor, cell: Tensor, batch: Tensor, edge_index: Tensor, num_graphs: int
) -> dict[str, Tensor]:
    r"""Virial :math:`W = -\mathrm{sym}\sum_e \mathbf r_e \otimes \partial E/\partial
    \mathbf r_e` per structure and stress :math:`-W/V` (zero without a cell volume): the
    derivative with respect to a symmetric strain of positions and cell, written through
    the edge vectors (the energy depends on positions only through them)."""
    if num_graphs == 1:
        m = (edge_vec.transpose(0, 1) @ g).unsqueeze(0)
    else:
        outer = (edge_vec.unsqueeze(-1) * g.unsqueeze(1)).reshape(-1, 9)
        graph_of_edge = batch.index_select(0, edge_index[0])
        m = g.new_zeros(num_graphs, 9).index_add(0, graph_of_edge, outer).view(num_graphs, 3, 3)
    de = 0.5 * (m + m.transpose(1, 2))
    volume = torch.linalg.det(cell).abs()
    safe = torch.where(volume > 1e-8, volume, torch.ones_like(volume))
    scale = torch.where(volume > 1e-8, 1.0 / safe, torch.zeros_like(volume))
    return {"virial": -de, "stress": de * scale.view(-1, 1, 1)}
