"""``geodl bench active-learning``: does ``geodl explore`` reach, with a few hundred labels,
the accuracy of a model trained on many random frames for the same time?

Systems (``--set system=...``):

* ``cuau`` (default) — Cu/Au alloys with EMT as the reference. Start: 20 random frames
  (bulk, vacancy, slab; one frame from each of 20 Langevin runs at 300-1300 K, seed 11).
  Test: 300 held-out frames from MD at 300, 550, 800, 1050 and 1300 K (seed 12). Baseline:
  the same model trained for the same wall time as the whole explore run on 1000 random
  frames from those temperatures (seed 13). Budget: ``max_time`` 1800 s, ``max_labels``
  300. MD: 120-step trajectories from the initial frames with half the atoms' species
  shuffled (``swaps`` 0.5: new orderings), a frame every 4 steps, ``candidate_rate`` 0.5
  (a committee of four runs MD at ~0.05 s per step on one core).
* ``ethanol-xtb`` — ethanol with GFN2-xTB. Start: 20 frames of MMFF94 MD at 300 K. Test:
  the bundled ``ethanol-xtb`` set (GFN2-xTB MD at 300, 600, 1000 K). Baseline: 500
  frames of GFN2-xTB MD at the same temperatures (seed 13). Budget: 900 s, 200 labels.

Reported: labels, iterations, stop reason, test energy/force RMSE of the final model and
the baseline, their ratio (target <= 1.2), the per-iteration curve (member 0's test error,
the committee's fractions; ``plot=PATH`` draws it) and the conditions. Data are cached
under ``out`` (default ``bench-active-learning``).
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: model shared by the committee, the final model and the baseline (geodl bench potential's)
_MODEL = {
    "r_cut": 5.0,
    "r_smooth": 0.5,
    "embed_widths": [16, 32, 64],
    "axis_neurons": 8,
    "fitting_widths": [128, 128, 128],
}
_TEMPERATURES = [300.0, 550.0, 800.0, 1050.0, 1300.0]

SYSTEMS: dict[str, dict[str, Any]] = {
    "cuau": {
        "reference": "emt",
        "max_time": 1800.0,
        "max_labels": 300,
        "model": dict(_MODEL),
        "explore": {
            "temperatures": _TEMPERATURES,
            "pressures": [0.0],
            "trajectories": 8,
            "md_steps": 120,
            "sample_every": 4,
            "candidate_rate": 0.5,
            "swaps": 0.5,
            "per_iteration": 40,
            "epochs": 150,
            "warm_epochs": 20,
            "final_epochs": 100000,
            "final_share": 0.35,
        },
    },
    "ethanol-xtb": {
        "reference": "gfn2-xtb",
        "max_time": 900.0,
        "max_labels": 200,
        "model": {**_MODEL, "r_cut": 6.0},
        "explore": {
            "temperatures": [300.0, 600.0, 1000.0],
            "trajectories": 6,
            "md_steps": 400,
            "sample_every": 20,
            "per_iteration": 30,
            "epochs": 100000,  # members train for their share of the time
            "warm_epochs": 100000,
            "final_epochs": 100000,
            "final_share": 0.35,
        },
    },
}

_QUICK: dict[str, dict[str, Any]] = {
    "model": {"r_cut": 4.0, "embed_widths": [4, 8], "axis_neurons": 2, "fitting_widths": [12]},
    "explore": {
        "committee": 2,
        "epochs": 2,
        "warm_epochs": 1,
        "final_epochs": 2,
        "trajectories": 1,
        "md_steps": 10,
        "sample_every": 5,
        "per_iteration": 2,
        "max_iterations": 1,
    },
}


def _cached(path: Path, make: Any) -> list[Any]:
    import ase.io

    if not path.is_file():
        frames = make()
        tmp = path.with_name(path.name + ".tmp")
        ase.io.write(str(tmp), frames, format="extxyz")
        os.replace(tmp, path)
    return list(ase.io.read(str(path), index=":"))


def _data(system: str, cache: Path, quick: bool) -> tuple[list, list, list, Path]:
    """(initial frames, held-out test frames, baseline training frames, their file)."""
    from geodl.atoms.ase import make_cuau_emt, make_molecule_mmff94, make_molecule_xtb
    from geodl.atoms.data import bundled_dataset

    cache.mkdir(parents=True, exist_ok=True)
    n_init, n_test, n_base = (4, 6, 8) if quick else (20, 300, 1000 if system == "cuau" else 500)
    tag = "quick-" if quick else ""
    if system == "cuau":
        init = _cached(
            cache / f"{tag}cuau-init.extxyz",
            lambda: make_cuau_emt(n_init, seed=11, temperatures=_TEMPERATURES, frames_per_run=1),
        )
        test = _cached(
            cache / f"{tag}cuau-test.extxyz",
            lambda: make_cuau_emt(n_test, seed=12, temperatures=_TEMPERATURES, frames_per_run=5),
        )
        base_path = cache / f"{tag}cuau-random.extxyz"
        base = _cached(
            base_path,
            lambda: make_cuau_emt(n_base, seed=13, temperatures=_TEMPERATURES, frames_per_run=10),
        )
        return init, test, base, base_path
    init = _cached(
        cache / f"{tag}ethanol-init.extxyz",
        lambda: make_molecule_mmff94("ethanol", n_init, seed=11, temperatures=(300.0,)),
    )
    import ase.io  # (explore labels the initial frames with GFN2-xTB itself)

    test = list(ase.io.read(str(bundled_dataset("ethanol-xtb")), index=f":{n_test}"))
    base_path = cache / f"{tag}ethanol-xtb-random.extxyz"
    base = _cached(base_path, lambda: make_molecule_xtb("ethanol", n_base, seed=13))
    return init, test, base, base_path


def _overrides(system: str, quick: bool, max_labels: int, threads: int) -> list[str]:
    spec = SYSTEMS[system]
    model = {**spec["model"], **(_QUICK["model"] if quick else {})}
    explore = {**spec["explore"], "max_labels": max_labels, **(_QUICK["explore"] if quick else {})}
    pairs = [f"model.{k}={json.dumps(v)}" for k, v in model.items()]
    pairs += [f"explore.{k}={json.dumps(v)}" for k, v in explore.items()]
    pairs += [
        "training.batch_size=4",
        "training.patience=null",
        f"training.num_threads={threads}",
        "training.refit_energy_shift=true",
    ]
    return pairs


_COMMITTEE_KEYS = ("committee_valid_forces_rmse", "committee_fixed_valid_forces_rmse")
_COPIED_KEYS = ["accurate", "candidate", "failed", "trust_lo", "trust_hi", "pool_lo", "n_pool"]
_COPIED_KEYS += ["labels_added", "committee_cut_short"]


def _curve(out: Path, summary: dict[str, Any], test: Any) -> list[dict[str, Any]]:
    from geodl.atoms.model import load_model
    from geodl.atoms.train import evaluate

    rows = []
    for rec in summary["per_iteration"]:
        path = out / f"iter_{rec['iteration']:03d}" / "member_0" / "model.pt"
        m = evaluate(load_model(path), test)
        meV = {f"{k}_meV_A": 1e3 * rec[k] for k in _COMMITTEE_KEYS}
        copied = {k: rec.get(k) for k in _COPIED_KEYS}
        rows.append(
            {
                "iteration": rec["iteration"],
                "labels_trained_on": rec["n_train"] + rec["n_valid"],
                "test_forces_rmse_meV_A": 1e3 * m["forces_rmse"],
                "test_energy_rmse_meV_atom": 1e3 * m["energy_rmse_per_atom"],
                **meV,
                **copied,
                "max_deviation_median": rec["max_deviation"]["median"],
                "md_blowups": sum(rec["md_blowups"].values()),
                "elapsed_s": rec["elapsed"],
            }
        )
    return rows


def _baseline(
    system: str, base: list, overrides: list[str], seconds: float, quick: bool, out: Path
) -> dict[str, Any]:
    import dataclasses

    from geodl.atoms.data import read_structures
    from geodl.atoms.explore import load_explore_config
    from geodl.atoms.train import Trainer

    cfg = load_explore_config(overrides=overrides).train
    training = dataclasses.replace(
        cfg.training,
        epochs=2 if quick else 100000,
        max_time=None if quick else seconds,
        progress=False,
        plots=False,
        resume=False,
    )
    cfg = dataclasses.replace(cfg, training=training)
    data = read_structures(base)
    train_set, valid_set = data.split([0.1], seed=0)
    t0 = time.perf_counter()
    result = Trainer(cfg, out=out, log=lambda line: None).fit(train_set, valid_set)
    return {"model": result.model, "time": time.perf_counter() - t0, "n_train": len(train_set)}


def _baseline_process(
    path: str, overrides: list[str], seconds: float, out: str, threads: int
) -> None:
    """The baseline in its own process (``side_by_side``): trains, writes
    ``out/model.pt`` and ``out/baseline.json``."""
    import ase.io
    import torch

    torch.set_num_threads(threads)
    c0 = time.process_time()
    b = _baseline("", list(ase.io.read(path, index=":")), overrides, seconds, False, Path(out))
    info = {"time": b["time"], "n_train": b["n_train"], "cpu": time.process_time() - c0}
    (Path(out) / "baseline.json").write_text(json.dumps(info))


def _explore_run(
    system: str, init: list, test: Any, overrides: list[str], out: Path, max_time: float | None
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """The explore run: (results row, per-iteration curve, summary)."""
    from geodl.atoms.explore import explore, load_explore_config
    from geodl.atoms.model import load_model
    from geodl.atoms.train import evaluate

    t0, c0 = time.perf_counter(), time.process_time()
    result = explore(
        init,
        SYSTEMS[system]["reference"],
        out,
        config=load_explore_config(overrides=overrides),
        max_time=max_time,
        log=print,
    )
    summary = result.summary
    final = evaluate(load_model(result.model), test)
    row = {
        "labels": summary["labels_used"],
        "iterations": summary["iterations"],
        "converged": summary["converged"],
        "stop_reason": summary["stop_reason"],
        "energy_rmse_meV_atom": 1e3 * final["energy_rmse_per_atom"],
        "forces_rmse_meV_A": 1e3 * final["forces_rmse"],
        "time_s": summary["elapsed"],
        "this_call_wall_s": time.perf_counter() - t0,
        "this_call_cpu_s": time.process_time() - c0,
    }
    return row, _curve(result.out, summary, test), summary


def _baseline_row(
    system: str,
    base: list,
    test: Any,
    overrides: list[str],
    seconds: float,
    quick: bool,
    out: Path,
) -> tuple[str, dict[str, Any]]:
    from geodl.atoms.train import evaluate

    c0 = time.process_time()
    b = _baseline(system, base, overrides, seconds, quick, out)
    m = evaluate(b["model"], test)
    return f"random {b['n_train']} frames, same time", {
        "labels": len(base),
        "energy_rmse_meV_atom": 1e3 * m["energy_rmse_per_atom"],
        "forces_rmse_meV_A": 1e3 * m["forces_rmse"],
        "time_s": b["time"],
        "this_call_cpu_s": time.process_time() - c0,
    }


def _start_baseline_process(
    base_path: Path, overrides: list[str], seconds: float, out: Path, threads: int
) -> Any:
    import multiprocessing

    process = multiprocessing.get_context("spawn").Process(
        target=_baseline_process, args=(str(base_path), overrides, seconds, str(out), threads)
    )
    process.start()
    return process


def _baseline_from_process(out: Path, base: list, test: Any) -> tuple[str, dict[str, Any]]:
    from geodl.atoms.model import load_model
    from geodl.atoms.train import evaluate

    if not (out / "baseline.json").is_file():
        raise RuntimeError(f"bench active-learning: the baseline process wrote nothing in {out}.")
    info = json.loads((out / "baseline.json").read_text())
    m = evaluate(load_model(out / "model.pt"), test)
    return f"random {info['n_train']} frames, same time (side by side)", {
        "labels": len(base),
        "energy_rmse_meV_atom": 1e3 * m["energy_rmse_per_atom"],
        "forces_rmse_meV_A": 1e3 * m["forces_rmse"],
        "time_s": info["time"],
        "this_call_cpu_s": info["cpu"],
    }


def _conditions(threads: int, load0: tuple[float, ...]) -> dict[str, Any]:
    import ase
    import torch

    return {
        "threads": threads,
        "load_average_start": list(load0),
        "load_average_end": list(os.getloadavg()),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ase": ase.__version__,
    }


@dataclass
class _Study:
    """One system's data and settings; :meth:`compare` runs explore and the baseline."""

    system: str
    root: Path
    overrides: list[str]
    init: list
    test: Any
    base: list
    base_path: Path
    max_time: float
    quick: bool
    threads: int

    def compare(
        self, baseline: bool, baseline_time: float | None, side_by_side: bool
    ) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any], bool]:
        """The explore run and the baseline (after it, or beside it in a second process)."""
        process = None
        if baseline and side_by_side and not self.quick:  # same machine state for both
            process = _start_baseline_process(
                self.base_path, self.overrides, self.max_time, self.root / "baseline", self.threads
            )
        row, curve, summary = _explore_run(
            self.system,
            self.init,
            self.test,
            self.overrides,
            self.root / "explore",
            None if self.quick else self.max_time,
        )
        results: dict[str, Any] = {"active learning (geodl explore)": row}
        if baseline:
            if process is not None:
                process.join()
                name, brow = _baseline_from_process(self.root / "baseline", self.base, self.test)
            else:
                name, brow = _baseline_row(
                    self.system,
                    self.base,
                    self.test,
                    self.overrides,
                    float(baseline_time or summary["elapsed"]),
                    self.quick,
                    self.root / "baseline",
                )
            results[name] = brow
            row["ratio_to_random"] = row["forces_rmse_meV_A"] / brow["forces_rmse_meV_A"]
        return results, curve, summary, process is not None


def run(
    seed: int = 0,
    quick: bool = False,
    *,
    system: str = "cuau",
    max_time: float | None = None,
    max_labels: int | None = None,
    baseline: bool = True,
    baseline_time: float | None = None,
    threads: int = 2,
    out: str = "bench-active-learning",
    plot: str | None = None,
    side_by_side: bool = False,
) -> dict[str, Any]:
    """Run the study of ``system`` (see the module docstring) and return the results.

    ``max_time`` / ``max_labels`` default to the system's budget; ``baseline_time``
    (default: the explore run's time) is the baseline's training time; ``out`` caches the
    data and holds the runs (an explore run there is resumed); ``plot`` writes the curve.
    ``side_by_side`` trains the baseline in a second process during the explore run, for
    ``max_time`` seconds (a fair comparison on a shared machine; on an idle one run them one
    after the other with ``threads=2``).
    """
    import torch

    from geodl.atoms.data import read_structures

    if system not in SYSTEMS:
        raise ValueError(
            f"bench active-learning: unknown system {system!r}. Valid: cuau, ethanol-xtb."
        )
    spec = SYSTEMS[system]
    max_labels = int(max_labels or spec["max_labels"])
    init, test_frames, base, base_path = _data(system, Path(out) / "data", quick)
    overrides = _overrides(system, quick, max_labels, threads) + [f"training.seed={seed}"]
    study = _Study(
        system,
        Path(out) / f"{system}-seed{seed}{'-quick' if quick else ''}",
        overrides,
        init,
        read_structures(test_frames),
        base,
        base_path,
        float(max_time or spec["max_time"]),
        quick,
        threads,
    )
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    load0 = os.getloadavg()
    try:
        results, curve, summary, parallel = study.compare(baseline, baseline_time, side_by_side)
    finally:
        torch.set_num_threads(old_threads)
    report = {
        "task": "active-learning",
        "seed": seed,
        "system": system,
        "results": results,
        "curve": curve,
        "summary": {k: v for k, v in summary.items() if k != "per_iteration"},
        "settings": {
            "reference": spec["reference"],
            "max_time": study.max_time,
            "max_labels": max_labels,
            "overrides": overrides,
            "n_init": len(init),
            "n_test": len(study.test),
            "quick": quick,
            "side_by_side": parallel,
        },
        "conditions": _conditions(threads, load0),
    }
    if plot:
        plot_curve(report, plot)
    return report


def plot_curve(report: dict[str, Any], path: str) -> None:
    """Two panels: test force RMSE against labels (with the baseline and 1.2x of it), and
    the accurate / candidate / failed fractions per iteration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = report["curve"]
    al = report["results"]["active learning (geodl explore)"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    labels = [r["labels_trained_on"] for r in curve]
    ax1.plot(labels, [r["test_forces_rmse_meV_A"] for r in curve], "o-", label="committee member 0")
    ax1.plot([al["labels"]], [al["forces_rmse_meV_A"]], "s", ms=9, label="final model")
    for name, row in report["results"].items():
        if name.startswith("random"):
            ax1.axhline(row["forces_rmse_meV_A"], color="k", ls="--", label=name)
            ax1.axhline(1.2 * row["forces_rmse_meV_A"], color="k", ls=":", label="1.2 x random")
    ax1.set_xlabel("labelled frames")
    ax1.set_ylabel("test force RMSE (meV/Å)")
    ax1.set_yscale("log")
    ax1.legend(fontsize=8)
    its = [r["iteration"] for r in curve]
    for key in ("accurate", "candidate", "failed"):
        ax2.plot(its, [r[key] for r in curve], "o-", label=key)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("fraction of explored frames")
    ax2.legend(fontsize=8)
    fig.suptitle(
        f"geodl explore, {report['system']} ({report['settings']['reference']}): "
        f"{al['labels']} labels, {al['iterations']} iterations, {al['stop_reason']}"
    )
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
