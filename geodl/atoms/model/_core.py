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
    virial come from a symmetric strain :math:`\varepsilon` applied to positions and
    cell (:math:`x \to x(1+\varepsilon)`); the stress uses ASE's sign (eV/Å³) and is
    zero for structures without a cell volume, whose virial is still returned.

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
        if want_grad and not pos.requires_grad:
            pos = pos.detach().requires_grad_(True)
        strain = torch.zeros(num_graphs, 3, 3, dtype=dtype, device=pos.device)
        if compute_stress:
            strain.requires_grad_(True)
            sym = 0.5 * (strain + strain.transpose(1, 2))
            pos = pos + torch.bmm(pos.unsqueeze(1), sym.index_select(0, batch)).squeeze(1)
            cell = cell + torch.bmm(cell, sym)
        edge_vec = edge_vectors(pos, edge_index, shifts, cell, batch)
        atomic = self.atomic_energies(species, edge_vec, edge_index)
        energy = torch.zeros(num_graphs, dtype=dtype, device=pos.device).index_add(0, batch, atomic)
        out: dict[str, Tensor] = {"energy": energy, "atomic_energies": atomic}
        if want_grad:
            inputs = [pos]
            if compute_stress:
                inputs.append(strain)
            grads = torch.autograd.grad(
                [energy.sum()], inputs, create_graph=self.training, allow_unused=True
            )
            if compute_forces:
                g = grads[0]
                out["forces"] = -g if g is not None else torch.zeros_like(pos)
            if compute_stress:
                g = grads[1]
                de = g if g is not None else torch.zeros_like(strain)
                volume = torch.linalg.det(cell).abs()
                safe = torch.where(volume > 1e-8, volume, torch.ones_like(volume))
                scale = torch.where(volume > 1e-8, 1.0 / safe, torch.zeros_like(volume))
                out["virial"] = -de
                out["stress"] = de * scale.view(-1, 1, 1)
        return out
