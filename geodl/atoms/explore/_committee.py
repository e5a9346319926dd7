r"""A committee of potentials: mean prediction and the spread of their forces.

The committee's max force deviation of a frame (DP-GEN's model deviation) is

.. math::

    \sigma_\text{max} = \max_i \sqrt{\big\langle \lVert \mathbf F_i^{(k)}
        - \langle \mathbf F_i \rangle \rVert^2 \big\rangle_k}

over atoms :math:`i` and members :math:`k`. It is invariant under rotations,
translations and permutations of like atoms (the forces rotate together).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from torch import Tensor

from geodl.atoms.data import atoms_to_graph

__all__ = ["Committee", "CommitteeCalculator", "force_deviation"]


def force_deviation(forces: Tensor) -> Tensor:
    r"""Per-atom deviation :math:`\sqrt{\langle \lVert \mathbf F^{(k)}_i - \langle
    \mathbf F_i\rangle\rVert^2\rangle_k}` of ``forces`` ``(K, N, 3)`` -> ``(N,)``.

    Shapes
    ------
    ``(K, N, 3) -> (N,)``.

    Symmetry
    --------
    Invariant under a common rotation of all members' forces.

    Examples
    --------
    >>> f = torch.zeros(2, 3, 3); f[0, 1, 0] = 1.0; f[1, 1, 0] = -1.0
    >>> force_deviation(f).tolist()
    [0.0, 1.0, 0.0]
    """
    if forces.dim() != 3 or forces.shape[-1] != 3 or forces.shape[0] < 2:
        raise ValueError(
            f"force_deviation: expected forces of shape (K>=2, N, 3), got {tuple(forces.shape)}."
        )
    mean = forces.mean(dim=0, keepdim=True)
    return (forces - mean).pow(2).sum(-1).mean(0).sqrt()


class Committee:
    """K trained models of one family, one type map and one cutoff.

    Parameters
    ----------
    models : list of AtomisticModel
        The members (any ``model.type``); put in eval mode.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> from ase.build import bulk
    >>> cfg = dict(type_map=["Cu"], r_cut=4.0, r_smooth=3.0, embed_widths=(4,),
    ...            axis_neurons=2, fitting_widths=(8,))
    >>> models = []
    >>> for seed in (0, 1):
    ...     _ = torch.manual_seed(seed); models.append(EnergyModel(EnergyModelConfig(**cfg)))
    >>> committee = Committee(models)
    >>> atoms = bulk("Cu", cubic=True); atoms.rattle(0.1, seed=0)
    >>> out = committee.predict(atoms)
    >>> out["forces"].shape, out["deviation"].shape
    ((2, 4, 3), (4,))
    """

    def __init__(self, models: Sequence[Any]) -> None:
        if len(models) < 2:
            raise ValueError(f"Committee: needs at least two models, got {len(models)}.")
        first = models[0]
        for k, m in enumerate(models):
            if list(m.type_map) != list(first.type_map) or m.r_cut != first.r_cut:
                raise ValueError(
                    f"Committee: member {k} has type_map {m.type_map} and r_cut {m.r_cut}, "
                    f"member 0 {first.type_map} and {first.r_cut}; train the members with "
                    "the same model config."
                )
            m.eval()
        self.models = list(models)
        self.type_map = list(first.type_map)
        self.r_cut = float(first.r_cut)
        self.dtype = first.energy_shift.dtype
        self.device = next(first.parameters()).device

    def __len__(self) -> int:
        return len(self.models)

    def predict(self, atoms: Atoms, stress: bool = False) -> dict[str, Any]:
        """Every member's energy ``(K,)``, forces ``(K, N, 3)`` (and stress ``(K, 3, 3)``),
        the per-atom force deviation ``(N,)`` and the shortest interatomic distance over
        the sum of covalent radii (``min_distance_ratio``)."""
        graph = atoms_to_graph(atoms, self.type_map, self.r_cut, self.dtype).to(self.device)
        energies, forces, stresses = [], [], []
        for model in self.models:
            out = model(graph, compute_forces=True, compute_stress=stress)
            energies.append(out["energy"].detach().sum())
            forces.append(out["forces"].detach())
            if stress:
                stresses.append(out["stress"].detach().reshape(3, 3))
        f = torch.stack(forces)
        result = {
            "energy": torch.stack(energies).double().cpu().numpy(),
            "forces": f.double().cpu().numpy(),
            "deviation": force_deviation(f.double()).cpu().numpy(),
            "min_distance_ratio": _min_distance_ratio(atoms, graph),
        }
        if stress:
            result["stress"] = torch.stack(stresses).double().cpu().numpy()
        return result

    @torch.no_grad()
    def _forces_of(self, model: Any, graphs: Sequence[Any], batch_size: int) -> Tensor:
        from torch_geometric.data import Batch

        out = []
        for i in range(0, len(graphs), batch_size):
            batch = Batch.from_data_list(list(graphs[i : i + batch_size])).to(self.device)
            with torch.enable_grad():
                f = model(batch, compute_forces=True)["forces"]
            out.append(f.detach().double().cpu())
        return torch.cat(out)

    def max_deviation(self, frames: Sequence[Atoms] | Any, batch_size: int = 16) -> np.ndarray:
        """:math:`\\sigma_\\text{max}` of each frame ``(S,)`` (frames: Atoms or an
        :class:`~geodl.atoms.data.AtomsDataset`), batched over frames."""
        if hasattr(frames, "to_graphs"):
            graphs = frames.to_graphs(self.type_map, self.r_cut, self.dtype)
        else:
            graphs = [atoms_to_graph(a, self.type_map, self.r_cut, self.dtype) for a in frames]
        if not graphs:
            return np.zeros(0)
        sizes = torch.tensor([int(g.num_nodes) for g in graphs])
        owner = torch.repeat_interleave(torch.arange(len(graphs)), sizes)
        forces = torch.stack([self._forces_of(m, graphs, batch_size) for m in self.models])
        dev = force_deviation(forces)
        per_frame = torch.zeros(len(graphs), dtype=dev.dtype)
        per_frame = per_frame.scatter_reduce(0, owner, dev, reduce="amax", include_self=False)
        return per_frame.numpy()


def _min_distance_ratio(atoms: Atoms, graph: Any) -> float:
    """Shortest edge length over the sum of the two atoms' covalent radii (inf if none)."""
    from ase.data import covalent_radii

    if graph.edge_index.shape[1] == 0:
        return float("inf")
    src, dst = graph.edge_index.cpu()
    pos = graph.pos.detach().cpu().double()
    cell = graph.cell.detach().cpu().double().reshape(3, 3)
    vec = pos[dst] - pos[src] + graph.shifts.detach().cpu().double() @ cell
    radii = torch.as_tensor(covalent_radii[atoms.numbers], dtype=torch.float64)
    ratio = vec.norm(dim=-1) / (radii[src] + radii[dst])
    return float(ratio.min())


class CommitteeCalculator(Calculator):
    r"""ASE calculator of a committee's mean: energy, forces (and stress for periodic
    cells) averaged over the members; ``results["max_force_deviation"]``
    (:math:`\sigma_\text{max}`, eV/Å), ``results["force_deviation"]`` per atom and
    ``results["min_distance_ratio"]`` come with every evaluation.

    Shapes
    ------
    ``energy`` scalar, ``forces`` (N, 3), ``stress`` (6,) Voigt, ``force_deviation`` (N,).

    Symmetry
    --------
    Mean energy invariant, mean forces equivariant under E(3) and permutations of like
    atoms; the deviations are invariant.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> from ase.build import bulk
    >>> cfg = dict(type_map=["Cu"], r_cut=4.0, r_smooth=3.0, embed_widths=(4,),
    ...            axis_neurons=2, fitting_widths=(8,))
    >>> models = [EnergyModel(EnergyModelConfig(**cfg)) for _ in range(2)]
    >>> atoms = bulk("Cu", cubic=True); atoms.rattle(0.1, seed=0)
    >>> atoms.calc = CommitteeCalculator(Committee(models))
    >>> atoms.get_forces().shape, atoms.calc.results["max_force_deviation"] >= 0
    ((4, 3), True)
    """

    # an immutable tuple: never shared state (ASE annotates a list)
    implemented_properties = ("energy", "free_energy", "forces", "stress")  # type: ignore[assignment]

    def __init__(self, committee: Committee, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.committee = committee

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: Any = ("energy",),
        system_changes: Any = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        assert atoms is not None
        periodic = bool(np.all(atoms.pbc))
        if "stress" in properties and not periodic:
            raise PropertyNotImplementedError("stress needs a cell periodic in 3 directions.")
        out = self.committee.predict(atoms, stress=periodic)
        energy = float(out["energy"].mean())
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["forces"] = out["forces"].mean(axis=0)
        self.results["force_deviation"] = out["deviation"]
        self.results["max_force_deviation"] = float(out["deviation"].max())
        self.results["min_distance_ratio"] = out["min_distance_ratio"]
        if periodic:
            s = out["stress"].mean(axis=0)
            self.results["stress"] = np.array(
                [s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]
            )
