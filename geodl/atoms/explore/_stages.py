"""The stages of one active-learning iteration (used by :mod:`._loop`): the committee's
training, the exploration MD with the pick of frames, and the final model's training.

Each stage skips its work when its result file is already there (resume after a kill)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from geodl.atoms.data import AtomsDataset
from geodl.atoms.explore._committee import Committee, CommitteeCalculator
from geodl.atoms.explore._dynamics import default_timestep, explore_md, swap_species
from geodl.atoms.explore._files import read_frames_file, write_frames, write_json
from geodl.atoms.explore._select import (
    CANDIDATE,
    FAILED,
    candidate_pool,
    classify,
    farthest_point_sampling,
    structure_fingerprints,
    trust_window,
)
from geodl.atoms.model import load_model, save_model
from geodl.atoms.train import TrainConfig, Trainer, evaluate

__all__ = ["best_member", "explore_stage", "train_committee", "train_final"]


def _member_config(run: Any, out: Path, epochs: int, seed: int, budget: float) -> TrainConfig:
    train = run.cfg.train
    t = train.training
    max_time = budget if math.isfinite(budget) else None
    if t.max_time is not None:
        max_time = t.max_time if max_time is None else min(max_time, t.max_time)
    training = dataclasses.replace(
        t, epochs=epochs, seed=seed, max_time=max_time, progress=False, plots=False
    )
    return dataclasses.replace(train, training=training, out=str(out))


def _file_log(path: Path) -> Any:
    def log(line: str) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    return log


def _fit(
    run: Any,
    out: Path,
    train: AtomsDataset,
    valid: AtomsDataset,
    start: Any,
    epochs: int,
    seed: int,
    budget: float,
) -> tuple[Any, dict[str, Any]]:
    """Train one model (resuming its checkpoint), save ``out/model.pt`` and ``done.json``."""
    done = out / "done.json"
    if done.is_file():
        return load_model(out / "model.pt"), json.loads(done.read_text())
    out.mkdir(parents=True, exist_ok=True)
    # the budget is fixed when the model starts: a resumed run keeps its config (and its
    # checkpoint), whatever time the restart leaves
    planned = out / "budget.json"
    if planned.is_file():
        budget = float(json.loads(planned.read_text())["max_time"])
    else:
        write_json({"max_time": budget}, planned)
    cfg = _member_config(run, out, epochs, seed, budget)
    t0 = time.perf_counter()
    trainer = Trainer(
        cfg,
        out=out,
        model=start,
        log=_file_log(out / "train.log"),
        callbacks=[lambda trainer, row: run.clock.save()],  # a kill loses at most an epoch
    )
    result = trainer.fit(train, valid)
    tmp = out / "model.pt.tmp"
    save_model(result.model, tmp)
    os.replace(tmp, out / "model.pt")
    info = {
        "valid_forces_rmse": result.valid_metrics["forces_rmse"],
        "valid_energy_rmse_per_atom": result.valid_metrics["energy_rmse_per_atom"],
        "epochs": result.history[-1]["epoch"] if result.history else 0,
        "stop_reason": result.stop_reason,
        "warm_started": start is not None,
        "train_time": time.perf_counter() - t0,
    }
    write_json(info, done)
    return result.model, info


def _warm_start(previous: Path | None, k: int, train: AtomsDataset) -> Any:
    """Member ``k`` of the previous iteration, when it knows every species of ``train``."""
    if previous is None or not (previous / f"member_{k}" / "model.pt").is_file():
        return None
    model = load_model(previous / f"member_{k}" / "model.pt")
    return model if set(train.species) <= set(model.type_map) else None


def train_committee(
    run: Any,
    d: Path,
    train: AtomsDataset,
    valid: AtomsDataset,
    previous: Path | None,
    fixed: AtomsDataset | None = None,
) -> tuple[Committee | None, dict[str, Any]]:
    """Train (or load) the ``explore.committee`` members of one iteration; ``fixed`` (the
    initial set's validation frames, default ``valid``) gives
    ``committee_fixed_valid_forces_rmse``, the error the convergence rule compares.

    Member ``k`` uses seed ``training.seed + k``; it starts from member ``k`` of the
    previous iteration (``explore.warm_epochs``) or from scratch (``explore.epochs``), and
    gets an equal share of the time left until the iteration's training deadline.
    Returns ``(None, {})`` when the loop's time budget ends first.
    """
    ex = run.ex
    models, infos = [], []
    warm = [_warm_start(previous, k, train) for k in range(ex.committee)]
    if any(w is None for w in warm):  # one type map for all members
        warm = [None] * ex.committee
    for k in range(ex.committee):
        if run.loop_time_left() <= 0 and not (d / f"member_{k}" / "done.json").is_file():
            return None, {}
        epochs = ex.warm_epochs if warm[k] is not None else ex.epochs
        seed = run.cfg.train.training.seed + k
        budget = max((run.train_deadline - run.clock.elapsed()) / (ex.committee - k), 1.0)
        model, info = _fit(run, d / f"member_{k}", train, valid, warm[k], epochs, seed, budget)
        run.log(
            f"  member {k}: valid F RMSE {1e3 * info['valid_forces_rmse']:.1f} meV/Å "
            f"({info['epochs']:.0f} epochs, {'warm' if info['warm_started'] else 'fresh'}, "
            f"{info['train_time']:.0f} s)"
        )
        models.append(model)
        infos.append(info)
    rmse = [i["valid_forces_rmse"] for i in infos]
    fixed_rmse = [evaluate(m, fixed if fixed is not None else valid)["forces_rmse"] for m in models]
    metrics = {
        "committee_valid_forces_rmse": float(np.mean(rmse)),
        "committee_fixed_valid_forces_rmse": float(np.mean(fixed_rmse)),
        "committee_valid_energy_rmse_per_atom": float(
            np.mean([i["valid_energy_rmse_per_atom"] for i in infos])
        ),
        "members_valid_forces_rmse": rmse,
        "committee_cut_short": sum(i["stop_reason"] == "max_time" for i in infos),
        "warm_started": bool(infos[0]["warm_started"]),
        "train_time": float(sum(i["train_time"] for i in infos)),
    }
    return Committee(models), metrics


def _start_index(n_frames: int, n_init: int, starts: str, k: int, seed: int, rng: Any) -> int:
    """Index of the start of trajectory number ``k`` of the run (``explore.starts``): the
    initial frames (the first ``n_init`` of the ``n_frames`` labelled) in a shuffled
    order, a new one each round, or a random labelled frame.

    Examples
    --------
    >>> picks = [_start_index(5, 3, "initial", k, 0, None) for k in range(6)]
    >>> sorted(picks[:3]), sorted(picks[3:])
    ([0, 1, 2], [0, 1, 2])
    """
    if starts == "labelled":
        return int(rng.integers(n_frames))
    n = max(1, min(n_init, n_frames))
    rounds, position = divmod(k, n)
    # 7919 tags this stream of the seed (the swaps use 104729): no draw is shared
    return int(np.random.default_rng([seed, 7919, rounds]).permutation(n)[position])


def _trajectories(
    run: Any,
    calc: CommitteeCalculator,
    frames: Sequence[Atoms],
    seed: list[int],
    scale: float,
    abort: float,
) -> tuple[list[Atoms], np.ndarray, list[str], list[float]]:
    """Run ``explore.trajectories`` MD runs at ``scale`` x the temperatures and time step.

    Trajectory ``t`` of iteration ``it`` (``seed[1]``) takes temperature (and pressure)
    number ``it * trajectories + t`` of the cycle, so an iteration whose time ends after a
    few trajectories does not explore the first temperatures only, iteration after
    iteration; it starts from frame number ``it * trajectories + t`` of the start cycle
    (``explore.starts``)."""
    ex = run.ex
    first = int(seed[1]) * ex.trajectories
    rng = np.random.default_rng(seed)
    sampled: list[Atoms] = []
    devs: list[float] = []
    blowups: list[str] = []
    temps: list[float] = []
    for t in range(ex.trajectories):
        if t > 0 and run.clock.elapsed() > run.deadline:
            break  # the iteration's time is up: explore with what has run
        k = first + t
        i_start = _start_index(len(frames), run.n_init, ex.starts, k, ex.seed, rng)
        start = frames[i_start]
        if ex.swaps > 0:
            start = swap_species(start, ex.swaps, np.random.default_rng([ex.seed, 104729, k]))
        temp = ex.temperatures[k % len(ex.temperatures)] * scale
        pressure = None
        if ex.pressures and bool(np.all(start.pbc)):
            pressure = ex.pressures[(k // len(ex.temperatures)) % len(ex.pressures)]
        dt = (ex.timestep_fs or default_timestep(start)) * scale
        traj = explore_md(
            start,
            calc,
            temperature_K=temp,
            steps=ex.md_steps,
            timestep_fs=dt,
            sample_every=ex.sample_every,
            pressure_GPa=pressure,
            friction_per_fs=ex.friction_per_fs,
            seed=int(rng.integers(2**31)),
            abort_deviation=abort,
            min_distance_ratio=ex.min_distance_ratio,
        )
        for frame, dev in zip(traj.frames, traj.deviations, strict=True):
            frame.info.update(
                temperature_K=temp, deviation=float(dev), trajectory=t, start_frame=i_start
            )
            if pressure is not None:
                frame.info["pressure_GPa"] = pressure
        sampled += traj.frames
        devs += traj.deviations.tolist()
        if traj.blowup is not None:  # a "deviation" stop kept its frame: counted there
            blowups.append(traj.blowup)
        temps.append(temp)
    return sampled, np.asarray(devs, dtype=float), blowups, temps


def _deviation_stats(dev: np.ndarray) -> dict[str, float]:
    if dev.size == 0:
        return {"mean": float("nan"), "median": float("nan"), "p90": float("nan"), "max": 0.0}
    return {
        "mean": float(dev.mean()),
        "median": float(np.median(dev)),
        "p90": float(np.quantile(dev, 0.9)),
        "max": float(dev.max()),
    }


def _pool(
    dev: np.ndarray, classes: np.ndarray, rate: float, budget: int, groups: np.ndarray | None
) -> tuple[Any, bool]:
    """The frames the pick chooses from, and whether they are the failed-frame fallback.

    At least twice the frames the iteration may label, so the pick has a choice and an
    iteration whose window is empty still labels its share (DP-GEN2's ``numb_candi_f``);
    with ``groups`` (``explore.stratify``: the trajectory of each frame) every group's
    own pool has its share of that, so cold trajectories are not crowded out by hot
    ones; when nothing is in the window even at low temperature, the least uncertain
    half of the failed frames."""
    if groups is None:
        pool = candidate_pool(dev, classes, rate, minimum=2 * budget)
    else:
        parts = [np.flatnonzero(groups == g) for g in np.unique(groups)]
        share = int(math.ceil(2 * budget / max(len(parts), 1)))
        pool = np.sort(
            np.concatenate(
                [p[candidate_pool(dev[p], classes[p], rate, minimum=share)] for p in parts]
                or [np.zeros(0, dtype=int)]
            )
        )
    if pool.size == 0 and budget > 0 and bool((classes == FAILED).any()):
        failed = np.flatnonzero(classes == FAILED)
        failed = failed[np.isfinite(dev[failed])]
        pool = failed[np.argsort(dev[failed])][: max(1, failed.size // 2)]
        return pool, pool.size > 0
    return pool, False


def explore_stage(
    run: Any,
    d: Path,
    it: int,
    committee: Committee,
    frames: list[Atoms],
    train: AtomsDataset,
    valid: AtomsDataset,
    budget: int,
) -> tuple[dict[str, Any], list[Atoms]]:
    """Trust window, exploration MD (with restarts), classification and the pick."""
    if (d / "explore.json").is_file():
        return json.loads((d / "explore.json").read_text()), read_frames_file(d / "picked.extxyz")
    ex = run.ex
    t0 = time.perf_counter()
    labelled_dev = np.concatenate([committee.max_deviation(train), committee.max_deviation(valid)])
    lo, hi = trust_window(
        labelled_dev,
        quantile=ex.trust_quantile,
        ratio=ex.trust_ratio,
        lo=ex.trust_lo,
        hi=ex.trust_hi,
    )
    calc = CommitteeCalculator(committee)
    for attempt in range(ex.retries + 1):
        scale = 0.5**attempt
        sampled, dev, blowups, temps = _trajectories(
            run, calc, frames, [ex.seed, it, attempt], scale, ex.abort_ratio * hi
        )
        classes = classify(dev, lo, hi)
        lost = sum(b != "deviation" for b in blowups)  # blow-ups without a usable frame
        n_total = len(dev) + lost
        n_cand = int((classes == CANDIDATE).sum())
        n_fail = int((classes == FAILED).sum()) + lost
        if n_cand > 0 or n_fail <= 0.5 * n_total or attempt == ex.retries:
            break
        if run.clock.elapsed() > run.deadline:
            break  # no time left for a colder restart
        run.log(
            f"  iteration {it}: no candidate, {n_fail}/{n_total} frames failed; restarting the "
            "MD at half the temperatures and time step"
        )
    groups = np.array([a.info["trajectory"] for a in sampled]) if ex.stratify else None
    pool, fallback = _pool(dev, classes, ex.candidate_rate, budget, groups)
    picked: list[Atoms] = []
    if pool.size and budget > 0:
        fp = structure_fingerprints(
            [sampled[i] for i in pool] + frames, committee.type_map, committee.r_cut
        )
        order = farthest_point_sampling(
            fp[: pool.size],
            budget,
            reference=fp[pool.size :],
            groups=None if groups is None else groups[pool],
        )
        picked = [sampled[int(pool[j])] for j in order]
    counts = {k: blowups.count(k) for k in sorted(set(blowups))}
    stats = {
        "trust_lo": lo,
        "trust_hi": hi,
        "pool_lo": float(dev[pool].min()) if pool.size else None,
        "n_pool": int(pool.size),
        "labelled_deviation": _deviation_stats(labelled_dev),
        "n_explored": n_total,
        "accurate": float((classes == 0).sum() / max(n_total, 1)),
        "candidate": float(n_cand / max(n_total, 1)),
        "failed": float(n_fail / max(n_total, 1)),
        "max_deviation": _deviation_stats(dev),
        "md_blowups": counts,
        "md_retries": attempt,
        "temperatures": sorted(set(temps)),
        "fallback_pick": fallback,
        "n_picked": len(picked),
        "md_time": time.perf_counter() - t0,
    }
    write_frames(picked, d / "picked.extxyz")
    write_json(stats, d / "explore.json")
    return stats, picked


def best_member(d: Path, committee: int) -> Path | None:
    """``model.pt`` of the member of iteration directory ``d`` with the lowest validation
    force RMSE (all members share one validation set); ``None`` when none finished.

    Examples
    --------
    >>> best_member(Path("no-such-iteration"), 4) is None
    True
    """
    best: tuple[float, Path] | None = None
    for k in range(committee):
        done, model = d / f"member_{k}" / "done.json", d / f"member_{k}" / "model.pt"
        if done.is_file() and model.is_file():
            rmse = float(json.loads(done.read_text())["valid_forces_rmse"])
            if best is None or rmse < best[0]:
                best = (rmse, model)
    return None if best is None else best[1]


def train_final(
    run: Any, out: Path, train: AtomsDataset, valid: AtomsDataset, start: Any
) -> tuple[Any, dict[str, Any]]:
    """The final model on every label: ``explore.final_epochs`` from the last committee's
    best member (lowest validation force RMSE), within the time left (that member as it is
    when none is left)."""
    left = run.time_left()
    if start is not None and set(train.species) - set(start.type_map):
        start = None
    if left <= 0 and start is not None and not (out / "checkpoint.pt").is_file():
        m = evaluate(start, valid)
        return start, {
            "valid_forces_rmse": m["forces_rmse"],
            "valid_energy_rmse_per_atom": m["energy_rmse_per_atom"],
            "epochs": 0,
            "stop_reason": "no time left",
            "warm_started": True,
            "train_time": 0.0,
        }
    seed = run.cfg.train.training.seed
    return _fit(run, out, train, valid, start, run.ex.final_epochs, seed, max(left, 1.0))
