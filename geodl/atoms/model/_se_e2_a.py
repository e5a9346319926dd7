"""The DeepPot-SE family (``model.type: se_e2_a``): descriptor + per-species fitting."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from geodl.atoms.model._config import SeE2AConfig
from geodl.atoms.model._fitting import AtomicFitting
from geodl.geometry import SeADescriptor, environment_matrix

__all__ = ["SeE2A"]


class SeE2A(nn.Module):
    r"""Atomic energies of DeepPot-SE: :math:`\varepsilon_i = h_{t_i}(D_i)`.

    .. math::

        \varepsilon_i = h_{t_i}\big(D_i(\{\mathbf r_{ij}\}_{j \in \mathcal N(i)})\big)

    with :math:`D_i` the ``se_e2_a`` descriptor (:class:`~geodl.geometry.SeADescriptor`)
    and :math:`h_t` the per-species fitting networks (:class:`AtomicFitting`). The
    energy of atom :math:`i` depends only on neighbours within :math:`r_c`: the
    receptive field is :math:`r_c`.

    Parameters
    ----------
    config : SeE2AConfig
        Hyper-parameters.

    Shapes
    ------
    ``species (N,)``, ``edge_vec (E, 3)``, ``edge_index (2, E)`` -> ``(N,)``.

    Symmetry
    --------
    E(3) invariant (distances and angles only) and equivariant under permutations of
    like atoms (per-atom outputs follow their atoms).

    Examples
    --------
    >>> import torch
    >>> from geodl.atoms import SeE2AConfig
    >>> fam = SeE2A(SeE2AConfig(type_map=["H"], r_cut=3.0, r_smooth=2.0, embed_widths=(4,),
    ...                         axis_neurons=2, fitting_widths=(4,)))
    >>> fam(torch.zeros(2, dtype=torch.long), torch.tensor([[1.0, 0, 0], [-1.0, 0, 0]]),
    ...     torch.tensor([[0, 1], [1, 0]])).shape
    torch.Size([2])
    """

    def __init__(self, config: SeE2AConfig) -> None:
        super().__init__()
        num_types = len(config.type_map)
        self.receptive_field = float(config.r_cut)
        self.descriptor = SeADescriptor(
            num_types,
            config.r_cut,
            config.r_smooth,
            config.embed_widths,
            config.axis_neurons,
            config.type_one_side,
            config.activation,
            config.neighbor_norm,
            config.resnet,
        )
        self.fitting = AtomicFitting(
            num_types,
            self.descriptor.out_features,
            config.fitting_widths,
            config.activation,
            config.resnet,
        )
        self.fixed_neighbor_norm = config.neighbor_norm is not None
        if config.compression is not None:
            self.descriptor.enable_table(
                config.compression["s_max"], config.compression["intervals"]
            )

    @staticmethod
    def activation_count(config: SeE2AConfig, n_atoms: int, n_edges: int) -> int:
        r"""Activation values of one forward pass: per edge the embedding layers and the
        outer product (:math:`\sum_l w_l + 4 M_1`), per atom :math:`T_i`, :math:`D_i`
        and the fitting layers (:math:`4 M_1 + M_1 M_2 + \sum_l h_l`).

        Examples
        --------
        >>> from geodl.atoms import SeE2AConfig
        >>> SeE2A.activation_count(SeE2AConfig(embed_widths=(4,), axis_neurons=2,
        ...                                    fitting_widths=(8,)), 1, 10)
        232
        """
        m1 = config.embed_widths[-1]
        per_edge = sum(config.embed_widths) + 4 * m1
        per_atom = 4 * m1 + m1 * config.axis_neurons + sum(config.fitting_widths)
        return int(n_edges) * per_edge + int(n_atoms) * per_atom

    def forward(self, species: Tensor, edge_vec: Tensor, edge_index: Tensor) -> Tensor:
        center = edge_index[0]
        neighbor_type = species.index_select(0, edge_index[1])
        return self.fitting(self.descriptor(edge_vec, center, neighbor_type, species), species)

    @torch.no_grad()
    def fit_statistics(self, samples: Iterable[tuple[Tensor, Tensor, Tensor]]) -> dict[str, Any]:
        r"""Descriptor normalisation from training environments.

        Per centre type: mean/std of :math:`s(r)` (the embedding input) and RMS of the
        radial and angular environment columns (only scaled, never shifted, so the
        descriptor stays smooth at :math:`r_c`); :math:`N_c` = mean neighbour count
        unless ``neighbor_norm`` was given.

        Parameters
        ----------
        samples : iterable of (species, edge_vec, edge_index)
            float64 CPU tensors, one tuple per batch of structures.
        """
        t = self.descriptor.num_types
        f64 = torch.float64
        cnt, s1, s2, ang2, n_atoms = (torch.zeros(t, dtype=f64) for _ in range(5))
        for species, edge_vec, edge_index in samples:
            s, env = environment_matrix(edge_vec, self.descriptor.r_smooth, self.descriptor.r_cut)
            ct = species.index_select(0, edge_index[0])
            cnt.index_add_(0, ct, torch.ones_like(s))
            s1.index_add_(0, ct, s)
            s2.index_add_(0, ct, s * s)
            ang2.index_add_(0, ct, (env[:, 1:] ** 2).sum(-1) / 3.0)
            n_atoms.index_add_(0, species, torch.ones(len(species), dtype=f64))
        has = cnt > 0
        safe = cnt.clamp_min(1)
        mean = torch.where(has, s1 / safe, torch.zeros_like(s1))
        var = (s2 / safe - mean**2).clamp_min(0)
        std = torch.where(has & (var > 1e-12), var.sqrt(), torch.ones_like(var))
        rad = torch.where(has, (s2 / safe).sqrt(), torch.ones_like(s1))
        ang = torch.where(has & (ang2 > 0), (ang2 / safe).sqrt(), torch.ones_like(s1))
        nc = None
        if not self.fixed_neighbor_norm:
            nc = max(float(cnt.sum() / n_atoms.sum().clamp_min(1)), 1.0)
        self.descriptor.set_statistics(mean, std, rad, ang, nc)
        return {
            "s_mean": mean.tolist(),
            "s_std": std.tolist(),
            "neighbor_norm": float(self.descriptor.neighbor_norm),
        }
