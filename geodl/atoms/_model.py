"""DeepPot-SE energy model: energies, forces and stress from a neighbour graph."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from geodl.atoms._config import EnergyModelConfig
from geodl.atoms._descriptor import SeADescriptor
from geodl.atoms._fitting import AtomicFitting
from geodl.atoms._validation import check_min_distance, check_positions, check_species
from geodl.symmetry import Declaration


def _graph_tensors(data: Any) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int]:
    """Fields of a PyG ``Data``/``Batch``: species, pos, edge_index, shifts, cell (B,3,3),
    batch (N,), number of graphs."""
    for key in ("species", "pos", "edge_index"):
        if key not in data:
            raise ValueError(
                f"EnergyModel: the input graph has no {key!r}; build graphs with "
                "geodl.atoms.atoms_to_graph."
            )
    pos = data.pos
    n = pos.shape[0]
    batch = data.batch if "batch" in data and data.batch is not None else None
    if batch is None:
        batch = torch.zeros(n, dtype=torch.long, device=pos.device)
        num_graphs = 1
    else:
        num_graphs = int(data.num_graphs)
    edge_index = data.edge_index
    if "shifts" in data and data.shifts is not None:
        shifts = data.shifts
    else:
        shifts = pos.new_zeros(edge_index.shape[1], 3)
    if "cell" in data and data.cell is not None:
        cell = data.cell.reshape(-1, 3, 3)
    else:
        cell = pos.new_zeros(num_graphs, 3, 3)
    if cell.shape[0] != num_graphs:
        raise ValueError(
            f"EnergyModel: expected one (3, 3) cell per structure ({num_graphs}), got "
            f"{cell.shape[0]}; store cells as (1, 3, 3) per graph."
        )
    return data.species, pos, edge_index, shifts, cell, batch, num_graphs


class EnergyCore(nn.Module):
    r"""Tensor-only energy/force/stress evaluation (TorchScript-able).

    .. math::

        E_b = \sum_{i \in b} \left[\alpha\, h_{t_i}(D_i) + e_{t_i}\right]

    Parameters
    ----------
    descriptor : SeADescriptor
        The descriptor.
    fitting : AtomicFitting
        Per-species fitting networks.

    Shapes
    ------
    ``species (N,)``, ``pos (N, 3)``, ``edge_index (2, E)``, ``shifts (E, 3)``,
    ``cell (B, 3, 3)``, ``batch (N,)`` -> dict of ``energy (B,)``, ``atomic_energies (N,)``,
    ``forces (N, 3)``, ``virial``/``stress (B, 3, 3)``.

    Symmetry
    --------
    As :class:`EnergyModel`.

    Examples
    --------
    >>> import torch
    >>> from geodl.atoms import AtomicFitting, SeADescriptor
    >>> d = SeADescriptor(1, 3.0, 2.0, (4,), 2)
    >>> core = EnergyCore(d, AtomicFitting(1, d.out_features, (4,)))
    >>> pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0]])
    >>> out = core(torch.zeros(2, dtype=torch.long), pos, torch.tensor([[0, 1], [1, 0]]),
    ...            torch.zeros(2, 3), torch.zeros(1, 3, 3), torch.zeros(2, dtype=torch.long), 1)
    >>> out["forces"].shape
    torch.Size([2, 3])
    """

    def __init__(self, descriptor: SeADescriptor, fitting: AtomicFitting) -> None:
        super().__init__()
        self.descriptor = descriptor
        self.fitting = fitting
        self.register_buffer("energy_shift", torch.zeros(descriptor.num_types))
        self.register_buffer("energy_scale", torch.tensor(1.0))

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
        center = edge_index[0]
        neighbor = edge_index[1]
        edge_cell = cell.index_select(0, batch.index_select(0, center))
        offsets = torch.bmm(shifts.unsqueeze(1), edge_cell).squeeze(1)
        edge_vec = pos.index_select(0, neighbor) - pos.index_select(0, center) + offsets
        desc = self.descriptor(edge_vec, center, species.index_select(0, neighbor), species)
        atomic = self.fitting(desc, species) * self.energy_scale
        atomic = atomic + self.energy_shift.index_select(0, species)
        energy = torch.zeros(num_graphs, dtype=dtype, device=pos.device).index_add(0, batch, atomic)
        out: dict[str, Tensor] = {"energy": energy, "atomic_energies": atomic}
        if want_grad:
            inputs = [pos]
            if compute_stress:
                inputs.append(strain)
            grads = torch.autograd.grad(
                [energy.sum()],
                inputs,
                create_graph=self.training,
                allow_unused=True,
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


class EnergyModel(nn.Module):
    r"""DeepPot-SE (``se_e2_a``) interatomic potential.

    .. math::

        E = \sum_i \left[\, \alpha\, h_{t_i}(D_i) + e_{t_i} \right], \qquad
        \mathbf F_i = -\frac{\partial E}{\partial \mathbf x_i}, \qquad
        \sigma = \frac{1}{V} \frac{\partial E}{\partial \varepsilon}\Big|_{\varepsilon=0},
        \qquad W = -\frac{\partial E}{\partial \varepsilon}

    with :math:`D_i` from :class:`SeADescriptor`, per-species fitting networks
    :math:`h_t`, energy shifts :math:`e_t` (least squares on composition) and scale
    :math:`\alpha` (RMS force) from :meth:`fit_statistics`. Stress and virial come from
    autograd with respect to a symmetric strain :math:`\varepsilon` applied to positions
    and cell (:math:`x \to x(1+\varepsilon)`, :math:`C \to C(1+\varepsilon)`); the stress
    uses ASE's sign convention (eV/Å³) and is zero for structures without a cell volume
    (molecules), whose virial is still returned.

    Parameters
    ----------
    config : EnergyModelConfig
        Hyper-parameters (also stored in saved files).

    Shapes
    ------
    ``forward(data)`` with ``N`` atoms in ``B`` structures returns ``energy (B,)``,
    ``atomic_energies (N,)``, ``forces (N, 3)``, ``stress (B, 3, 3)``, ``virial (B, 3, 3)``.

    Symmetry
    --------
    Energy invariant under E(3) (rotations and reflections of positions and cell rows,
    translations) and permutations of like atoms; forces equivariant (per-atom vectors);
    stress and virial rank-2 tensors :math:`Q\sigma Q^T`.

    Examples
    --------
    >>> import ase.build, torch
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig, atoms_to_graph
    >>> cfg = EnergyModelConfig(type_map=["Cu"], r_cut=4.0, r_smooth=3.0,
    ...                         embed_widths=(4, 8), axis_neurons=2, fitting_widths=(8,))
    >>> model = EnergyModel(cfg)
    >>> graph = atoms_to_graph(ase.build.bulk("Cu", cubic=True), ["Cu"], cutoff=4.0)
    >>> out = model(graph, compute_stress=True)
    >>> out["forces"].shape, out["stress"].shape
    (torch.Size([4, 3]), torch.Size([1, 3, 3]))
    """

    def __init__(self, config: EnergyModelConfig) -> None:
        super().__init__()
        if not isinstance(config, EnergyModelConfig):
            raise TypeError(
                f"EnergyModel: 'config' must be an EnergyModelConfig, got {type(config)}; "
                "use EnergyModelConfig.from_dict(d) for a dict."
            )
        self.config = config
        self.type_map: list[str] = list(config.type_map)
        self.num_types = len(self.type_map)
        self.r_cut = float(config.r_cut)
        self.min_distance = float(config.min_distance)
        descriptor = SeADescriptor(
            self.num_types,
            config.r_cut,
            config.r_smooth,
            config.embed_widths,
            config.axis_neurons,
            config.type_one_side,
            config.activation,
            config.neighbor_norm,
            config.resnet,
        )
        fitting = AtomicFitting(
            self.num_types,
            descriptor.out_features,
            config.fitting_widths,
            config.activation,
            config.resnet,
        )
        self.core = EnergyCore(descriptor, fitting)
        self.to(config.torch_dtype)

    @property
    def energy_shift(self) -> Tensor:
        """Per-species energy shifts :math:`e_t` ``(num_types,)``."""
        return self.core.energy_shift

    @property
    def energy_scale(self) -> Tensor:
        """Output scale :math:`\\alpha` (scalar tensor)."""
        return self.core.energy_scale

    # ------------------------------------------------------------------ core
    @property
    def descriptor(self) -> SeADescriptor:
        """The :class:`SeADescriptor`."""
        return self.core.descriptor

    @property
    def fitting(self) -> AtomicFitting:
        """The per-species :class:`AtomicFitting` networks."""
        return self.core.fitting

    def compute(
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
        """Tensor-only core of :meth:`forward` (no input checks); see :class:`EnergyCore`."""
        return self.core(
            species,
            pos,
            edge_index,
            shifts,
            cell,
            batch,
            num_graphs,
            compute_forces,
            compute_stress,
        )

    def scripted(self) -> torch.jit.ScriptModule:
        """TorchScript version of :meth:`compute` for fast inference (shares weights).

        Call it as ``scripted(species, pos, edge_index, shifts, cell, batch, num_graphs,
        compute_forces, compute_stress)``; ``cell`` is ``(B, 3, 3)``.
        """
        import warnings

        with warnings.catch_warnings():
            # TorchScript is deprecated upstream in favour of torch.compile, which on CPU
            # took ~2 min to compile this model and ran no faster (docs/molecular-model.md).
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(self.core)

    # --------------------------------------------------------------- public
    def forward(
        self, data: Any, compute_forces: bool = True, compute_stress: bool = False
    ) -> dict[str, Tensor]:
        """Energies (and forces/stress) of the structures in a PyG ``Data``/``Batch``
        made by :func:`~geodl.atoms.atoms_to_graph`."""
        species, pos, edge_index, shifts, cell, batch, num_graphs = _graph_tensors(data)
        self.validate(species, pos, edge_index, shifts, cell, batch)
        return self.compute(
            species,
            pos,
            edge_index,
            shifts,
            cell,
            batch,
            num_graphs,
            compute_forces,
            compute_stress,
        )

    def validate(
        self,
        species: Tensor,
        pos: Tensor,
        edge_index: Tensor,
        shifts: Tensor,
        cell: Tensor,
        batch: Tensor,
    ) -> None:
        """Raise ``ValueError``/``TypeError`` for inputs that would give a silent NaN:
        unknown species, non-finite positions or cell, overlapping atoms."""
        check_positions(pos, "pos")
        check_species(species, self.num_types, self.type_map)
        if species.shape[0] != pos.shape[0]:
            raise ValueError(
                f"EnergyModel: 'species' has {species.shape[0]} entries but 'pos' has "
                f"{pos.shape[0]} rows; give one species per atom."
            )
        if not bool(torch.isfinite(cell).all()):
            raise ValueError("EnergyModel: 'cell' contains NaN or infinite values.")
        if self.min_distance > 0 and edge_index.shape[1] > 0:
            with torch.no_grad():
                i, j = edge_index[0], edge_index[1]
                offsets = torch.bmm(
                    shifts.to(cell.dtype).unsqueeze(1), cell.index_select(0, batch[i])
                ).squeeze(1)
                d = (pos[j] - pos[i] + offsets.to(pos.dtype)).norm(dim=-1)
                check_min_distance(d, self.min_distance)

    @torch.no_grad()
    def fit_statistics(self, graphs: Iterable[Any]) -> dict[str, Any]:
        """Set normalisation and energy shifts from training structures.

        * per centre type: mean/std of :math:`s(r)` (embedding input) and RMS of the
          radial and angular environment columns (only scaled, never shifted, so the
          descriptor stays smooth at :math:`r_c`);
        * :math:`N_c` = mean neighbour count, unless ``config.neighbor_norm`` is set;
        * per-species energy shifts :math:`e_t` by least squares of the energies on the
          composition (species absent from the data get the minimum-norm value 0);
        * the output scale :math:`\\alpha` = RMS force component when forces are present.

        Parameters
        ----------
        graphs : iterable of Data or Batch
            Training structures from :func:`~geodl.atoms.atoms_to_graph`.

        Returns
        -------
        dict
            The fitted values (for logging).
        """
        from geodl.atoms._environment import environment_matrix

        t = self.num_types
        f64 = torch.float64
        cnt = torch.zeros(t, dtype=f64)
        s1 = torch.zeros(t, dtype=f64)
        s2 = torch.zeros(t, dtype=f64)
        ang2 = torch.zeros(t, dtype=f64)
        n_atoms = torch.zeros(t, dtype=f64)
        comps: list[Tensor] = []
        energies: list[Tensor] = []
        f2, fn = 0.0, 0
        seen = 0
        for data in graphs:
            species, pos, edge_index, shifts, cell, batch, num_graphs = _graph_tensors(data)
            self.validate(species, pos, edge_index, shifts, cell, batch)
            seen += num_graphs
            species = species.cpu()
            i, j = edge_index[0].cpu(), edge_index[1].cpu()
            pos = pos.detach().cpu().to(f64)
            cell = cell.detach().cpu().to(f64)
            batch = batch.cpu()
            offsets = torch.bmm(shifts.cpu().to(f64).unsqueeze(1), cell[batch[i]]).squeeze(1)
            s, env = environment_matrix(
                pos[j] - pos[i] + offsets, self.descriptor.r_smooth, self.descriptor.r_cut
            )
            ct = species[i]
            cnt.index_add_(0, ct, torch.ones_like(s))
            s1.index_add_(0, ct, s)
            s2.index_add_(0, ct, s * s)
            ang2.index_add_(0, ct, (env[:, 1:] ** 2).sum(-1) / 3.0)
            n_atoms.index_add_(0, species, torch.ones(len(species), dtype=f64))
            comp = torch.zeros(num_graphs, t, dtype=f64)
            comp.index_put_((batch, species), torch.ones(len(species), dtype=f64), accumulate=True)
            if "energy" in data and data.energy is not None:
                comps.append(comp)
                energies.append(data.energy.detach().cpu().to(f64).reshape(-1))
            if "forces" in data and data.forces is not None:
                f = data.forces.detach().cpu().to(f64)
                f2 += float((f * f).sum())
                fn += f.numel()
        if seen == 0:
            raise ValueError("EnergyModel.fit_statistics: 'graphs' is empty; pass training data.")
        has = cnt > 0
        safe = cnt.clamp_min(1)
        mean = torch.where(has, s1 / safe, torch.zeros_like(s1))
        var = (s2 / safe - mean**2).clamp_min(0)
        std = torch.where(has & (var > 1e-12), var.sqrt(), torch.ones_like(var))
        rad = torch.where(has, (s2 / safe).sqrt(), torch.ones_like(s1))
        ang = torch.where(has & (ang2 > 0), (ang2 / safe).sqrt(), torch.ones_like(s1))
        nc = None
        if self.config.neighbor_norm is None:
            nc = float(cnt.sum() / n_atoms.sum().clamp_min(1))
            nc = max(nc, 1.0)
        self.descriptor.set_statistics(mean, std, rad, ang, nc)
        result: dict[str, Any] = {
            "s_mean": mean.tolist(),
            "s_std": std.tolist(),
            "neighbor_norm": float(self.descriptor.neighbor_norm),
        }
        if energies:
            a = torch.cat(comps)
            e = torch.cat(energies)
            shift = torch.linalg.lstsq(a, e.unsqueeze(-1), driver="gelsd").solution.squeeze(-1)
            shift = torch.where(a.sum(0) > 0, shift, torch.zeros_like(shift))
            self.energy_shift.copy_(shift)
            result["energy_shift"] = dict(zip(self.type_map, shift.tolist(), strict=True))
        if fn > 0 and f2 > 0:
            self.energy_scale.fill_((f2 / fn) ** 0.5)
            result["energy_scale"] = float(self.energy_scale)
        return result

    def energy_function(self) -> AtomsEnergyFunction:
        """``f(species, positions[, cell]) -> energy`` for the symmetry harness."""
        return AtomsEnergyFunction(self)

    def declared_symmetries(self) -> list[Declaration]:
        """Claims checked by :func:`geodl.symmetry.verify_declarations` on
        :meth:`energy_function` inputs of kind ``"atoms"``."""
        return [
            Declaration(
                "E3",
                "atoms",
                "invariant",
                "exact",
                "energy: distances and angles only (se_e2_a descriptor)",
            ),
            Declaration(
                "permutation",
                "atoms",
                "invariant",
                "exact",
                "energy: sum over atoms of like-species networks",
            ),
        ]

    def extra_repr(self) -> str:
        return f"type_map={self.type_map}, r_cut={self.r_cut}, dtype={self.config.dtype}"


class AtomsEnergyFunction(nn.Module):
    r"""Energy of one structure as a function of tensors, for the symmetry harness.

    .. math::

        f(\text{species}, X, C) = E

    The neighbour list is rebuilt on every call (vesin); the energy is differentiable
    with respect to ``positions`` and ``cell``. With a cell, all directions are periodic.

    Parameters
    ----------
    model : EnergyModel
        The model to evaluate.

    Shapes
    ------
    ``species (N,)``, ``positions (N, 3)``, ``cell (3, 3)`` (optional) -> scalar.

    Symmetry
    --------
    E(3) invariant (cell rows rotate with positions), invariant under permutations of
    like atoms.

    Examples
    --------
    >>> import torch
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> cfg = EnergyModelConfig(type_map=["H"], r_cut=3.0, r_smooth=2.0,
    ...                         embed_widths=(4,), axis_neurons=2, fitting_widths=(4,))
    >>> f = EnergyModel(cfg).energy_function()
    >>> f(torch.zeros(2, dtype=torch.long), torch.tensor([[0.0, 0, 0], [1.0, 0, 0]])).shape
    torch.Size([])
    """

    def __init__(self, model: EnergyModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, species: Tensor, positions: Tensor, cell: Tensor | None = None) -> Tensor:
        from geodl.atoms._neighbors import neighbor_list

        check_positions(positions)
        pbc = (cell is not None,) * 3
        edge_index, shifts = neighbor_list(positions, self.model.r_cut, cell, pbc)
        cell_b = (cell if cell is not None else positions.new_zeros(3, 3)).reshape(1, 3, 3)
        batch = torch.zeros(positions.shape[0], dtype=torch.long, device=positions.device)
        species = species.to(positions.device)
        self.model.validate(species, positions, edge_index, shifts, cell_b, batch)
        out = self.model.compute(
            species, positions, edge_index, shifts, cell_b, batch, 1, False, False
        )
        return out["energy"][0]

    def declared_symmetries(self) -> list[Declaration]:
        return self.model.declared_symmetries()
