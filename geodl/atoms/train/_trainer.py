"""Training of :class:`~geodl.atoms.EnergyModel` on energies, forces and stress.

* Loss: DeePMD-style prefactors that move from force-heavy to energy-heavy as the learning
  rate decays (:class:`PotentialLoss`, :class:`~geodl.atoms.LossConfig`).
* Adam, exponential learning-rate decay over the epochs or over the wall-clock budget,
  optional EMA of the weights, float32 or float64.
* Early stopping on validation, ``max_time`` budget (counting everything: reading,
  statistics, refit, final evaluation, plots), checkpoints at epoch ends and every
  ``checkpoint_every_s`` seconds with atomic writes (the random state is restored: a
  resumed run continues the same trajectory), a clean stop on SIGTERM / SIGINT.
* tqdm progress bar, a per-epoch table, CSV log, PNG plots.
* Several processes through ``torch.nn.parallel.DistributedDataParallel`` when launched
  with ``torchrun`` (gloo on CPU, NCCL on GPUs): each global batch is split over the ranks
  and the loss is normalised by global counts, so N ranks make the same update as one
  rank on the whole batch.

The loop itself is :class:`geodl.training.TrainLoop`; this module sets a run up and
finishes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from geodl.atoms.data import AtomsDataset, iter_batches
from geodl.atoms.model import (
    AtomisticModel,
    check_model_size,
    load_model,
    model_config_from_dict,
    model_from_state,
)
from geodl.atoms.train._checkpoint import (
    CHECKPOINT,
    MODEL,
    RunDecision,
    open_run,
    restore_state,
    seconds_spent,
)
from geodl.atoms.train._config import TrainConfig, suspicious_values
from geodl.atoms.train._finetune import finetune_start
from geodl.atoms.train._loss import PotentialLoss
from geodl.atoms.train._metrics import evaluate, refit_energy_shift
from geodl.atoms.train._plots import time_a_plot
from geodl.atoms.train._report import table_header, write_plots
from geodl.atoms.train._results import TrainResult, plain_metrics, run_files, stored_result
from geodl.atoms.train._task import PotentialTask, save_model_atomic
from geodl.errors import InputError
from geodl.training import (
    EMA,
    Budget,
    GracefulStop,
    LoopState,
    TrainingInterrupted,
    TrainLoop,
    atomic_save,
    atomic_write_text,
    exponential_decay,
    rank_and_world,
    resolve_device,
    set_rng_state,
)

__all__ = ["Trainer"]


class Trainer:
    r"""Train an :class:`~geodl.atoms.EnergyModel` (see the module docstring).

    The learning rate decays exponentially from ``lr`` to ``lr_final`` with the progress
    :math:`p\in[0,1]` (fraction of the steps, or of the time budget if that is larger):

    .. math::

        \eta(p) = \eta_0 \left(\eta_\text{final}/\eta_0\right)^{p}

    and the loss prefactors follow :math:`\eta` (DeePMD, :class:`PotentialLoss`).

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
    force : bool
        Start over in ``out`` even when it holds a run (its files are removed first).

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
        force: bool = False,
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
        self.force = bool(force)
        self.rank, self.world_size = rank_and_world()
        self._log = log or print
        #: the run's clock; ``train`` starts it before reading the data
        self.budget: Budget | None = None
        #: write ``config.yaml`` into ``out`` once the run is decided (``train`` does)
        self.write_config = False
        self._decision: RunDecision | None = None
        self._plot_seconds = 0.0

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

    # ---------------------------------------------------------------- schedules
    def learning_rate(self, progress: float) -> float:
        """:math:`\\eta(p) = \\eta_0 (\\eta_f/\\eta_0)^p`."""
        t = self.config.training
        return exponential_decay(t.lr, t.lr_final, progress)

    def prefactors(self, lr: float) -> tuple[float, float, float]:
        """Energy, force and stress prefactors at learning rate ``lr``."""
        t = self.config.training
        return PotentialLoss(t.loss, t.lr, False).prefactors(lr)

    loss_terms = staticmethod(PotentialLoss.terms)

    # ---------------------------------------------------------------- the algorithm
    def fit(
        self,
        train: AtomsDataset,
        valid: AtomsDataset | None = None,
        test: AtomsDataset | None = None,
    ) -> TrainResult:
        """Train on ``train``, validate on ``valid`` (default: ``train``), report ``test``.

        Returns the stored result without training when ``out`` holds this run finished
        (``result.already_complete``).

        Raises
        ------
        InputError
            Bad data or settings, an unusable or mismatching checkpoint, a diverged
            training (:class:`TrainingDiverged`).
        TrainingInterrupted
            SIGTERM / SIGINT: the checkpoint was written; run again to continue.
        """
        budget = self.budget or Budget(self.config.training.max_time)
        device = self._prepare(train)
        run = self.decide()
        if run.complete:
            return self.stored_result(run)
        self._write_config()
        model = self._model_for(train, run.checkpoint, device)
        parts = self._parts(model, train, valid, test, run, device)
        state = self._start_state(parts, run, budget)
        task = PotentialTask(self.config, parts, budget, self.out, self.log, self.callbacks, self)
        loop = self._loop(parts, task, budget)
        self.log(table_header())
        with GracefulStop() as stop:
            loop.stop = stop
            state = loop.run(task, state)
            payload = self._payload(task, state)  # the training weights, before the best
            model = self._best_model(model, task)
            self._refit(model, parts["train_graphs"])
            self.log(
                f"stopped: {state.stop_reason} after {state.epoch} epochs, {state.step} "
                f"steps, {budget.elapsed():.1f} s"
            )
            valid_metrics, test_metrics = self._final_metrics(model, parts, test, task)
            files = self._write_outputs(state.history, valid_metrics, test_metrics)
            if stop.requested:
                self._save_payload(payload, budget, None)
                raise TrainingInterrupted(stop.signum or 15, "the checkpoint is written.")
        final: dict[str, Any] = {
            "stop_reason": state.stop_reason,
            "valid_metrics": plain_metrics(valid_metrics),
            "test_metrics": plain_metrics(test_metrics) if test_metrics else None,
        }
        self._save_payload(payload, budget, final)
        return TrainResult(
            model=model,
            history=state.history,
            valid_metrics=final["valid_metrics"],
            test_metrics=final["test_metrics"],
            stop_reason=state.stop_reason or "epochs",
            out=self.out,
            files=files,
        )

    # ---------------------------------------------------------------- set-up
    def decide(self) -> RunDecision:
        """Continue, start over, or find the run in ``out`` complete (decided once; see
        ``training.resume``)."""
        if self._decision is None:
            self._decision = open_run(
                self.out, self.config, force=self.force, writer=self.rank == 0
            )
            if self._decision.note:
                self.log(self._decision.note)
        return self._decision

    def _write_config(self) -> None:
        if self.write_config and self.out is not None and self.rank == 0:
            atomic_write_text(self.config.to_yaml(), self.out / "config.yaml")

    def _loop(self, parts: dict[str, Any], task: PotentialTask, budget: Budget) -> TrainLoop:
        t = self.config.training
        return TrainLoop(
            parts["optimizer"],
            epochs=t.epoch_limit(),
            params=parts["params"],
            lr_at=self.learning_rate,
            steps_per_epoch=task.steps_per_epoch,
            grad_clip=t.grad_clip,
            ema=parts["ema"],
            budget=budget,
            patience=t.patience,
            valid_every=t.valid_every,
            checkpoint_every_s=t.checkpoint_every_s,
        )

    def _prepare(self, train: AtomsDataset) -> torch.device:
        t = self.config.training
        if len(train) == 0:
            raise InputError("Trainer.fit: the training set is empty; give labelled structures.")
        if t.num_threads:
            torch.set_num_threads(int(t.num_threads))
        device = resolve_device(t.device)
        if self.out is not None and self.rank == 0:
            try:
                self.out.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"out: cannot create the directory {self.out} ({exc}).") from None
            if t.plots:  # matplotlib's first-use costs now, and the time a plot takes
                self._plot_seconds = time_a_plot()
        suspicious_values(self.config, len(train))
        return device

    def build_model(self, train: AtomsDataset) -> Any:
        """A fresh model for ``train``: config.model + type_map from the data + statistics,
        after a size check (:func:`~geodl.atoms.model.check_model_size`) for the largest
        batch of the training set; or, with ``training.init_model``, the trained model to
        fine-tune."""
        if self.config.training.init_model:
            return finetune_start(self.config, train, self.log)
        cfg = dict(self.config.model)
        cfg.setdefault("type_map", train.species)
        missing = sorted(set(train.species) - set(cfg["type_map"]))
        if missing:
            raise InputError(
                f"model.type_map {cfg['type_map']} lacks species {missing} found in "
                f"{train.source}; add them or remove model.type_map to use the data's species."
            )
        try:
            config = model_config_from_dict(cfg)
        except (TypeError, ValueError) as exc:
            raise InputError(f"model: {exc}") from None
        graphs = train.to_graphs(config.type_map, config.r_cut, config.torch_dtype)
        bs = min(self.config.training.batch_size, len(graphs))
        atoms = sorted((int(g.n_atoms) for g in graphs), reverse=True)
        edges = sorted((int(g.edge_index.shape[1]) for g in graphs), reverse=True)
        check_model_size(
            config,
            allow_large=self.config.training.allow_large,
            n_atoms=sum(atoms[:bs]),
            n_edges=sum(edges[:bs]),
        )
        torch.manual_seed(self.config.training.seed)
        model = AtomisticModel(config)
        model.fit_statistics(iter_batches(graphs, 64))
        return model

    def _model_for(self, train: AtomsDataset, ckpt: Any, device: torch.device) -> Any:
        if ckpt is not None:
            where = f"{self.out / CHECKPOINT if self.out else 'checkpoint'}"
            model = model_from_state(ckpt["model_config"], ckpt["model"], where)
        elif self.model is not None:
            model = self.model
        else:
            model = self.build_model(train)
        model.to(device)
        model.train()
        self.model = model
        return model

    def _parts(
        self,
        model: Any,
        train: AtomsDataset,
        valid: AtomsDataset | None,
        test: AtomsDataset | None,
        run: RunDecision,
        device: torch.device,
    ) -> dict[str, Any]:
        """Graphs, optimiser, EMA, loss, shuffling generator, DDP wrapper."""
        t = self.config.training
        dtype = model.energy_shift.dtype
        valid = valid if valid is not None and len(valid) > 0 else None
        train.check_species(model.type_map)
        if valid is not None:
            valid.check_species(model.type_map)
        use_stress = self.config.data.use_stress
        if use_stress == "auto":
            use_stress = bool(train.has_stress.any())
        use_stress = bool(use_stress) and bool(train.has_stress.any())
        params = [p for p in model.parameters() if p.requires_grad]
        net: Any = model
        if self.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            net = DistributedDataParallel(model, find_unused_parameters=True)
        return {
            "model": model,
            "net": net,
            "params": params,
            "optimizer": torch.optim.Adam(params, lr=t.lr),
            "ema": EMA(params, t.ema_decay) if t.ema_decay is not None else None,
            "loss": PotentialLoss(t.loss, t.lr, use_stress),
            "shuffle": torch.Generator().manual_seed(t.seed + 1),
            "train_graphs": train.to_graphs(model.type_map, model.r_cut, dtype),
            "valid_graphs": (valid or train).to_graphs(model.type_map, model.r_cut, dtype),
            "n_test": len(test) if test is not None else 0,
            "plot_seconds": self._plot_seconds,
            "train_source": train.source,
            "device": device,
            "rank": self.rank,
            "world_size": self.world_size,
            "run_id": run.run_id,
        }

    def _start_state(self, parts: dict[str, Any], run: RunDecision, budget: Budget) -> LoopState:
        """A fresh state, or the checkpoint's with optimiser, EMA and RNGs restored."""
        ckpt = run.checkpoint
        if ckpt is None:
            n = len(parts["train_graphs"])
            bs = min(self.config.training.batch_size, n)
            self.log(
                f"training on {n} structures ({parts['train_source']}), validating on "
                f"{len(parts['valid_graphs'])}; {max(1, n // bs)} steps/epoch of {bs} "
                f"structures{', stress on' if parts['loss'].use_stress else ''}"
                f"{f', {self.world_size} processes' if self.world_size > 1 else ''}"
            )
            return LoopState()
        parts["optimizer"].load_state_dict(ckpt["optimizer"])
        if parts["ema"] is not None and ckpt.get("ema") is not None:
            parts["ema"].load_state_dict(ckpt["ema"])
        parts["shuffle"].set_state(ckpt["rng"]["shuffle"])
        set_rng_state(ckpt["rng"])
        state = restore_state(ckpt)
        budget.add(seconds_spent(self.out, ckpt) if self.out else float(ckpt["elapsed"]))
        where = f"in epoch {state.epoch + 1} at batch {state.batch}" if state.batch else ""
        self.log(
            f"resumed from {self.out / CHECKPOINT if self.out else 'checkpoint'} after epoch "
            f"{state.epoch} (step {state.step}){' ' + where if where else ''}"
        )
        return state

    # ---------------------------------------------------------------- the end of a run
    def _payload(self, task: PotentialTask, state: LoopState) -> dict[str, Any] | None:
        if self.out is None or self.rank != 0:
            return None
        return task.checkpoint(state)

    def _save_payload(self, payload: dict[str, Any] | None, budget: Budget, final: Any) -> None:
        if payload is None or self.out is None:
            return
        payload["elapsed"] = float(budget.elapsed())
        payload["final"] = final
        atomic_save(payload, self.out / CHECKPOINT)

    def _best_model(self, model: Any, task: PotentialTask) -> Any:
        if task.best_state is not None:
            model.load_state_dict(task.best_state)
        elif self.out is not None and (self.out / MODEL).is_file():
            model.load_state_dict(load_model(self.out / MODEL).state_dict())
        model.eval()
        return model

    def _refit(self, model: Any, train_graphs: list[Any]) -> None:
        # Given reference energies (model.e0s) are kept as the user set them.
        if not self.config.training.refit_energy_shift or model.config.e0s != "fit":
            return
        delta = refit_energy_shift(model, train_graphs)
        self.log(
            "refitted energy shifts (eV): "
            + ", ".join(f"{s} {d:+.4f}" for s, d in zip(model.type_map, delta, strict=False))
        )
        if self.out is not None and self.rank == 0:
            save_model_atomic(model, self.out / MODEL)

    def _final_metrics(
        self, model: Any, parts: dict[str, Any], test: AtomsDataset | None, task: PotentialTask
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        bs = max(task.batch_size, 8)
        valid_metrics = evaluate(
            model, parts["valid_graphs"], batch_size=bs, return_predictions=True
        )
        test_metrics = None
        if test is not None and len(test) > 0:
            test_metrics = evaluate(model, test, batch_size=bs, return_predictions=True)
        return valid_metrics, test_metrics

    def _write_outputs(
        self, history: list[dict[str, float]], valid: dict[str, Any], test: dict[str, Any] | None
    ) -> dict[str, str]:
        if self.out is None or self.rank != 0:
            return {}
        files = self._files()
        if self.config.training.plots and history:
            title = "test" if test else "validation"
            files.update(write_plots(history, test or valid, title, self.out))
        return files

    def _files(self) -> dict[str, str]:
        return run_files(self.out) if self.out is not None else {}

    def stored_result(self, run: RunDecision) -> TrainResult:
        """The result of the complete run in ``out`` (nothing is trained)."""
        assert self.out is not None and run.checkpoint is not None
        result = stored_result(self.out, run.checkpoint)
        self.log(
            f"the run in {self.out} is complete ({result.stop_reason} after "
            f"{run.checkpoint['epoch']} epochs); nothing to train. --force trains again from "
            "scratch; --set training.resume=true continues it (e.g. with more epochs)."
        )
        return result
