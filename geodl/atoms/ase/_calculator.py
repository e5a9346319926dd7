"""ASE calculator for a trained :class:`~geodl.atoms.EnergyModel`."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

__all__ = ["GeoDLCalculator"]


class GeoDLCalculator(Calculator):
    r"""ASE calculator: energy, forces, stress and per-atom energies from an EnergyModel.

    .. math::

        E = \sum_i E_i,\qquad \mathbf F_i = -\partial E/\partial \mathbf x_i,\qquad
        \sigma = \frac{1}{V}\,\frac{\partial E}{\partial \varepsilon}

    Results are cached by ASE's state check: any change of positions, atomic numbers,
    cell or pbc triggers a new evaluation. ``implemented_properties`` is an instance
    attribute (never shared between calculators). Stress is available for structures
    periodic in all three directions.

    Parameters
    ----------
    model : EnergyModel or path
        A model or a file written by :func:`~geodl.atoms.save_model`.
    device : str
        Torch device (``"cpu"``).
    dtype : str or torch.dtype, optional
        Evaluate in this dtype (``"float64"`` for tight energy conservation in MD);
        default: the model's.

    Shapes
    ------
    ``energy`` scalar, ``energies`` (N,), ``forces`` (N, 3), ``stress`` (6,) Voigt, eV/Å³.

    Symmetry
    --------
    Energy invariant and forces equivariant under E(3) and permutations of like atoms
    (inherited from the model).

    Examples
    --------
    >>> import ase.build
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> model = EnergyModel(EnergyModelConfig(type_map=["Cu"], r_cut=4.0, r_smooth=3.0,
    ...     embed_widths=(4,), axis_neurons=2, fitting_widths=(8,)))
    >>> atoms = ase.build.bulk("Cu", cubic=True)
    >>> atoms.calc = GeoDLCalculator(model)
    >>> atoms.get_forces().shape
    (4, 3)
    """

    implemented_properties: list[str]  # set per instance in __init__
    default_parameters: dict[str, Any] = {}

    def __init__(
        self,
        model: Any,
        device: str = "cpu",
        dtype: str | torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from geodl.atoms.model import EnergyModel, load_model

        if isinstance(model, (str, os.PathLike)):
            path = os.fspath(model)
            if not os.path.isfile(path):
                raise ValueError(
                    f"GeoDLCalculator: no model file at {path!r}; pass a path written by "
                    "geodl train (out/model.pt) or an EnergyModel."
                )
            model = load_model(path)
        if not isinstance(model, EnergyModel):
            raise TypeError(
                "GeoDLCalculator: 'model' must be an EnergyModel or a path to a model file, "
                f"got {type(model).__name__}."
            )
        if isinstance(dtype, str):
            if dtype not in ("float32", "float64"):
                raise ValueError(
                    f"GeoDLCalculator: dtype must be 'float32' or 'float64', got {dtype!r}."
                )
            dtype = getattr(torch, dtype)
        self.device = torch.device(device)
        if dtype is not None and dtype != model.energy_shift.dtype:
            import copy

            model = copy.deepcopy(model).to(dtype)  # never change the caller's model
        self.model = model.to(self.device)
        self.model.eval()
        self.dtype = self.model.energy_shift.dtype
        self.implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __repr__(self) -> str:
        return (
            f"GeoDLCalculator(type_map={self.model.type_map}, r_cut={self.model.r_cut}, "
            f"dtype={str(self.dtype).replace('torch.', '')}, device={str(self.device)!r})"
        )

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: Any = ("energy",),
        system_changes: Any = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        from geodl.atoms.data import atoms_to_graph

        atoms = self.atoms
        assert atoms is not None
        periodic = bool(np.all(atoms.pbc))
        if "stress" in properties and not periodic:
            raise PropertyNotImplementedError(
                "GeoDLCalculator: stress needs a structure periodic in all three directions "
                f"(pbc={atoms.pbc.tolist()})."
            )
        unknown = sorted(set(atoms.get_chemical_symbols()) - set(self.model.type_map))
        if unknown:
            raise ValueError(
                f"GeoDLCalculator: species {unknown} were not seen in training (the model "
                f"knows {self.model.type_map}); train a model on data that contains them."
            )
        graph = atoms_to_graph(atoms, self.model.type_map, self.model.r_cut, self.dtype)
        graph = graph.to(self.device)
        out = self.model(graph, compute_forces=True, compute_stress=periodic)
        energy = float(out["energy"].detach().sum())
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["energies"] = out["atomic_energies"].detach().cpu().double().numpy()
        self.results["forces"] = out["forces"].detach().cpu().double().numpy()
        if periodic:
            s = out["stress"].detach().cpu().double().numpy().reshape(3, 3)
            self.results["stress"] = np.array(
                [s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]]
            )
