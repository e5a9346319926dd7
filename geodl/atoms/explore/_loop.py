"""The active-learning loop of ``geodl explore``: train a committee, explore with MD,
pick the frames where the members disagree, label them, repeat until done.

Every stage writes its result atomically under ``DIR``; a killed run (``kill -9``)
restarts at the first stage whose result is missing::

    DIR/config.yaml            the run's configuration (a resume must match it)
    DIR/init.extxyz            the initial frames with reference labels
    DIR/iter_000/member_k/     committee member k (trainer output; resumes by checkpoint)
    DIR/iter_000/explore.json  trust window, MD statistics, picked frames
    DIR/iter_000/picked.extxyz the frames picked for labelling
    DIR/iter_000/labels.extxyz their reference labels (+ .failures.json)
    DIR/iter_000/record.json   the iteration's row of the summary (its end)
    DIR/stop.json              why the loop stopped
    DIR/final/                 the final model's training
    DIR/model.pt, DIR/dataset.extxyz, DIR/summary.json

Convergence (:func:`converged`): the loop stops when the last ``explore.patience``
iterations, together, improved neither the candidate fraction nor the committee's
force RMSE on the fixed validation frames (those of the initial set) by more than
``explore.tolerance`` (relative to the best before them), their committees having been
trained to their epochs (not stopped by the clock).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from geodl.atoms.data import AtomsDataset, read_structures
from geodl.atoms.explore._config import ExploreRunConfig
from geodl.atoms.explore._files import read_frames_file, write_frames, write_json
from geodl.atoms.explore._label import input_frames, label_structures
from geodl.atoms.explore._stages import best_member, explore_stage, train_committee, train_final
from geodl.atoms.model import DEFAULT_MODEL_TYPE, load_model, save_model
from geodl.errors import InputError

__all__ = ["ExploreResult", "converged", "explore", "TRAIN_SHARE"]

#: share of an iteration's time for the committee's training (the rest: MD, labels)
TRAIN_SHARE = 0.7


@dataclass
class ExploreResult:
    """What :func:`explore` returns: the output directory, its files and the summary."""

    out: Path
    model: Path
    dataset: Path
    summary: dict[str, Any]


def converged(history: Sequence[dict[str, Any]], patience: int, tolerance: float) -> bool:
    r"""The loop's convergence criterion on the per-iteration records.

    The last :math:`k` = ``patience`` iterations *improve* when, together, they beat the
    best value before them, of the candidate fraction :math:`c` or of the committee's
    force RMSE :math:`v` on the fixed validation frames (the initial set's, the same at
    every iteration: errors on the growing validation set are not comparable, since the
    frames each iteration adds are the hard ones), by more than :math:`\tau` =
    ``tolerance``:

    .. math::

        \min_{j > n-k} c_j < (1-\tau)\min_{j \le n-k} c_j \quad\text{or}\quad
        \min_{j > n-k} v_j < (1-\tau)\min_{j \le n-k} v_j .

    Converged when they did not — and only if every committee of the window was trained
    to its epochs: a member stopped by its time share (``committee_cut_short`` > 0) says
    nothing about whether more data would help, only that it had too little time.
    The window is judged as a whole: warm-started committees
    improve a little at each iteration (8 % and 9 % in a row is 16 %: still learning).
    An iteration where
    every explored frame was accurate does not end the run by itself: a committee that is
    still poorly trained disagrees as much on its own data as anywhere (a wide window),
    and its warm-started successors keep training until the validation error settles.

    Examples
    --------
    >>> rows = [{"candidate": c, "failed": 0.1, "committee_fixed_valid_forces_rmse": v}
    ...         for c, v in [(0.5, 0.2), (0.3, 0.1), (0.29, 0.098), (0.3, 0.099)]]
    >>> converged(rows[:2], 2, 0.1), converged(rows, 2, 0.1)
    (False, True)
    >>> rows[-1]["committee_cut_short"] = 2  # two members stopped by the clock
    >>> converged(rows, 2, 0.1)
    False
    """
    if len(history) <= patience:
        return False
    before, window = history[: len(history) - patience], history[len(history) - patience :]
    if any(r.get("committee_cut_short", 0) for r in window):
        return False
    for key in ("candidate", "committee_fixed_valid_forces_rmse"):
        if min(r[key] for r in window) < (1 - tolerance) * min(r[key] for r in before):
            return False
    return True


class _Clock:
    """Wall time of the run across restarts (saved in ``DIR/state.json``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        saved = json.loads(path.read_text())["elapsed"] if path.is_file() else 0.0
        self.start = time.perf_counter() - float(saved)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def save(self) -> None:
        write_json({"elapsed": self.elapsed()}, self.path)


# ------------------------------------------------------------------------------ the run
class _Run:
    def __init__(
        self,
        config: ExploreRunConfig,
        reference: str,
        out: Path,
        max_time: float | None,
        options: dict[str, Any],
        log: Callable[[str], None],
    ) -> None:
        self.cfg = config
        self.ex = config.explore
        self.reference = reference
        self.out = out
        self.max_time = max_time
        self.options = options
        self.log = log
        self.clock = _Clock(out / "state.json")
        self.train_deadline = self.deadline = float("inf")
        self._n_init: int | None = None

    # ---------------------------------------------------------------- time budget
    def loop_time_left(self) -> float:
        if self.max_time is None:
            return float("inf")
        return self.max_time * (1.0 - self.ex.final_share) - self.clock.elapsed()

    def time_left(self) -> float:
        if self.max_time is None:
            return float("inf")
        return self.max_time - self.clock.elapsed()

    def plan_iteration(self, it: int, labelled: int) -> None:
        """Set the deadlines of iteration ``it``: the loop's time left shared over the
        iterations still expected (labels left / ``per_iteration``, at most
        ``max_iterations``); its committee trains within the first :data:`TRAIN_SHARE` of
        it, and no new MD trajectory starts after its end."""
        left = self.loop_time_left()
        labels_left = max(self.ex.max_labels - labelled, 1)
        expected = min(self.ex.max_iterations - it, math.ceil(labels_left / self.ex.per_iteration))
        share = left / max(expected, 1)
        now = self.clock.elapsed()
        self.train_deadline = now + TRAIN_SHARE * share
        self.deadline = now + share

    # ---------------------------------------------------------------- data
    def iteration_dir(self, it: int) -> Path:
        return self.out / f"iter_{it:03d}"

    def completed_iterations(self) -> list[dict[str, Any]]:
        rows, it = [], 0
        while (self.iteration_dir(it) / "record.json").is_file():
            rows.append(json.loads((self.iteration_dir(it) / "record.json").read_text()))
            it += 1
        return rows

    def labelled_frames(self, n_iterations: int) -> list[Atoms]:
        frames = read_frames_file(self.out / "init.extxyz")
        for it in range(n_iterations):
            frames += read_frames_file(self.iteration_dir(it) / "labels.extxyz")
        return frames

    def _valid_mask(self, n: int) -> np.ndarray:
        u = np.array([np.random.default_rng([self.ex.seed, j]).random() for j in range(n)])
        valid = u < self.ex.valid_fraction
        if not valid.any():
            valid[int(np.argmin(u))] = True
        if valid.all():
            valid[int(np.argmax(u))] = False
        return valid

    def split(self, frames: list[Atoms]) -> tuple[AtomsDataset, AtomsDataset, AtomsDataset]:
        """Train / valid sets (each frame keeps its role: a hash of its index) and the
        fixed validation set: the valid frames of the initial set, the same at every
        iteration, so the convergence rule compares errors measured on one set (the
        growing validation set mixes in the new, harder frames)."""
        full = read_structures(frames)
        valid = self._valid_mask(len(full))
        idx = np.arange(len(full))
        fixed = valid.copy()
        fixed[self.n_init :] = False
        if not fixed.any():  # fewer initial frames than a validation split needs
            fixed[: min(self.n_init, len(full))] = True
        return full.subset(idx[~valid]), full.subset(idx[valid]), full.subset(idx[fixed])

    @property
    def n_init(self) -> int:
        """Number of labelled initial frames (``DIR/init.extxyz``)."""
        if self._n_init is None:
            self._n_init = len(read_frames_file(self.out / "init.extxyz"))
        return self._n_init

    # ---------------------------------------------------------------- start
    def prepare(self, data: Any) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        saved = self.out / "config.yaml"
        settings = {"reference": self.reference, "options": self.options, **self.cfg.to_dict()}
        settings["training"] = {
            k: v for k, v in settings["training"].items() if k not in ("max_time", "progress")
        }
        text = json.dumps(settings, sort_keys=True, default=str)
        if saved.is_file():
            import yaml

            old = json.dumps(yaml.safe_load(saved.read_text()), sort_keys=True, default=str)
            if old != text:
                raise InputError(
                    f"{self.out} holds a run with other settings (see {saved}); resume it "
                    "with the same --reference and --set options, or choose another --out."
                )
        else:
            import yaml

            tmp = saved.with_name("config.yaml.tmp")
            tmp.write_text(yaml.safe_dump(json.loads(text), sort_keys=False))
            os.replace(tmp, saved)
        if not (self.out / "init.extxyz").is_file() or (self.out / "init.extxyz.journal").exists():
            self._label_initial(data)

    def _label_initial(self, data: Any) -> None:
        frames = input_frames(data)
        self.log(f"labelling the {len(frames)} initial frames with {self.reference}")
        report = label_structures(
            frames,
            self.reference,
            self.out / "init.extxyz",
            workers=self.ex.workers,
            options=self.options,
            progress=False,
            log=self.log,
        )
        if report.n_labelled < 2:
            raise InputError(
                f"--data: only {report.n_labelled} initial frame(s) could be labelled with "
                f"{self.reference!r} (see {report.failures_path}); give at least two."
            )

    # ---------------------------------------------------------------- one iteration
    def iteration(self, it: int, history: list[dict[str, Any]]) -> dict[str, Any] | None:
        """Run iteration ``it``; ``None`` when the time budget ran out first."""
        t0 = time.perf_counter()
        d = self.iteration_dir(it)
        d.mkdir(parents=True, exist_ok=True)
        frames = self.labelled_frames(it)
        self.plan_iteration(it, len(frames))
        train, valid, fixed = self.split(frames)
        previous = self.iteration_dir(it - 1) if it > 0 else None
        committee, metrics = train_committee(self, d, train, valid, previous, fixed)
        if committee is None:
            return None
        self.clock.save()
        if self.loop_time_left() <= 0:
            return None
        budget = max(0, min(self.ex.per_iteration, self.ex.max_labels - len(frames)))
        stats, picked = explore_stage(self, d, it, committee, frames, train, valid, budget)
        self.clock.save()
        labels_added, label_failures = 0, 0
        if picked:
            report = label_structures(
                picked,
                self.reference,
                d / "labels.extxyz",
                workers=self.ex.workers,
                options=self.options,
                progress=False,
                log=self.log,
            )
            labels_added, label_failures = report.n_labelled, report.n_failed
        else:
            write_frames([], d / "labels.extxyz")
        record = {
            "iteration": it,
            "n_train": len(train),
            "n_valid": len(valid),
            **metrics,
            **stats,
            "labels_added": labels_added,
            "label_failures": label_failures,
            "labels_used": len(frames) + labels_added,
            "wall_time": time.perf_counter() - t0,
        }
        self.clock.save()
        record["elapsed"] = self.clock.elapsed()
        write_json(record, d / "record.json")
        return record

    # ---------------------------------------------------------------- the loop
    def loop(self) -> tuple[str, bool]:
        stop_file = self.out / "stop.json"
        if stop_file.is_file():
            stop = json.loads(stop_file.read_text())
            return stop["stop_reason"], stop["converged"]
        history = self.completed_iterations()
        reason, done = "", False
        while not reason:
            if history and converged(history, self.ex.patience, self.ex.tolerance):
                reason, done = "converged", True
            elif history and history[-1]["labels_used"] >= self.ex.max_labels:
                reason = "max_labels"
            elif len(history) >= self.ex.max_iterations:
                reason = "max_iterations"
            elif self.loop_time_left() <= 0:
                reason = "max_time"
            else:
                record = self.iteration(len(history), history)
                if record is None:
                    reason = "max_time"
                    break
                history.append(record)
                self.write_summary(history, None, False)
                self.log(_progress_line(record))
        write_frames(self.labelled_frames(len(history)), self.out / "dataset.extxyz")
        write_json({"stop_reason": reason, "converged": done}, stop_file)
        return reason, done

    # ---------------------------------------------------------------- final model
    def final(self) -> dict[str, Any]:
        history = self.completed_iterations()
        frames = self.labelled_frames(len(history))
        train, valid, _ = self.split(frames)
        last = self.iteration_dir(len(history) - 1) if history else self.iteration_dir(0)
        start = best_member(last, self.ex.committee)
        start_model = load_model(start) if start is not None else None
        model, metrics = train_final(self, self.out / "final", train, valid, start_model)
        metrics["started_from"] = None if start is None else start.parent.name
        tmp = self.out / "model.pt.tmp"
        save_model(model, tmp)
        os.replace(tmp, self.out / "model.pt")
        return metrics

    def write_summary(
        self,
        history: list[dict[str, Any]],
        stop: tuple[str, bool] | None,
        finished: bool,
        final: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        labels = history[-1]["labels_used"] if history else len(self.labelled_frames(0))
        summary = {
            "labels_used": labels,
            "iterations": len(history),
            "converged": bool(stop[1]) if stop else False,
            "stop_reason": stop[0] if stop else None,
            "finished": finished,
            "reference": self.reference,
            "model_type": self.cfg.train.model.get("type", DEFAULT_MODEL_TYPE),
            "elapsed": self.clock.elapsed(),
            "max_time": self.max_time,
            "final": final,
            "per_iteration": history,
            "files": {"model": "model.pt", "dataset": "dataset.extxyz"},
        }
        write_json(summary, self.out / "summary.json")
        return summary


def _progress_line(r: dict[str, Any]) -> str:
    return (
        f"iteration {r['iteration']}: valid F RMSE {1e3 * r['committee_valid_forces_rmse']:.1f}"
        f" meV/Å (initial frames {1e3 * r['committee_fixed_valid_forces_rmse']:.1f}), window "
        f"[{r['trust_lo']:.3f}, {r['trust_hi']:.3f}] eV/Å, accurate {r['accurate']:.2f} "
        f"candidate {r['candidate']:.2f} failed {r['failed']:.2f}, pool {r['n_pool']}, "
        f"+{r['labels_added']} labels ({r['labels_used']} used), {r['wall_time']:.0f} s"
    )


def explore(
    data: str | os.PathLike[str] | Sequence[Atoms],
    reference: str,
    out: str | os.PathLike[str],
    *,
    config: ExploreRunConfig | None = None,
    max_time: float | None = None,
    options: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> ExploreResult:
    """Active learning from ``data`` with ``reference`` labels (see the module docstring).

    Parameters
    ----------
    data : path or list of ase.Atoms
        Initial frames (labelled with ``reference`` first).
    reference : str
        A reference name (:func:`geodl.atoms.ase.reference_names`).
    out : path
        Output directory; a run there is resumed.
    config : ExploreRunConfig
        Committee training configuration and ``explore`` settings
        (:func:`load_explore_config`).
    max_time : float or None
        Wall-clock budget in seconds of the whole run, restarts included.
    options : dict
        Options of the reference calculator.
    log : callable
        Where progress lines go (``print``).

    Returns
    -------
    ExploreResult

    Examples
    --------
    >>> import tempfile
    >>> from ase import Atoms
    >>> from geodl.atoms.explore import load_explore_config
    >>> frames = [Atoms("Ar3", positions=[[0, 0, 0], [3.8, 0, 0], [0, 3.7 + 0.1 * k, 0]])
    ...           for k in range(4)]
    >>> config = load_explore_config(overrides=[
    ...     "model.r_cut=5.0", "model.embed_widths=[4]", "model.axis_neurons=2",
    ...     "model.fitting_widths=[8]", "explore.committee=2", "explore.epochs=2",
    ...     "explore.final_epochs=1", "explore.trajectories=1", "explore.md_steps=10",
    ...     "explore.sample_every=5", "explore.max_iterations=1", "explore.timestep_fs=5",
    ...     "explore.temperatures=[50]"])
    >>> result = explore(frames, "lj", tempfile.mkdtemp(), config=config,
    ...                  log=lambda line: None)
    >>> result.summary["iterations"], result.summary["labels_used"] >= 4, result.model.is_file()
    (1, True, True)
    """
    from geodl.atoms.ase import check_reference

    log = log or print
    config = config or ExploreRunConfig()
    options = dict(options or {})
    if max_time is not None and max_time <= 0:
        raise InputError(f"--max-time must be a positive number of seconds, got {max_time}.")
    reference = check_reference(reference, options)
    out = Path(out)
    run = _Run(config, reference, out, max_time, options, log)
    run.prepare(data)
    summary_path = out / "summary.json"
    if (out / "model.pt").is_file() and summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        if summary.get("finished"):
            log(f"{out} holds a finished run ({summary['stop_reason']}); nothing to do.")
            return ExploreResult(out, out / "model.pt", out / "dataset.extxyz", summary)
    stop = run.loop()
    run.clock.save()
    log(f"loop stopped: {stop[0]}; training the final model")
    final = run.final()
    run.clock.save()
    summary = run.write_summary(run.completed_iterations(), stop, True, final)
    return ExploreResult(out, out / "model.pt", out / "dataset.extxyz", summary)
