"""The model users hold: a family's atomic energies behind one interface (energies,
forces, stress, validation, statistics, symmetry declarations)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import Tensor, nn

from geodl.atoms.model._config import ModelConfig
from geodl.atoms.model._core import PotentialCore
from geodl.atoms.model._registry import resolve_model_type
from geodl.geometry import (
    check_min_distance,
    check_positions,
    check_species,
    edge_vectors,
    neighbor_list,
)
from geodl.symmetry import Declaration

__all__ = ["AtomisticModel", "AtomsEnergyFunction", "EnergyModel"]


def _graph_tensors(data: Any) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, int]:
    """Fields of a PyG ``Data``/``Batch``: species, pos, edge_index, shifts, cell (B,3,3),
    batch (N,), number of graphs."""
    for key in ("species", "pos", "edge_index"):
        if key not in data:
            raise ValueError(
                f"AtomisticModel: the input graph has no {key!r}; build graphs with "
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
            f"AtomisticModel: expected one (3, 3) cell per structure ({num_graphs}), got "
            f"{cell.shape[0]}; store cells as (1, 3, 3) per graph."
        )
    return data.species, pos, edge_index, shifts, cell, batch, num_graphs


class AtomisticModel(nn.Module):
    r"""An interatomic potential of any registered family (``model.type``).

    .. math::

        E = \sum_i \left[\, \alpha\, \varepsilon_i + e_{t_i} \right], \qquad
        \mathbf F_i = -\frac{\partial E}{\partial \mathbf x_i}, \qquad
        \sigma = \frac{1}{V} \frac{\partial E}{\partial \varepsilon}\Big|_{\varepsilon=0},
        \qquad W = -\frac{\partial E}{\partial \varepsilon}

    with :math:`\varepsilon_i` the family's atomic energies (``se_e2_a``: per-species
    fitting networks on the DeepPot-SE descriptor), reference energies :math:`e_t`
    (E0s: least squares on the composition, or given by ``config.e0s``) and scale
    :math:`\alpha` (RMS force) from :meth:`fit_statistics`. Stress and virial come from
    autograd with respect to a symmetric strain (see :class:`PotentialCore`); the
    stress uses ASE's sign convention (eV/Å³) and is zero for structures without a cell
    volume (molecules), whose virial is still returned.

    Parameters
    ----------
    config : ModelConfig
        Hyper-parameters of one family of :data:`~geodl.atoms.MODEL_TYPES` (also stored in
        saved files); :class:`~geodl.atoms.EnergyModelConfig` is ``se_e2_a``'s.

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
    >>> model.receptive_field
    4.0
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if not isinstance(config, ModelConfig):
            raise TypeError(
                f"AtomisticModel: 'config' must be a model config (e.g. EnergyModelConfig), "
                f"got {type(config)}; use geodl.atoms.model_config_from_dict(d) for a dict."
            )
        family = resolve_model_type(config.type)
        self.config = config
        self.type_map: list[str] = list(config.type_map)
        self.num_types = len(self.type_map)
        self.r_cut = float(config.r_cut)
        self.min_distance = float(config.min_distance)
        self.core = PotentialCore(family.build(config), self.num_types)
        self.to(config.torch_dtype)

    @property
    def energy_shift(self) -> Tensor:
        """Per-species reference energies :math:`e_t` ``(num_types,)``."""
        return self.core.energy_shift

    @property
    def energy_scale(self) -> Tensor:
        """Output scale :math:`\\alpha` (scalar tensor)."""
        return self.core.energy_scale

    @property
    def receptive_field(self) -> float:
        """Distance (Å) over which an atom's energy depends on other atoms."""
        return float(self.core.atomic.receptive_field)

    @property
    def descriptor(self) -> nn.Module:
        """The descriptor of a ``se_e2_a`` model."""
        return self._family_part("descriptor")

    @property
    def fitting(self) -> nn.Module:
        """The per-species fitting networks of a ``se_e2_a`` model."""
        return self._family_part("fitting")

    def _family_part(self, name: str) -> nn.Module:
        part = getattr(self.core.atomic, name, None)
        if not isinstance(part, nn.Module):
            raise AttributeError(
                f"AtomisticModel: a {self.config.type!r} model has no {name!r} (only "
                "se_e2_a models have a descriptor and fitting networks)."
            )
        return part

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
        """Tensor-only core of :meth:`forward` (no input checks); see :class:`PotentialCore`."""
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
        min_pair_distance: float | None = None,
    ) -> None:
        """Raise ``ValueError``/``TypeError`` for inputs that would give a silent NaN:
        unknown species, non-finite positions or cell, overlapping atoms
        (``min_pair_distance``: the shortest edge length when the caller already knows
        it, e.g. from :func:`~geodl.geometry.neighbor_list`; else computed here)."""
        check_positions(pos, "pos")
        check_species(species, self.num_types, self.type_map)
        if species.shape[0] != pos.shape[0]:
            raise ValueError(
                f"AtomisticModel: 'species' has {species.shape[0]} entries but 'pos' has "
                f"{pos.shape[0]} rows; give one species per atom."
            )
        if not bool(torch.isfinite(cell).all()):
            raise ValueError("AtomisticModel: 'cell' contains NaN or infinite values.")
        if self.min_distance > 0 and min_pair_distance is not None:
            check_min_distance(torch.tensor([min_pair_distance]), self.min_distance)
        elif self.min_distance > 0 and edge_index.shape[1] > 0:
            with torch.no_grad():
                vec = edge_vectors(pos, edge_index, shifts, cell.to(pos.dtype), batch)
                check_min_distance(vec.norm(dim=-1), self.min_distance)

    @torch.no_grad()
    def fit_statistics(self, graphs: Iterable[Any]) -> dict[str, Any]:
        """Set normalisation, reference energies and output scale from training data.

        * the family's normalisation (``se_e2_a``: per centre type mean/std of
          :math:`s(r)`, RMS of the environment columns, mean neighbour count);
        * per-species reference energies :math:`e_t`: ``config.e0s`` when given, else
          least squares of the energies on the composition (species absent from the
          data get the minimum-norm value 0);
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
        stats = _Statistics(self.num_types)
        samples = stats.samples(graphs, self.validate)
        result = dict(self.core.atomic.fit_statistics(samples))
        for _ in samples:  # a family may stop early: the energies still need every graph
            pass
        if stats.seen == 0:
            raise ValueError(
                "AtomisticModel.fit_statistics: 'graphs' is empty; pass training data."
            )
        shift = stats.reference_energies(self.config.e0s, self.type_map)
        if shift is not None:
            self.energy_shift.copy_(shift)
            result["energy_shift"] = dict(zip(self.type_map, shift.tolist(), strict=True))
        if stats.force_rms is not None:
            self.energy_scale.fill_(stats.force_rms)
            result["energy_scale"] = float(self.energy_scale)
        return result

    def describe(self) -> dict[str, Any]:
        """What ``geodl info`` prints: family, species, cutoff, receptive field, dtype,
        parameter count, reference energies, output scale, the config, and the family's
        own details (its ``describe()``, e.g. the irreps of each layer).

        Examples
        --------
        >>> from geodl.atoms import EnergyModel, EnergyModelConfig
        >>> m = EnergyModel(EnergyModelConfig(type_map=["H"], r_cut=3.0, embed_widths=(4,),
        ...                                   axis_neurons=2, fitting_widths=(4,)))
        >>> info = m.describe()
        >>> info["type"], info["receptive_field"]
        ('se_e2_a', 3.0)
        """
        info: dict[str, Any] = {
            "type": self.config.type,
            "type_map": list(self.type_map),
            "r_cut": self.r_cut,
            "receptive_field": self.receptive_field,
            "dtype": self.config.dtype,
            "parameters": sum(p.numel() for p in self.parameters()),
            "energy_shift": dict(zip(self.type_map, self.energy_shift.tolist(), strict=True)),
            "energy_scale": float(self.energy_scale),
        }
        family = getattr(self.core.atomic, "describe", None)
        if callable(family):
            info.update(family())
        info["config"] = self.config.to_dict()
        return info

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
                f"energy: invariant {self.config.type} atomic energies",
            ),
            Declaration(
                "permutation",
                "atoms",
                "invariant",
                "exact",
                "energy: sum over atoms of like-species atomic energies",
            ),
        ]

    def extra_repr(self) -> str:
        return (
            f"type={self.config.type!r}, type_map={self.type_map}, r_cut={self.r_cut}, "
            f"dtype={self.config.dtype}"
        )


#: The historical name of :class:`AtomisticModel`.
EnergyModel = AtomisticModel


class _Statistics:
    """Accumulates what :meth:`AtomisticModel.fit_statistics` needs besides the family's
    own normalisation: compositions, energies and the RMS force."""

    def __init__(self, num_types: int) -> None:
        self.num_types = num_types
        self.seen = 0
        self.comps: list[Tensor] = []
        self.energies: list[Tensor] = []
        self.f2 = 0.0
        self.fn = 0

    def samples(
        self, graphs: Iterable[Any], validate: Any
    ) -> Iterator[tuple[Tensor, Tensor, Tensor]]:
        f64 = torch.float64
        for data in graphs:
            species, pos, edge_index, shifts, cell, batch, num_graphs = _graph_tensors(data)
            validate(species, pos, edge_index, shifts, cell, batch)
            self.seen += num_graphs
            species, edge_index, batch = species.cpu(), edge_index.cpu(), batch.cpu()
            pos = pos.detach().cpu().to(f64)
            cell = cell.detach().cpu().to(f64)
            vec = edge_vectors(pos, edge_index, shifts.cpu().to(f64), cell, batch)
            comp = torch.zeros(num_graphs, self.num_types, dtype=f64)
            comp.index_put_((batch, species), torch.ones(len(species), dtype=f64), accumulate=True)
            if "energy" in data and data.energy is not None:
                self.comps.append(comp)
                self.energies.append(data.energy.detach().cpu().to(f64).reshape(-1))
            if "forces" in data and data.forces is not None:
                f = data.forces.detach().cpu().to(f64)
                self.f2 += float((f * f).sum())
                self.fn += f.numel()
            yield species, vec, edge_index

    @property
    def force_rms(self) -> float | None:
        return (self.f2 / self.fn) ** 0.5 if self.fn > 0 and self.f2 > 0 else None

    def reference_energies(self, e0s: Any, type_map: list[str]) -> Tensor | None:
        if isinstance(e0s, dict):
            return torch.tensor([float(e0s[t]) for t in type_map], dtype=torch.float64)
        if not self.energies:
            return None
        a = torch.cat(self.comps)
        e = torch.cat(self.energies)
        shift = torch.linalg.lstsq(a, e.unsqueeze(-1), driver="gelsd").solution.squeeze(-1)
        return torch.where(a.sum(0) > 0, shift, torch.zeros_like(shift))


class AtomsEnergyFunction(nn.Module):
    r"""Energy of one structure as a function of tensors, for the symmetry harness.

    .. math::

        f(\text{species}, X, C) = E

    The neighbour list is rebuilt on every call (vesin); the energy is differentiable
    with respect to ``positions`` and ``cell``. With a cell, all directions are periodic.

    Parameters
    ----------
    model : AtomisticModel
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

    def __init__(self, model: AtomisticModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, species: Tensor, positions: Tensor, cell: Tensor | None = None) -> Tensor:
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
