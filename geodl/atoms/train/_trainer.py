"""Training of :class:`~geodl.atoms.EnergyModel` on energies, forces and stress.

* Loss: DeePMD-style prefactors that move from force-heavy to energy-heavy as the learning
  rate decays (see :class:`~geodl.atoms.LossConfig`).
* Adam, exponential learning-rate decay over the epochs or over the wall-clock budget,
  optional EMA of the weights, float32 or float64.
* Early stopping on validation, ``max_time`` budget, checkpoint/resume with atomic writes
  (the random state is restored: a resumed run continues the same trajectory).
* tqdm progress bar, a per-epoch table, CSV log, PNG plots.
* Several processes through ``torch.nn.parallel.DistributedDataParallel`` when launched
  with ``torchrun`` (gloo on CPU, NCCL on GPUs): each global batch is split over the ranks
  and the loss is normalised by global counts, so N ranks make the same update as one
  rank on the whole batch.
"""

from __future__ import annotations

import csv
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from geodl.atoms.data import AtomsDataset, read_structures
from geodl.atoms.model import (
    DTYPES,
    AtomisticModel,
    finetune_model,
    load_model,
    model_config_from_dict,
    read_torch_file,
    save_model,
)
from geodl.atoms.train._config import TrainConfig

__all__ = [
    "Trainer",
    "TrainResult",
    "train",
    "evaluate",
    "format_metrics",
    "load_datasets",
    "init_distributed",
    "refit_energy_shift",
]

_CHECKPOINT = "checkpoint.pt"
_BAD_CHECKPOINT = (
    "Delete it (or choose another --out) to start a new run, or --set training.resume=false."
)
_MODEL = "model.pt"

#: columns of the per-epoch table / CSV log (values in meV, meV/Å, s).
_COLUMNS = (
    "epoch",
    "lr",
    "loss",
    "train_f_rmse",
    "valid_e_mae",
    "valid_e_rmse",
    "valid_f_mae",
    "valid_f_rmse",
    "valid_s_rmse",
    "time",
)


# ---------------------------------------------------------------------------- helpers
def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, fsync, then ``os.replace``:
    the file at ``path`` is always either the previous complete one or the new one."""
    path = Path(path)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        torch.save(obj, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _atomic_write_text(text: str, path: Path) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _collate(graphs: Sequence[Any]) -> Any:
    from torch_geometric.data import Batch

    return Batch.from_data_list(list(graphs))


def _batches(graphs: Sequence[Any], batch_size: int) -> Iterator[Any]:
    """Collate one batch at a time (never all batches in memory at once)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}.")
    for i in range(0, len(graphs), batch_size):
        yield _collate(graphs[i : i + batch_size])


def _device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", 0))
            return torch.device(f"cuda:{local % torch.cuda.device_count()}")
        return torch.device("cpu")
    return torch.device(name)


# ---------------------------------------------------------------------------- metrics
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
    """
    if isinstance(data, AtomsDataset):
        dtype = next(model.parameters()).dtype
        graphs = data.to_graphs(model.type_map, model.r_cut, dtype)
    else:
        graphs = list(data)
    if len(graphs) == 0:
        raise ValueError("evaluate: no structures to evaluate; pass a non-empty dataset.")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    e_ref, e_pred, f_ref, f_pred, s_err = [], [], [], [], []
    n_atoms = 0
    try:
        for batch in _batches(graphs, batch_size):
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
    er, ep = torch.cat(e_ref), torch.cat(e_pred)
    fr, fp = torch.cat(f_ref), torch.cat(f_pred)
    de, df = ep - er, fp - fr
    result: dict[str, Any] = {
        "energy_mae_per_atom": float(de.abs().mean()),
        "energy_rmse_per_atom": float(de.pow(2).mean().sqrt()),
        "forces_mae": float(df.abs().mean()),
        "forces_rmse": float(df.pow(2).mean().sqrt()),
    }
    if s_err:
        ds = torch.cat(s_err)
        result["stress_rmse"] = float(ds.pow(2).mean().sqrt())
    result["n_structures"] = len(graphs)
    result["n_atoms"] = n_atoms
    for key, value in result.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(
                f"evaluate: {key} is {value}; the model or the labels produce NaN/inf."
            )
    if return_predictions:
        result["predictions"] = {
            "energy_ref": er.numpy(),
            "energy_pred": ep.numpy(),
            "forces_ref": fr.numpy(),
            "forces_pred": fp.numpy(),
        }
    return result


@torch.no_grad()
def _energies(model: Any, graphs: Sequence[Any], batch_size: int = 32) -> Tensor:
    device = next(model.parameters()).device
    out = []
    for batch in _batches(graphs, batch_size):
        out.append(model(batch.to(device), compute_forces=False)["energy"].double().cpu())
    return torch.cat(out)


def refit_energy_shift(model: Any, graphs: Sequence[Any]) -> list[float]:
    r"""Add to the per-species energy shifts the least-squares fit of the residuals
    :math:`E^\text{ref}_s - E^\text{pred}_s` on the composition :math:`n_{st}`:

    .. math::

        \delta = \arg\min_\delta \sum_s \Big(E^\text{ref}_s - E^\text{pred}_s
                  - \sum_t n_{st}\,\delta_t\Big)^2 .

    Forces and stress are unchanged (a constant per atom). Returns :math:`\delta` (eV).
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
    """A small table of :func:`evaluate` results in meV units."""
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


# ---------------------------------------------------------------------------- trainer
@dataclass
class TrainResult:
    """What :meth:`Trainer.fit` returns.

    Attributes
    ----------
    model : EnergyModel
        The best model (EMA weights when EMA is on), in eval mode.
    history : list of dict
        One row per validated epoch (the CSV log).
    valid_metrics : dict
        :func:`evaluate` of the best model on the validation set.
    test_metrics : dict or None
        Same on the test set, when there is one.
    stop_reason : str
        ``"epochs"``, ``"max_time"`` or ``"early_stopping"``.
    out : Path or None
        Output directory.
    """

    model: Any
    history: list[dict[str, float]]
    valid_metrics: dict[str, Any]
    test_metrics: dict[str, Any] | None = None
    stop_reason: str = "epochs"
    out: Path | None = None
    files: dict[str, str] = field(default_factory=dict)


class Trainer:
    r"""Train an :class:`~geodl.atoms.EnergyModel` (see the module docstring).

    The learning rate decays exponentially from ``lr`` to ``lr_final`` with the progress
    :math:`p\in[0,1]` (fraction of the steps, or of ``max_time`` if that is larger):

    .. math::

        \eta(p) = \eta_0 \left(\eta_\text{final}/\eta_0\right)^{p}

    and the loss prefactors follow :math:`\eta` (DeePMD). The loss of a global batch is

    .. math::

        L = p_e \tfrac1S\sum_s \big(\tfrac{\Delta E_s}{N_s}\big)^2
          + p_f \tfrac{1}{3N}\sum_{i\alpha}\Delta F_{i\alpha}^2
          + p_s \tfrac{1}{9S_\sigma}\sum_{s}\big\|\tfrac{V_s\Delta\sigma_s}{N_s}\big\|^2 .

    Parameters
    ----------
    config : TrainConfig
        The whole configuration.
    out : path or None
        Output directory; by default ``config.out``; ``None`` writes no files.
    model : EnergyModel, optional
        A model to train; by default one is built from ``config.model`` with the species
        of the training set as ``type_map`` and :meth:`fit_statistics` applied.
    log : callable
        Where progress lines go (``print`` by default); only rank 0 logs.
    callbacks : list of callables
        ``callback(trainer, row)`` after each validated epoch (after the checkpoint).

    Examples
    --------
    >>> from geodl.atoms import TrainConfig, bundled_dataset, read_structures
    >>> data = read_structures(bundled_dataset("argon"), index=":6")
    >>> cfg = TrainConfig.from_dict({
    ...     "model": {"r_cut": 4.0, "r_smooth": 3.0, "embed_widths": [4], "axis_neurons": 2,
    ...               "fitting_widths": [8]},
    ...     "training": {"epochs": 2, "batch_size": 3, "progress": False, "plots": False}})
    >>> result = Trainer(cfg, out=None, log=lambda line: None).fit(data)
    >>> result.stop_reason, len(result.history)
    ('epochs', 2)
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        model: Any = None,
        out: str | Path | None = "config",
        log: Callable[[str], None] | None = None,
        callbacks: Sequence[Callable[[Trainer, dict[str, float]], None]] = (),
    ) -> None:
        if not isinstance(config, TrainConfig):
            raise TypeError(
                f"Trainer: 'config' must be a TrainConfig, got {type(config).__name__}; "
                "use geodl.atoms.load_config(...) or TrainConfig.from_dict(...)."
            )
        self.config = config
        self.model = model
        self.out = Path(config.out) if out == "config" else (Path(out) if out else None)
        self.callbacks = list(callbacks)
        self.world_size = 1
        self.rank = 0
        self._log = log or print
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            self.world_size = torch.distributed.get_world_size()
            self.rank = torch.distributed.get_rank()

    def __repr__(self) -> str:
        t = self.config.training
        return (
            f"Trainer(epochs={t.epochs}, batch_size={t.batch_size}, lr={t.lr}, "
            f"lr_final={t.lr_final}, ema_decay={t.ema_decay}, max_time={t.max_time}, "
            f"world_size={self.world_size}, out={str(self.out) if self.out else None!r})"
        )

    def log(self, text: str) -> None:
        if self.rank == 0:
            self._log(text)

    # ---------------------------------------------------------------- model set-up
    def build_model(self, train: AtomsDataset) -> Any:
        """A fresh model for ``train``: config.model + type_map from the data + statistics;
        or, with ``training.init_model``, the trained model to fine-tune."""
        if self.config.training.init_model:
            return self._finetune_start(train)
        cfg = dict(self.config.model)
        cfg.setdefault("type_map", train.species)
        missing = sorted(set(train.species) - set(cfg["type_map"]))
        if missing:
            raise ValueError(
                f"model.type_map {cfg['type_map']} lacks species {missing} found in "
                f"{train.source}; add them or remove model.type_map to use the data's species."
            )
        torch.manual_seed(self.config.training.seed)
        model = AtomisticModel(model_config_from_dict(cfg))
        graphs = train.to_graphs(model.type_map, model.r_cut, model.energy_shift.dtype)
        model.fit_statistics(_batches(graphs, 64))
        return model

    def _finetune_start(self, train: AtomsDataset) -> Any:
        """The initial model of a fine-tuning run: ``training.init_model`` with its type map
        extended to the new data's elements (statistics of new elements from the data), and
        its reference energies refitted on the residuals unless ``model.e0s`` is given."""
        t = self.config.training
        path = Path(str(t.init_model))
        if not path.is_file():
            raise ValueError(
                f"training.init_model: no such file {str(path)!r}; give the model.pt of a "
                "trained run."
            )
        torch.manual_seed(t.seed)
        base = load_model(path)
        type_map = list(self.config.model.get("type_map") or base.type_map)
        type_map += sorted(set(train.species) - set(type_map) - set(base.type_map))
        dtype = DTYPES[self.config.model.get("dtype", base.config.dtype)]
        graphs = train.to_graphs(type_map, base.r_cut, dtype)
        overrides = {**self.config.model, "type_map": type_map}
        model = finetune_model(base, train.species, overrides, list(_batches(graphs, 64)))
        if model.config.e0s == "fit":
            delta = refit_energy_shift(model, graphs)
            self.log(
                f"fine-tuning {path}: type_map {model.type_map}; reference energies refitted "
                "on the new data (eV): "
                + ", ".join(f"{s} {d:+.4f}" for s, d in zip(model.type_map, delta, strict=True))
            )
        return model

    # ---------------------------------------------------------------- schedule
    def _progress(self, step: int, total_steps: int, elapsed: float) -> float:
        p = step / max(total_steps, 1)
        t = self.config.training
        if t.max_time is not None:
            p = max(p, elapsed / t.max_time)
        return min(max(p, 0.0), 1.0)

    def learning_rate(self, progress: float) -> float:
        """:math:`\\eta(p) = \\eta_0 (\\eta_f/\\eta_0)^p`."""
        t = self.config.training
        return t.lr * (t.lr_final / t.lr) ** progress

    def prefactors(self, lr: float) -> tuple[float, float, float]:
        """Energy, force and stress prefactors at learning rate ``lr``."""
        c = self.config.training.loss
        r = lr / self.config.training.lr
        return (
            c.limit_pref_e + (c.start_pref_e - c.limit_pref_e) * r,
            c.limit_pref_f + (c.start_pref_f - c.limit_pref_f) * r,
            c.limit_pref_s + (c.start_pref_s - c.limit_pref_s) * r,
        )

    # ---------------------------------------------------------------- loss
    @staticmethod
    def loss_terms(out: dict[str, Tensor], batch: Any, use_stress: bool) -> dict[str, Tensor]:
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

    # ---------------------------------------------------------------- fit
    def fit(
        self,
        train: AtomsDataset,
        valid: AtomsDataset | None = None,
        test: AtomsDataset | None = None,
    ) -> TrainResult:
        """Train on ``train``, validate on ``valid`` (default: ``train``), report ``test``."""
        cfg = self.config
        t = cfg.training
        if len(train) == 0:
            raise ValueError("Trainer.fit: the training set is empty; give labelled structures.")
        if t.num_threads:
            torch.set_num_threads(int(t.num_threads))
        device = _device(t.device)
        out = self.out
        if out is not None and self.rank == 0:
            out.mkdir(parents=True, exist_ok=True)
        ckpt_path = out / _CHECKPOINT if out is not None else None
        resume = None
        if ckpt_path is not None and ckpt_path.is_file() and t.resume in (True, "auto"):
            resume = read_torch_file(ckpt_path, what="checkpoint", hint=_BAD_CHECKPOINT)
            self._check_resume(resume, ckpt_path)
        elif t.resume is True:
            raise ValueError(
                f"training.resume is true but there is no checkpoint at {ckpt_path}; "
                "set training.resume=auto or point out to a previous run."
            )

        # ---- model
        if resume is not None:
            model = AtomisticModel(model_config_from_dict(resume["model_config"]))
            model.load_state_dict(resume["model"])
        elif self.model is not None:
            model = self.model
        else:
            model = self.build_model(train)
        model.to(device)
        model.train()
        self.model = model
        dtype = model.energy_shift.dtype
        valid = valid if valid is not None and len(valid) > 0 else None
        train.check_species(model.type_map)
        if valid is not None:
            valid.check_species(model.type_map)
        train_graphs = train.to_graphs(model.type_map, model.r_cut, dtype)
        valid_graphs = (valid or train).to_graphs(model.type_map, model.r_cut, dtype)
        use_stress = cfg.data.use_stress
        if use_stress == "auto":
            use_stress = bool(train.has_stress.any())
        use_stress = bool(use_stress) and bool(train.has_stress.any())

        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.Adam(params, lr=t.lr)
        ema = [p.detach().clone() for p in params] if t.ema_decay is not None else None
        shuffle = torch.Generator().manual_seed(t.seed + 1)
        epoch, step, elapsed = 0, 0, 0.0
        best_score, bad_epochs, history = math.inf, 0, []
        if resume is not None:
            optimizer.load_state_dict(resume["optimizer"])
            if ema is not None and resume.get("ema") is not None:
                for e, v in zip(ema, resume["ema"], strict=False):
                    e.copy_(v)
            shuffle.set_state(resume["rng"]["shuffle"])
            torch.set_rng_state(resume["rng"]["torch"])
            np.random.set_state(_np_state_from(resume["rng"]["numpy"]))
            random.setstate(_py_state_from(resume["rng"]["python"]))
            epoch, step, elapsed = resume["epoch"], resume["step"], resume["elapsed"]
            best_score, bad_epochs = resume["best_score"], resume["bad_epochs"]
            history = list(resume["history"])
            self.log(f"resumed from {ckpt_path} after epoch {epoch} (step {step})")

        net: Any = model
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(model, find_unused_parameters=True)

        n_train = len(train_graphs)
        bs = min(t.batch_size, n_train)
        steps_per_epoch = max(1, n_train // bs)
        total_steps = t.epochs * steps_per_epoch
        stop_reason = "epochs"
        t_start = time.perf_counter() - elapsed
        val_time = 0.0
        step_time = 0.0
        lr = t.lr
        best_state: dict[str, Tensor] | None = None
        if resume is None:
            self.log(
                f"training on {n_train} structures ({train.source}), validating on "
                f"{len(valid_graphs)}; {steps_per_epoch} steps/epoch of {bs} structures"
                f"{', stress on' if use_stress else ''}"
                f"{f', {self.world_size} processes' if self.world_size > 1 else ''}"
            )
        if resume is not None and t.patience is not None and bad_epochs >= t.patience:
            stop_reason = "early_stopping"
            epoch_limit = epoch  # the resumed run had already stopped early
        else:
            epoch_limit = t.epochs

        def save_checkpoint(elapsed: float) -> None:
            # reads the loop's current epoch, step, best score, ... when called
            assert out is not None
            state = self._checkpoint(
                model,
                optimizer,
                ema,
                shuffle,
                epoch,
                step,
                elapsed,
                best_score,
                bad_epochs,
                history,
            )
            atomic_save(state, out / _CHECKPOINT)

        self.log(_table_header())
        while epoch < epoch_limit:
            perm = torch.randperm(n_train, generator=shuffle).tolist()
            sums = {"loss": 0.0, "f": 0.0, "nf": 0}
            stop_now = False
            bar = _progress_bar(steps_per_epoch, epoch + 1, t.progress and self.rank == 0)
            for b in range(steps_per_epoch):
                now = time.perf_counter() - t_start
                if t.max_time is not None and self._sync_flag(
                    now + val_time + step_time >= t.max_time
                ):
                    stop_now = True
                    stop_reason = "max_time"
                    break
                t0 = time.perf_counter()
                idx = perm[b * bs : (b + 1) * bs]
                lr = self.learning_rate(self._progress(step, total_steps, now))
                pe, pf, ps = self.prefactors(lr)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                optimizer.zero_grad(set_to_none=True)
                loss, f_sq = self._step(
                    net, [train_graphs[i] for i in idx], (pe, pf, ps), use_stress, device
                )
                if t.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, t.grad_clip)
                optimizer.step()
                step += 1
                if ema is not None:
                    decay = min(t.ema_decay, (1.0 + step) / (10.0 + step))
                    with torch.no_grad():
                        torch._foreach_lerp_(ema, [p.detach() for p in params], 1.0 - decay)
                sums["loss"] += loss
                sums["f"] += f_sq[0]
                sums["nf"] += f_sq[1]
                step_time = time.perf_counter() - t0
                if bar is not None:
                    bar.set_postfix(loss=f"{loss:.3g}", lr=f"{lr:.2g}", refresh=False)
                    bar.update(1)
            if bar is not None:
                bar.close()
            completed = not stop_now
            if completed:
                epoch += 1
                if epoch % t.valid_every != 0 and epoch < t.epochs:
                    if out is not None and self.rank == 0:  # no completed epoch is lost
                        elapsed = time.perf_counter() - t_start
                        save_checkpoint(elapsed)
                    continue
            elif b == 0 and history:
                break  # stopped before any step of this epoch: nothing new to validate
            # ---- validation (EMA weights)
            t0 = time.perf_counter()
            with _swapped(params, ema):
                metrics = evaluate(model, valid_graphs, batch_size=max(bs, 8))
                score = self._score(metrics)
                improved = score < best_score
                if improved:
                    best_score, bad_epochs = score, 0
                    if out is not None and self.rank == 0:
                        self._save_model(model, out / _MODEL)
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    bad_epochs += 1
            val_time = time.perf_counter() - t0
            elapsed = time.perf_counter() - t_start
            row = {
                "epoch": epoch if completed else epoch + b / steps_per_epoch,
                "lr": lr,
                "loss": sums["loss"] / max(b + (1 if completed else 0), 1),
                "train_f_rmse": 1e3 * math.sqrt(sums["f"] / max(sums["nf"], 1)),
                "valid_e_mae": 1e3 * metrics["energy_mae_per_atom"],
                "valid_e_rmse": 1e3 * metrics["energy_rmse_per_atom"],
                "valid_f_mae": 1e3 * metrics["forces_mae"],
                "valid_f_rmse": 1e3 * metrics["forces_rmse"],
                "valid_s_rmse": 1e3 * metrics.get("stress_rmse", float("nan")),
                "time": elapsed,
            }
            history.append(row)
            self.log(_table_row(row, improved))
            if out is not None and self.rank == 0:
                self._write_csv(history, out / "log.csv")
                if completed:
                    save_checkpoint(elapsed)
            for cb in self.callbacks:
                cb(self, row)
            if not completed:
                break
            if t.patience is not None and bad_epochs >= t.patience:
                stop_reason = "early_stopping"
                break
            if t.max_time is not None and self._sync_flag(elapsed >= t.max_time):
                stop_reason = "max_time"
                break
        # ---- final model: best validation weights
        if best_state is not None:
            model.load_state_dict(best_state)
        elif out is not None and (out / _MODEL).is_file():
            model.load_state_dict(load_model(out / _MODEL).state_dict())
        model.eval()
        # Given reference energies (model.e0s) are kept as the user set them.
        if t.refit_energy_shift and model.config.e0s == "fit":
            delta = refit_energy_shift(model, train_graphs)
            self.log(
                "refitted energy shifts (eV): "
                + ", ".join(f"{s} {d:+.4f}" for s, d in zip(model.type_map, delta, strict=False))
            )
            if out is not None and self.rank == 0:
                self._save_model(model, out / _MODEL)
        self.log(
            f"stopped: {stop_reason} after {epoch} epochs, {step} steps, "
            f"{time.perf_counter() - t_start:.1f} s"
        )
        valid_metrics = evaluate(
            model, valid_graphs, batch_size=max(bs, 8), return_predictions=True
        )
        test_metrics = None
        if test is not None and len(test) > 0:
            test_metrics = evaluate(model, test, batch_size=max(bs, 8), return_predictions=True)
        files: dict[str, str] = {}
        if out is not None and self.rank == 0:
            files = {
                name: str(out / fname)
                for name, fname in (
                    ("model", _MODEL),
                    ("checkpoint", _CHECKPOINT),
                    ("log", "log.csv"),
                )
                if (out / fname).is_file()
            }
            if t.plots and history:
                from geodl.atoms.train._plots import plot_learning_curves, plot_parity

                plot_learning_curves(history, out / "learning_curves.png")
                files["learning_curves"] = str(out / "learning_curves.png")
                shown = test_metrics or valid_metrics
                plot_parity(
                    shown["predictions"],
                    out / "parity.png",
                    title="test" if test_metrics else "validation",
                )
                files["parity"] = str(out / "parity.png")
        return TrainResult(
            model=model,
            history=history,
            valid_metrics={k: v for k, v in valid_metrics.items() if k != "predictions"},
            test_metrics=(
                {k: v for k, v in test_metrics.items() if k != "predictions"}
                if test_metrics
                else None
            ),
            stop_reason=stop_reason,
            out=out,
            files=files,
        )

    # ---------------------------------------------------------------- internals
    def _step(
        self,
        net: Any,
        graphs: list[Any],
        prefs: tuple[float, float, float],
        use_stress: bool,
        device: torch.device,
    ) -> tuple[float, tuple[float, int]]:
        """One optimisation step's forward/backward on this rank's share of the batch."""
        n_struct = len(graphs)
        n_comp = 3 * sum(int(g.n_atoms) for g in graphs)
        n_stress = sum(float(g.stress_weight) for g in graphs) if use_stress else 0.0
        local = graphs[self.rank :: self.world_size]
        batch = _collate(local).to(device)
        out = net(batch, compute_forces=True, compute_stress=use_stress)
        terms = self.loss_terms(out, batch, use_stress)
        pe, pf, ps = prefs
        loss = pe * terms["e"] / n_struct + pf * terms["f"] / n_comp
        if use_stress and n_stress > 0:
            loss = loss + ps * terms["s"] / n_stress
        # DDP averages gradients over ranks: scale so the average is the full-batch gradient.
        (loss * self.world_size).backward()
        for p in self.model.parameters():
            if p.grad is not None and not torch.isfinite(p.grad).all():
                raise FloatingPointError(
                    "Trainer: the gradient became NaN/inf; lower training.lr or check the "
                    "data for overlapping atoms or huge forces."
                )
        return float(loss.detach()), (float(terms["f"].detach()), 3 * int(batch.num_nodes))

    def _sync_flag(self, flag: bool) -> bool:
        if self.world_size == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0])
        torch.distributed.broadcast(t, src=0)
        return bool(t.item() > 0)

    def _score(self, metrics: dict[str, Any]) -> float:
        c = self.config.training.loss
        s = c.limit_pref_e * metrics["energy_rmse_per_atom"] ** 2
        s += c.limit_pref_f * metrics["forces_rmse"] ** 2
        return float(s)

    def _save_model(self, model: Any, path: Path) -> None:
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        save_model(model, tmp)
        os.replace(tmp, path)

    def _checkpoint(
        self, model, optimizer, ema, shuffle, epoch, step, elapsed, best_score, bad_epochs, history
    ) -> dict[str, Any]:
        return {
            "format": "geodl.atoms.checkpoint",
            "version": 1,
            "config": self.config.to_dict(),
            "model_config": model.config.to_dict(),
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "ema": [e.detach().cpu() for e in ema] if ema is not None else None,
            "rng": {
                "shuffle": shuffle.get_state(),
                "torch": torch.get_rng_state(),
                "numpy": _np_state_to(np.random.get_state()),
                "python": _py_state_to(random.getstate()),
            },
            "epoch": epoch,
            "step": step,
            "elapsed": float(elapsed),
            "best_score": float(best_score),
            "bad_epochs": int(bad_epochs),
            "history": history,
        }

    def _check_resume(self, ckpt: dict[str, Any], path: Path) -> None:
        if not isinstance(ckpt, dict) or ckpt.get("format") != "geodl.atoms.checkpoint":
            raise ValueError(f"{path}: not a geodl training checkpoint; use another --out.")
        old = ckpt["config"]
        new = self.config.to_dict()
        for section in ("model", "data"):
            if old.get(section) != new.get(section):
                raise ValueError(
                    f"{path}: this checkpoint was written with a different '{section}' "
                    f"section ({old.get(section)} vs now {new.get(section)}). Use a new --out "
                    "directory, or --set training.resume=false to start over there."
                )

    @staticmethod
    def _write_csv(history: list[dict[str, float]], path: Path) -> None:
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(_COLUMNS))
        writer.writeheader()
        for row in history:
            writer.writerow({k: f"{row[k]:.6g}" for k in _COLUMNS})
        _atomic_write_text(buf.getvalue(), path)


class _swapped:
    """Context manager: parameters temporarily replaced by the EMA copies."""

    def __init__(self, params: list[Tensor], ema: list[Tensor] | None) -> None:
        self.params, self.ema = params, ema
        self.saved: list[Tensor] = []

    def __enter__(self) -> None:
        if self.ema is None:
            return
        with torch.no_grad():
            self.saved = [p.detach().clone() for p in self.params]
            for p, e in zip(self.params, self.ema, strict=False):
                p.copy_(e)

    def __exit__(self, *exc: Any) -> None:
        if self.ema is None:
            return
        with torch.no_grad():
            for p, s in zip(self.params, self.saved, strict=False):
                p.copy_(s)


def _np_state_to(state: tuple) -> list:
    return [state[0], torch.from_numpy(np.asarray(state[1]).astype(np.int64)), *state[2:]]


def _np_state_from(state: list) -> tuple:
    return (state[0], np.asarray(state[1], dtype=np.uint32), *state[2:])


def _py_state_to(state: tuple) -> list:
    return [state[0], torch.tensor(state[1], dtype=torch.int64), state[2]]


def _py_state_from(state: list) -> tuple:
    return (state[0], tuple(int(x) for x in state[1].tolist()), state[2])


def _progress_bar(total: int, epoch: int, enabled: bool | None) -> Any:
    if enabled is False:
        return None
    from tqdm.auto import tqdm

    disable = None if enabled is None else not enabled
    return tqdm(total=total, desc=f"epoch {epoch}", leave=False, disable=disable, file=sys.stderr)


def _table_header() -> str:
    return (
        f"{'epoch':>7} {'lr':>9} {'loss':>9} {'trainF':>8} | {'E MAE':>7} {'E RMSE':>7} "
        f"{'F MAE':>7} {'F RMSE':>7} {'S RMSE':>7} {'time':>7}\n"
        f"{'':>7} {'':>9} {'':>9} {'meV/Å':>8} | {'meV/at':>7} {'meV/at':>7} {'meV/Å':>7} "
        f"{'meV/Å':>7} {'meV/Å³':>7} {'s':>7}"
    )


def _table_row(row: dict[str, float], improved: bool) -> str:
    epoch = row["epoch"]
    ep = f"{int(epoch)}" if float(epoch).is_integer() else f"{epoch:.2f}"
    s = row["valid_s_rmse"]
    s_txt = f"{s:7.3f}" if math.isfinite(s) else f"{'-':>7}"
    return (
        f"{ep:>7} {row['lr']:9.2e} {row['loss']:9.3g} {row['train_f_rmse']:8.1f} | "
        f"{row['valid_e_mae']:7.2f} {row['valid_e_rmse']:7.2f} {row['valid_f_mae']:7.1f} "
        f"{row['valid_f_rmse']:7.1f} {s_txt} {row['time']:7.1f}{' *' if improved else ''}"
    )


# ---------------------------------------------------------------------------- entry point
def load_datasets(
    config: TrainConfig,
) -> tuple[AtomsDataset, AtomsDataset | None, AtomsDataset | None]:
    """Read and split the data named by ``config.data`` into (train, valid, test)."""
    d = config.data
    if not d.train:
        raise ValueError(
            "data.train is not set: give the training file with --data FILE or data.train "
            "in the config."
        )
    keys = dict(
        index=d.index,
        energy_key=d.energy_key,
        forces_key=d.forces_key,
        stress_key=d.stress_key,
        fmt=d.format,
    )
    full = read_structures(d.train, **keys)
    fractions = [0.0 if d.valid else d.valid_fraction, 0.0 if d.test else d.test_fraction]
    if len(full) == 1 and fractions[0] > 0:
        fractions[0] = 0.0  # a single structure: validate on it
    train, valid, test = full.split(fractions, seed=d.split_seed)
    if d.max_structures is not None and len(train) > d.max_structures:
        perm = np.random.default_rng(d.split_seed + 1).permutation(len(train))
        train = train.subset(np.sort(perm[: d.max_structures]))
    if d.valid:
        valid = read_structures(d.valid, **keys)
    if d.test:
        test = read_structures(d.test, **keys)
    return train, (valid if len(valid) else None), (test if len(test) else None)


def train(
    config: TrainConfig,
    *,
    log: Callable[[str], None] | None = None,
    callbacks: Sequence[Callable[[Trainer, dict[str, float]], None]] = (),
) -> TrainResult:
    """Read the data of ``config``, train, write model/checkpoint/log/plots to ``config.out``.

    Examples
    --------
    >>> import tempfile
    >>> from geodl.atoms import bundled_dataset, load_config
    >>> cfg = load_config(overrides=[
    ...     f"data.train={bundled_dataset('argon')}", "data.index=:8", "epochs=1",
    ...     "model.r_cut=4.0", "model.r_smooth=3.0", "embed_widths=[4]", "axis_neurons=2",
    ...     "fitting_widths=[8]", "progress=false", "plots=false", f"out={tempfile.mkdtemp()}"])
    >>> result = train(cfg, log=lambda line: None)
    >>> sorted(result.files)[:2]
    ['checkpoint', 'log']
    """
    train_set, valid_set, test_set = load_datasets(config)
    trainer = Trainer(config, log=log, callbacks=callbacks)
    if trainer.out is not None and trainer.rank == 0:
        trainer.out.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(config.to_yaml(), trainer.out / "config.yaml")
    return trainer.fit(train_set, valid_set, test_set)


def init_distributed() -> bool:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE > 1``).

    Uses NCCL when CUDA is available, gloo otherwise. Returns True when this process is
    part of a multi-process run. Call :func:`torch.distributed.destroy_process_group`
    at the end (``geodl train`` does).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return True
