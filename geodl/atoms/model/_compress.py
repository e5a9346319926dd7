r"""Model compression (``geodl compress``): the ``se_e2_a`` embedding as a table.

The embedding network of ``se_e2_a`` is a function of one scalar, :math:`s(r_{ij})`, per
(centre type, neighbour type). :func:`compress_model` replaces it by quintic Hermite
polynomials on a uniform grid of :math:`s \in [0, s(r_{\min})]` (:math:`r_{\min}` = the
model's ``min_distance``, below which inputs are rejected, so every accepted input lies
on the grid), refining the grid until the table matches the network, value and
derivative, within ``tolerance`` at points between the nodes. The compressed model then
evaluates the table fused with the contraction :math:`T_i = \sum_j \tilde R_{ij}^T
G_{ij}` (:func:`~geodl.geometry.table_contract`) and its forces come from the table's
analytic derivative.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import torch

from geodl.atoms.model._config import SeE2AConfig
from geodl.atoms.model._model import AtomisticModel
from geodl.geometry import SeADescriptor, smooth_switch

__all__ = ["compress_model", "compression_errors", "probe_structures", "table_error"]

#: Largest grid tried (intervals per table); 4 tables x 8192 x 6 x 100 floats = 79 MB.
MAX_INTERVALS = 8192


@torch.no_grad()
def table_error(descriptor: Any, s_max: float, intervals: int) -> tuple[float, float]:
    r"""Largest deviation of a table of ``intervals`` intervals from the exact
    embedding, value and :math:`dG/ds`, at 5 points inside every interval (float64).

    Returns
    -------
    (float, float)
        :math:`\max|G_{\mathrm{table}} - G|` and :math:`\max|G'_{\mathrm{table}} - G'|`.
    """
    from geodl.geometry import table_derivative, table_lookup

    exact = copy.deepcopy(descriptor).double()
    exact.build_table(s_max, intervals)
    h = s_max / intervals
    frac = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.9], dtype=torch.float64)
    s = ((torch.arange(intervals, dtype=torch.float64)[:, None] + frac) * h).reshape(-1)
    pairs = exact.table.shape[0]
    want, dwant, _ = exact.embedding_of_s(s)
    rows = torch.arange(pairs).repeat_interleave(len(s))
    s_all = s.repeat(pairs)
    m = want.shape[-1]
    got = table_lookup(exact.table, s_all, rows, 1.0 / h).view(pairs, -1, m)
    dgot = table_derivative(exact.table, s_all, rows, 1.0 / h).view(pairs, -1, m)
    return float((got - want).abs().max()), float((dgot - dwant).abs().max())


def compress_model(
    model: AtomisticModel,
    tolerance: float = 1e-5,
    r_min: float | None = None,
    start_intervals: int = 64,
) -> tuple[AtomisticModel, dict[str, Any]]:
    r"""A copy of an ``se_e2_a`` model whose embedding is a table within ``tolerance``.

    The grid doubles from ``start_intervals`` until both
    :math:`\max|G_{\mathrm{table}} - G|` and :math:`\max|dG/ds_{\mathrm{table}} - dG/ds|`
    (:func:`table_error`) are at most ``tolerance``; the quintic's error falls as
    :math:`h^6`, so each doubling gains a factor ~64.

    Parameters
    ----------
    model : AtomisticModel
        An ``se_e2_a`` model (compressed or not: the embedding networks are kept).
    tolerance : float
        Bound on the table's deviation from the embedding network (value and
        derivative with respect to :math:`s`, in the network's output units).
    r_min : float, optional
        Smallest distance the table must cover (Å); default the model's ``min_distance``.
    start_intervals : int
        First grid tried.

    Returns
    -------
    (AtomisticModel, dict)
        The compressed model (eval mode) and its ``compression`` record (also in its
        config): ``s_max``, ``intervals``, ``r_min``, ``tolerance``, ``table_error``,
        ``table_derivative_error``.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> model = EnergyModel(EnergyModelConfig(type_map=["Cu"], r_cut=4.0, r_smooth=3.0,
    ...     embed_widths=(4, 8), axis_neurons=2, fitting_widths=(8,)))
    >>> small, info = compress_model(model, tolerance=1e-4)
    >>> small.config.compression["intervals"] >= 64, info["table_error"] <= 1e-4
    (True, True)
    """
    config = model.config
    if not isinstance(config, SeE2AConfig):
        raise ValueError(
            f"compress_model: only se_e2_a models have a tabulable embedding; this model is "
            f"{config.type!r}."
        )
    if not (isinstance(tolerance, (int, float)) and 0 < float(tolerance) < 1):
        raise ValueError(f"compress_model: 'tolerance' must be in (0, 1), got {tolerance!r}.")
    r_lo = float(config.min_distance if r_min is None else r_min)
    if not 0 < r_lo < config.r_cut:
        raise ValueError(
            f"compress_model: the table must start at r_min > 0 (got {r_lo}; the model's "
            f"min_distance is {config.min_distance}); pass r_min (Å) below the shortest "
            f"distance your simulations will see and above 0 (r_cut = {config.r_cut})."
        )
    descriptor = model.descriptor
    s_max = float(
        smooth_switch(torch.tensor(r_lo, dtype=torch.float64), config.r_smooth, config.r_cut)
    )
    intervals, err, derr = _refine(descriptor, s_max, float(tolerance), int(start_intervals))
    record = {
        "s_max": s_max,
        "intervals": intervals,
        "r_min": r_lo,
        "tolerance": float(tolerance),
        "table_error": err,
        "table_derivative_error": derr,
    }
    compressed = AtomisticModel(dataclasses.replace(config, compression=record))
    compressed.load_state_dict(_without_table(model.state_dict()), strict=False)
    cast(SeADescriptor, compressed.descriptor).build_table(s_max, intervals)
    compressed.to(model.energy_shift.dtype).eval()
    return compressed, record


def _refine(
    descriptor: Any, s_max: float, tolerance: float, start: int
) -> tuple[int, float, float]:
    """Double the grid from ``start`` until :func:`table_error` is within ``tolerance``."""
    intervals = max(1, start)
    while True:
        err, derr = table_error(descriptor, s_max, intervals)
        if max(err, derr) <= tolerance:
            return intervals, err, derr
        if intervals >= MAX_INTERVALS:
            raise ValueError(
                f"compress_model: {MAX_INTERVALS} intervals reach a table error of "
                f"{max(err, derr):.3g} > tolerance {tolerance}; raise the tolerance or r_min."
            )
        intervals *= 2


def _without_table(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if not k.endswith("descriptor.table")}


def probe_structures(model: AtomisticModel, count: int = 3, seed: int = 0) -> list[Any]:
    """Rattled fcc cells (108 atoms) of random species at the model's training density
    (:math:`N_c` neighbours within :math:`r_c`), for measuring compression errors when no
    data are given.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> m = EnergyModel(EnergyModelConfig(type_map=["Cu", "Au"], r_cut=5.0))
    >>> len(probe_structures(m, count=1)[0])
    108
    """
    import ase.build

    rng = np.random.default_rng(seed)
    nc = float(getattr(model.core.atomic.descriptor, "neighbor_norm", 40.0))
    density = max(nc, 1.0) / (4.0 / 3.0 * math.pi * model.r_cut**3)
    a = (4.0 / density) ** (1.0 / 3.0)
    out = []
    for k in range(count):
        atoms = ase.build.bulk("Cu", "fcc", a=a, cubic=True) * (3, 3, 3)
        atoms.set_chemical_symbols(list(rng.choice(model.type_map, size=len(atoms))))
        atoms.rattle(0.04 * a, seed=seed + k)
        out.append(atoms)
    return out


def _energy_forces(model: AtomisticModel, atoms: Any) -> tuple[float, np.ndarray]:
    from geodl.geometry import neighbor_list

    dtype = model.energy_shift.dtype
    species = torch.tensor([model.type_map.index(s) for s in atoms.get_chemical_symbols()])
    pos = torch.tensor(atoms.positions, dtype=dtype)
    periodic = bool(np.all(atoms.pbc))
    cell = torch.tensor(atoms.cell.array, dtype=dtype)
    edge_index, shifts = neighbor_list(pos, model.r_cut, cell if periodic else None, periodic)
    batch = torch.zeros(len(atoms), dtype=torch.long)
    cell = cell.reshape(1, 3, 3)
    model.validate(species, pos, edge_index, shifts, cell, batch)
    out = model.compute(species, pos, edge_index, shifts, cell, batch, 1)
    return float(out["energy"].detach().sum()), out["forces"].detach().double().numpy()


def compression_errors(
    reference: AtomisticModel,
    compressed: AtomisticModel,
    structures: Sequence[Any],
    dtype: torch.dtype = torch.float64,
) -> dict[str, float]:
    """Largest energy (eV/atom) and force (eV/Å) differences between two models on
    ``structures`` (ASE ``Atoms``), both evaluated in ``dtype``.

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig
    >>> m = EnergyModel(EnergyModelConfig(type_map=["Cu"], r_cut=4.0, r_smooth=3.0,
    ...     embed_widths=(4, 8), axis_neurons=2, fitting_widths=(8,)))
    >>> c, _ = compress_model(m, tolerance=1e-6)
    >>> errs = compression_errors(m, c, probe_structures(m, count=1))
    >>> errs["force_max"] < 1e-5
    True
    """
    ref = copy.deepcopy(reference).to(dtype).eval()
    comp = copy.deepcopy(compressed).to(dtype).eval()
    e_err, f_err, f_scale, atoms_total = 0.0, 0.0, 0.0, 0
    for atoms in structures:
        ea, fa = _energy_forces(ref, atoms)
        eb, fb = _energy_forces(comp, atoms)
        n = len(atoms)
        atoms_total += n
        e_err = max(e_err, abs(ea - eb) / n)
        f_err = max(f_err, float(np.abs(fa - fb).max()))
        f_scale = max(f_scale, float(np.abs(fa).max()))
    return {
        "energy_per_atom_max": e_err,
        "force_max": f_err,
        "force_scale": f_scale,
        "structures": len(structures),
        "atoms": atoms_total,
    }
