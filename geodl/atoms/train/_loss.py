r"""The DeePMD loss of a potential: energy, force and stress errors with prefactors that
follow the learning rate.

.. math::

    L = p_e \tfrac1S\sum_s \big(\tfrac{\Delta E_s}{N_s}\big)^2
      + p_f \tfrac{1}{3N}\sum_{i\alpha}\Delta F_{i\alpha}^2
      + p_s \tfrac{1}{9S_\sigma}\sum_{s}\big\|\tfrac{V_s\Delta\sigma_s}{N_s}\big\|^2,
    \qquad p(\eta) = p_\text{limit} + (p_\text{start} - p_\text{limit})\,\eta/\eta_0 .

Several processes: each rank sums the errors of its share of the global batch and
divides by the global counts, so the gradients DDP averages equal those of one process
on the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from geodl.atoms.data import collate
from geodl.atoms.train._config import LossConfig
from geodl.errors import InputError

__all__ = ["PotentialLoss", "TrainingDiverged"]


class TrainingDiverged(InputError, FloatingPointError):
    """The gradient or the loss became NaN/inf: the settings (usually ``training.lr``)
    made the training diverge. An :class:`~geodl.errors.InputError` (exit code 2) and a
    ``FloatingPointError``."""


class PotentialLoss:
    """Loss, prefactors and the early-stopping score of :class:`~geodl.atoms.Trainer`.

    Parameters
    ----------
    config : LossConfig
        The prefactors.
    lr0 : float
        The initial learning rate :math:`\\eta_0`.
    use_stress : bool
        Include the stress term.

    Shapes
    ------
    A batch of ``S`` graphs with ``N`` atoms: energies ``(S,)``, forces ``(N, 3)``,
    stress ``(S, 3, 3)``.

    Symmetry
    --------
    Invariant under rotations of each structure (squared norms of equivariant errors)
    and permutations of its atoms.

    Examples
    --------
    >>> loss = PotentialLoss(LossConfig(), lr0=1e-3, use_stress=False)
    >>> [round(p, 6) for p in loss.prefactors(1e-3)]  # start: forces first
    [5.0, 1000.0, 0.02]
    >>> loss.prefactors(0.0)  # the limit: energies weigh more
    (100.0, 1.0, 1.0)
    """

    def __init__(self, config: LossConfig, lr0: float, use_stress: bool) -> None:
        self.config = config
        self.lr0 = float(lr0)
        self.use_stress = bool(use_stress)

    def __repr__(self) -> str:
        return f"PotentialLoss({self.config}, lr0={self.lr0}, use_stress={self.use_stress})"

    def prefactors(self, lr: float) -> tuple[float, float, float]:
        """Energy, force and stress prefactors at learning rate ``lr``."""
        c = self.config
        r = lr / self.lr0
        return (
            c.limit_pref_e + (c.start_pref_e - c.limit_pref_e) * r,
            c.limit_pref_f + (c.start_pref_f - c.limit_pref_f) * r,
            c.limit_pref_s + (c.start_pref_s - c.limit_pref_s) * r,
        )

    @staticmethod
    def terms(out: dict[str, Tensor], batch: Any, use_stress: bool) -> dict[str, Tensor]:
        """Summed squared errors of a (local) batch: ``"e"`` over structures of
        :math:`(\\Delta E/N)^2`, ``"f"`` over force components, ``"s"`` over stress
        structures of :math:`\\|V\\Delta\\sigma/N\\|^2/9`."""
        n = batch.n_atoms.to(out["energy"].dtype)
        terms = {
            "e": (((out["energy"] - batch.energy) / n) ** 2).sum(),
            "f": ((out["forces"] - batch.forces) ** 2).sum(),
        }
        if use_stress:
            vol = torch.linalg.det(batch.cell.reshape(-1, 3, 3)).abs()
            ds = (out["stress"] - batch.stress) * (vol / n).view(-1, 1, 1)
            terms["s"] = (batch.stress_weight * ds.pow(2).sum(dim=(1, 2)) / 9.0).sum()
        return terms

    def backward(
        self,
        net: Any,
        graphs: Sequence[Any],
        lr: float,
        device: torch.device,
        rank: int = 0,
        world_size: int = 1,
    ) -> dict[str, float]:
        """Forward and backward of this rank's share (``graphs[rank::world_size]``) of a
        global batch; returns ``{"loss", "f", "nf"}`` (loss, summed squared force errors
        and force components of the local share)."""
        n_struct = len(graphs)
        n_comp = 3 * sum(int(g.n_atoms) for g in graphs)
        use_stress = self.use_stress
        n_stress = sum(float(g.stress_weight) for g in graphs) if use_stress else 0.0
        batch = collate(graphs[rank::world_size]).to(device)
        out = net(batch, compute_forces=True, compute_stress=use_stress)
        terms = self.terms(out, batch, use_stress)
        pe, pf, ps = self.prefactors(lr)
        loss = pe * terms["e"] / n_struct + pf * terms["f"] / n_comp
        if use_stress and n_stress > 0:
            loss = loss + ps * terms["s"] / n_stress
        # DDP averages gradients over ranks: scale so the average is the full-batch gradient.
        (loss * world_size).backward()
        return {
            "loss": float(loss.detach()),
            "f": float(terms["f"].detach()),
            "nf": 3 * int(batch.num_nodes),
        }

    def score(self, metrics: dict[str, Any]) -> float:
        """Early-stopping score :math:`p_e^\\text{limit} \\text{RMSE}_E^2 +
        p_f^\\text{limit} \\text{RMSE}_F^2` of :func:`~geodl.atoms.evaluate` metrics."""
        c = self.config
        s = c.limit_pref_e * metrics["energy_rmse_per_atom"] ** 2
        s += c.limit_pref_f * metrics["forces_rmse"] ** 2
        return float(s)


def check_finite_gradients(params: Sequence[Tensor]) -> None:
    """Raise :class:`TrainingDiverged` when a gradient holds NaN or inf."""
    for p in params:
        if p.grad is not None and not torch.isfinite(p.grad).all():
            raise TrainingDiverged(
                "Trainer: the gradient became NaN/inf; lower training.lr or check the "
                "data for overlapping atoms or huge forces."
            )
