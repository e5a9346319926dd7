"""Errors of a potential on labelled structures, the energy-shift refit, and the metrics
table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from geodl.atoms.data import AtomsDataset, iter_batches
from geodl.errors import InputError

__all__ = ["evaluate", "format_metrics", "refit_energy_shift"]


def evaluate(
    model: Any,
    data: AtomsDataset | Sequence[Any],
    *,
    batch_size: int = 16,
    return_predictions: bool = False,
) -> dict[str, Any]:
    r"""Errors of ``model`` on labelled structures.

    .. math::

        \text{energy\_mae\_per\_atom} = \tfrac1S \sum_s |\Delta E_s| / N_s,\qquad
        \text{forces\_rmse} = \sqrt{\tfrac{1}{3N}\sum_{i\alpha} \Delta F_{i\alpha}^2}

    Parameters
    ----------
    model : EnergyModel
    data : AtomsDataset or list of graphs
        Labelled structures (graphs from :meth:`AtomsDataset.to_graphs`).
    batch_size : int
        Structures per forward pass.
    return_predictions : bool
        Also return ``"predictions"``: reference and predicted energies per atom and
        force components (for parity plots).

    Returns
    -------
    dict
        ``energy_mae_per_atom``, ``energy_rmse_per_atom`` (eV/atom), ``forces_mae``,
        ``forces_rmse`` (eV/Å), ``stress_rmse`` (eV/Å³, only when some structures carry
        stress), ``n_structures``, ``n_atoms``.

    Shapes
    ------
    ``S`` structures of ``N_s`` atoms; predictions: energies ``(S,)``, force components
    ``(3 sum N_s,)``.

    Symmetry
    --------
    Invariant under rotations and translations of each structure and permutations of its
    atoms when the model is (errors compare invariant energies and equivariant forces).

    Examples
    --------
    >>> from geodl.atoms import EnergyModel, EnergyModelConfig, bundled_dataset, read_structures
    >>> data = read_structures(bundled_dataset("argon"), index=":2")
    >>> model = EnergyModel(EnergyModelConfig(type_map=["Ar"], r_cut=4.0, r_smooth=3.0,
    ...                     embed_widths=(4,), axis_neurons=2, fitting_widths=(4,)))
    >>> m = evaluate(model, data)
    >>> m["n_structures"], m["forces_rmse"] > 0
    (2, True)
    """
    if isinstance(data, AtomsDataset):
        dtype = next(model.parameters()).dtype
        graphs = data.to_graphs(model.type_map, model.r_cut, dtype)
    else:
        graphs = list(data)
    if len(graphs) == 0:
        raise InputError("evaluate: no structures to evaluate; pass a non-empty dataset.")
    e_ref, e_pred, f_ref, f_pred, s_err, n_atoms = _predict_all(model, graphs, batch_size)
    er, ep = torch.cat(e_ref), torch.cat(e_pred)
    fr, fp = torch.cat(f_ref), torch.cat(f_pred)
    result = _errors(ep - er, fp - fr, torch.cat(s_err) if s_err else None)
    result["n_structures"] = len(graphs)
    result["n_atoms"] = n_atoms
    if return_predictions:
        result["predictions"] = {
            "energy_ref": er.numpy(),
            "energy_pred": ep.numpy(),
            "forces_ref": fr.numpy(),
            "forces_pred": fp.numpy(),
        }
    return result


def _errors(de: Tensor, df: Tensor, ds: Tensor | None) -> dict[str, Any]:
    """MAE / RMSE of energy-per-atom, force-component and stress errors; NaN is an error."""
    result: dict[str, Any] = {
        "energy_mae_per_atom": float(de.abs().mean()),
        "energy_rmse_per_atom": float(de.pow(2).mean().sqrt()),
        "forces_mae": float(df.abs().mean()),
        "forces_rmse": float(df.pow(2).mean().sqrt()),
    }
    if ds is not None:
        result["stress_rmse"] = float(ds.pow(2).mean().sqrt())
    for key, value in result.items():
        if not math.isfinite(value):
            raise InputError(
                f"evaluate: {key} is {value}; the model or the labels produce NaN/inf "
                "(a diverged training: lower training.lr)."
            )
    return result


def _predict_all(model: Any, graphs: Sequence[Any], batch_size: int) -> tuple:
    """Reference and predicted energies per atom, force components and stress errors."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    e_ref, e_pred, f_ref, f_pred, s_err = [], [], [], [], []
    n_atoms = 0
    try:
        for batch in iter_batches(graphs, batch_size):
            batch = batch.to(device)
            want_stress = bool((batch.stress_weight > 0).any())
            out = model(batch, compute_forces=True, compute_stress=want_stress)
            n = batch.n_atoms.to(out["energy"].dtype)
            e_ref.append((batch.energy / n).detach().cpu().double())
            e_pred.append((out["energy"] / n).detach().cpu().double())
            f_ref.append(batch.forces.detach().cpu().double().reshape(-1))
            f_pred.append(out["forces"].detach().cpu().double().reshape(-1))
            if want_stress:
                m = batch.stress_weight > 0
                s_err.append((out["stress"][m] - batch.stress[m]).detach().cpu().double())
            n_atoms += int(batch.n_atoms.sum())
    finally:
        model.train(was_training)
    return e_ref, e_pred, f_ref, f_pred, s_err, n_atoms


@torch.no_grad()
def _energies(model: Any, graphs: Sequence[Any], batch_size: int = 32) -> Tensor:
    device = next(model.parameters()).device
    out = []
    for batch in iter_batches(graphs, batch_size):
        out.append(model(batch.to(device), compute_forces=False)["energy"].double().cpu())
    return torch.cat(out)


def refit_energy_shift(model: Any, graphs: Sequence[Any]) -> list[float]:
    r"""Add to the per-species energy shifts the least-squares fit of the residuals
    :math:`E^\text{ref}_s - E^\text{pred}_s` on the composition :math:`n_{st}`:

    .. math::

        \delta = \arg\min_\delta \sum_s \Big(E^\text{ref}_s - E^\text{pred}_s
                  - \sum_t n_{st}\,\delta_t\Big)^2 .

    Forces and stress are unchanged (a constant per atom). Returns :math:`\delta` (eV).

    Shapes
    ------
    ``S`` graphs, ``T`` species: composition ``(S, T)``, :math:`\delta` ``(T,)``.

    Symmetry
    --------
    A per-species constant: invariant under every rigid motion and permutation.
    """
    was_training = model.training
    model.eval()
    try:
        pred = _energies(model, graphs)
    finally:
        model.train(was_training)
    t = len(model.type_map)
    comp = torch.zeros(len(graphs), t, dtype=torch.float64)
    for s, g in enumerate(graphs):
        comp[s] = torch.bincount(g.species.cpu(), minlength=t).double()
    ref = torch.cat([g.energy.detach().cpu().double().reshape(1) for g in graphs])
    delta = torch.linalg.lstsq(comp, (ref - pred).unsqueeze(-1), driver="gelsd").solution
    delta = torch.where(comp.sum(0) > 0, delta.squeeze(-1), torch.zeros(t, dtype=torch.float64))
    with torch.no_grad():
        model.energy_shift.add_(delta.to(model.energy_shift))
    return delta.tolist()


def format_metrics(metrics: dict[str, Any]) -> str:
    """A small table of :func:`evaluate` results in meV units.

    Examples
    --------
    >>> print(format_metrics({"energy_mae_per_atom": 0.001, "energy_rmse_per_atom": 0.002,
    ...                       "forces_mae": 0.01, "forces_rmse": 0.02, "n_structures": 5}))
    energy MAE        1.000 meV/atom
    energy RMSE       2.000 meV/atom
    forces MAE       10.000 meV/Å
    forces RMSE      20.000 meV/Å
    structures            5
    """
    rows = [
        ("energy MAE", metrics["energy_mae_per_atom"] * 1e3, "meV/atom"),
        ("energy RMSE", metrics["energy_rmse_per_atom"] * 1e3, "meV/atom"),
        ("forces MAE", metrics["forces_mae"] * 1e3, "meV/Å"),
        ("forces RMSE", metrics["forces_rmse"] * 1e3, "meV/Å"),
    ]
    if "stress_rmse" in metrics:
        rows.append(("stress RMSE", metrics["stress_rmse"] * 1e3, "meV/Å³"))
    lines = [f"{name:<12} {value:10.3f} {unit}" for name, value, unit in rows]
    lines.append(f"{'structures':<12} {metrics['n_structures']:10d}")
    return "\n".join(lines)
