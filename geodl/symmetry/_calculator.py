r"""Symmetry checks of ASE calculators: energy, forces and stress, each with its report.

An ASE calculator is wrapped as a model of ``(species, positions, cell, pbc)`` returning
``{"energy", "forces", "stress"}``; the group acts on the atoms (rotations rotate the
cell too; lattice translations move atoms by lattice vectors of a periodic cell) and

.. math::

    E(g\cdot x) = E(x), \qquad F(g \cdot x) = \pi_g(R F(x)), \qquad
    \sigma(g \cdot x) = R\, \sigma(x)\, R^\top .

ASE is imported lazily (only when a calculator is checked).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from geodl.symmetry._check import check_equivariance
from geodl.symmetry._groups import Group, get_group, product
from geodl.symmetry._report import SymmetryReport

#: Output representations of the calculator's properties.
CALCULATOR_REPS = {"energy": "invariant", "forces": "per-point:vector", "stress": "rank2"}


class CalculatorModel:
    """An ASE calculator as a model of ``(species, positions[, cell, pbc])`` (float64)."""

    def __init__(self, calc: Any, atoms: Any, properties: tuple[str, ...]) -> None:
        self.calc = calc
        self.template = atoms.copy()
        self.template.calc = None
        self.properties = properties

    def __call__(
        self, species: Tensor, pos: Tensor, cell: Tensor | None = None, pbc: Tensor | None = None
    ) -> dict[str, Tensor]:
        a = self.template.copy()
        a.numbers = species.cpu().numpy()
        a.positions = pos.detach().cpu().double().numpy()
        if cell is not None:
            a.cell = cell.detach().cpu().double().numpy()
        a.calc = self.calc
        out = {"energy": torch.tensor(float(a.get_potential_energy()), dtype=torch.float64)}
        if "forces" in self.properties:
            out["forces"] = torch.as_tensor(a.get_forces(), dtype=torch.float64)
        if "stress" in self.properties:
            out["stress"] = torch.as_tensor(a.get_stress(voigt=False), dtype=torch.float64)
        return out


def atoms_inputs(atoms: Any) -> tuple[Tensor, ...]:
    """``(species, positions[, cell, pbc])`` of an ASE ``Atoms`` (cell only if periodic)."""
    species = torch.as_tensor(atoms.numbers, dtype=torch.long)
    pos = torch.as_tensor(atoms.positions, dtype=torch.float64)
    if not atoms.pbc.any():
        return species, pos
    cell = torch.as_tensor(atoms.cell.array, dtype=torch.float64)
    return species, pos, cell, torch.as_tensor(atoms.pbc, dtype=torch.bool)


def check_calculator(
    calc: Any,
    atoms: Any,
    group: str | Group = "E3 x permutation",
    *,
    properties: tuple[str, ...] | None = None,
    lattice: bool = True,
    **kwargs: Any,
) -> SymmetryReport:
    r"""Check the energy, forces and stress of an ASE calculator under ``group``.

    Parameters
    ----------
    calc : ase.calculators.calculator.Calculator
        Any ASE calculator (EMT, a trained geodl potential, MACE, ...).
    atoms : ase.Atoms
        The structure (a generic one: not a fixed point of the group).
    group : str or Group
        Default ``"E3 x permutation"``; for periodic systems lattice translations are
        added (``lattice=False`` to skip) and rotations rotate the cell too.
    properties : tuple of str, optional
        Outputs to check (default: energy, forces, and stress for fully periodic
        systems when the calculator implements it).
    **kwargs
        As in :func:`check_equivariance` (``samples``, ``seed``, ``tol``, ...).

    Returns
    -------
    SymmetryReport
        ``.verdict`` is the worst over the outputs; ``.outputs["energy" | "forces" |
        "stress"]`` are full reports.

    Shapes
    ------
    energy: ``()``; forces: ``(N, 3)``; stress: ``(3, 3)``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from ase.calculators.emt import EMT
    >>> atoms = bulk("Cu", cubic=True) * (2, 1, 1)
    >>> atoms.rattle(0.05, seed=0)
    >>> r = check_calculator(EMT(), atoms, samples=2)
    >>> r.verdict, sorted(r.outputs)
    ('exact', ['energy', 'forces', 'stress'])
    """
    implemented = tuple(getattr(calc, "implemented_properties", ("energy", "forces")))
    periodic = bool(atoms.pbc.any())
    if properties is None:
        properties = ("energy", "forces") + (
            ("stress",) if bool(atoms.pbc.all()) and "stress" in implemented else ()
        )
    unknown = [p for p in properties if p not in CALCULATOR_REPS]
    if unknown or "energy" not in properties:
        raise ValueError(
            f"check_calculator: properties must include 'energy' and be among "
            f"{list(CALCULATOR_REPS)}, got {list(properties)}."
        )
    G = get_group(group)
    if periodic and lattice and "lattice" not in G._factor_names():
        G = product(G, "lattice")
    model = CalculatorModel(calc, atoms, properties)
    reps = {p: CALCULATOR_REPS[p] for p in properties}
    kwargs.setdefault("localize", False)
    return check_equivariance(model, G, atoms_inputs(atoms), kind="atoms", out_rep=reps, **kwargs)
