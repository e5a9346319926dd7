r"""``geodl bench symmetry-curve``: what symmetry buys, in data (the lecture's Figure 5).

For one task (``--task molecule|pointcloud|image``), models that differ in the symmetry
they respect are trained on training sets of growing size :math:`n` (``--sizes``), with
``--seeds K`` seeds each (the training subset, the initialisation, the batches and the
augmentation change with the seed; the test set does not), and their test error
:math:`e(n)` is reported:

* ``molecule`` — energies of ethanol in random orientation, position and atom order:
  geodl's ``se_e2_a`` model (:math:`E(3) \times S_n`), the same embedding without its
  invariant contraction (:math:`T(3) \times S_n`), an MLP on Cartesian coordinates and the
  same MLP with rotation + translation + permutation augmentation (trivial);
* ``pointcloud`` — 12 procedural shape classes in random orientation: the invariant
  classifier (:math:`SE(3) \times S_n`), DeepSets without rotation invariance
  (:math:`T(3) \times S_n`), the same with rotation augmentation, an MLP on concatenated
  coordinates (trivial);
* ``image`` — 8x8 digits at random positions and quarter turns of a 12x12 canvas: a
  C4-pooled CNN (:math:`p4`), a circular CNN (shifts), the same with quarter-turn
  augmentation, an MLP (trivial).

Every model of a task uses the same optimiser and step rule (AdamW, one-cycle schedule,
:math:`\max(\text{min\_steps}, \lceil\text{epochs}\cdot n/b\rceil)` steps on batches
of :math:`b = \min(\text{batch\_size}, n)`: see :class:`~geodl.bench._curves.TrainRule`),
with hyper-parameters chosen once for all sizes. The result keeps the contract
``task``, ``sizes``, ``models`` (``symmetry``, ``params``, ``errors[size][seed]``),
``metric`` and ``efficiency`` (per symmetric model, how many times fewer samples it needs
than the best trivial model to reach that trivial model's best error; see
:func:`geodl.bench._curves.efficiency`), plus power-law ``fits``, pairwise factors,
timings and the run conditions.

Options (``--task``, ``--sizes``, ``--seeds``, ``--plot`` or ``--set key=value``):
``task``, ``sizes``, ``seeds``, ``plot`` (PNG path), ``models`` (comma-separated subset),
``steps`` (the rule's minimum number of steps), ``epochs``, ``lr``, ``batch_size``,
``weight_decay`` (override the task's rule), ``test_size``, ``threads`` (torch threads,
default 1), ``progress`` (one line per trained model on stderr, default true).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from geodl.bench._curves import (
    CurveData,
    Loss,
    ModelSpec,
    TrainRule,
    cross_entropy,
    format_factor,
    predict,
    summarise,
    train_steps,
)
from geodl.bench._training import count_params, num_threads


@dataclass(frozen=True)
class Task:
    """A task of the study: its data, models, metric and training rule."""

    module: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    test_size: int
    quick_test_size: int

    def load(self) -> Any:
        import importlib

        return importlib.import_module(f"geodl.bench.{self.module}")


#: task name -> its definition (the ``--task`` registry)
TASKS: dict[str, Task] = {
    "molecule": Task("_curve_molecule", (16, 32, 64, 128, 256, 512, 1024), (16, 64), 512, 64),
    "pointcloud": Task("_curve_pointcloud", (24, 48, 96, 192, 384, 768, 1536), (24, 96), 480, 48),
    "image": Task("_curve_image", (18, 36, 72, 144, 288, 576, 1152), (18, 72), 640, 90),
}


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, str):
        sizes = [s for s in sizes.replace(",", " ").split() if s]
    try:
        out = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise ValueError(
            f"bench symmetry-curve: 'sizes' must be a list of positive integers "
            f"(e.g. --sizes 16 32 64), got {sizes!r}."
        ) from None
    if len(out) < 2 or any(s < 2 for s in out) or out != sorted(set(out)):
        raise ValueError(
            "bench symmetry-curve: 'sizes' must hold at least two increasing integers >= 2 "
            f"(e.g. --sizes 16 32 64), got {out}."
        )
    return out


def _check_positive(name: str, value: Any, kind: type) -> Any:
    try:
        out = kind(value)
    except (TypeError, ValueError):
        out = None
    if out is None or isinstance(value, bool) or out <= 0:
        raise ValueError(
            f"bench symmetry-curve: {name!r} must be a positive {kind.__name__}, got {value!r}."
        )
    return out


def _select(specs: dict[str, ModelSpec], models: Any) -> dict[str, ModelSpec]:
    if models is None:
        return specs
    names = [m.strip() for m in models.split(",")] if isinstance(models, str) else list(models)
    unknown = [m for m in names if m not in specs]
    if unknown or not names:
        raise ValueError(
            f"bench symmetry-curve: unknown model(s) {unknown or names}. Valid models for "
            f"this task: {', '.join(specs)}."
        )
    return {m: specs[m] for m in names}


def _classification_error(model: torch.nn.Module, data: CurveData) -> dict[str, float]:
    pred = predict(model, data.x_test).argmax(-1)
    return {"error": float((pred != data.y_test).float().mean())}


def _train_one(
    spec: ModelSpec,
    data: CurveData,
    idx: torch.Tensor,
    rule: TrainRule,
    seed: int,
    loss: Loss,
    errors: Callable,
) -> tuple[dict[str, float], int, float, float]:
    torch.manual_seed(seed)
    model = spec.build()
    tensors = data.training_set(idx)
    fit_statistics = getattr(model, "fit_statistics", None)
    if fit_statistics is not None:
        fit_statistics(*tensors)
    start = time.perf_counter()
    final = train_steps(model, tensors, rule, loss=loss, seed=seed, augment=spec.augment)
    seconds = time.perf_counter() - start
    return errors(model, data), count_params(model), final, seconds


def _to_stderr(line: str) -> None:
    import sys

    sys.stderr.write(f"symmetry-curve: {line}\n")
    sys.stderr.flush()


def _conditions(threads: int) -> dict[str, Any]:
    import sys

    return {
        "threads": threads,
        "load_average_start": [round(v, 2) for v in os.getloadavg()],
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def run(
    seed: int = 0,
    quick: bool = False,
    *,
    task: str = "molecule",
    sizes: Any = None,
    seeds: int | None = None,
    plot: str | None = None,
    models: Any = None,
    steps: int | None = None,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    weight_decay: float | None = None,
    test_size: int | None = None,
    threads: int = 1,
    progress: bool | Callable[[str], None] = True,
) -> dict[str, Any]:
    """Learning curves of the task's models; see the module docstring.

    Returns the JSON-able result (``task``, ``sizes``, ``models``, ``metric``,
    ``efficiency``, ``fits``, ``results`` for the printed table, ``settings``,
    ``conditions``). ``progress`` receives one line per trained model.
    """
    if task not in TASKS:
        raise ValueError(
            f"bench symmetry-curve: unknown task {task!r}. Valid tasks: {', '.join(TASKS)}."
        )
    spec_task = TASKS[task]
    size_list = _check_sizes(
        sizes if sizes is not None else (spec_task.quick_sizes if quick else spec_task.sizes)
    )
    n_seeds = _check_positive("seeds", seeds if seeds is not None else (1 if quick else 3), int)
    threads = _check_positive("threads", threads, int)
    n_test = _check_positive(
        "test_size",
        test_size
        if test_size is not None
        else (spec_task.quick_test_size if quick else spec_task.test_size),
        int,
    )
    mod = spec_task.load()
    rule: TrainRule = mod.QUICK_RULE if quick else mod.RULE
    overrides = {
        "min_steps": ("steps", steps, int),
        "epochs": ("epochs", epochs, int),
        "lr": ("lr", lr, float),
        "batch_size": ("batch_size", batch_size, int),
    }
    for field_name, (key, value, kind) in overrides.items():
        if value is not None:
            rule = replace(rule, **{field_name: _check_positive(key, value, kind)})
    if weight_decay is not None:
        rule = replace(rule, weight_decay=float(weight_decay))
    if progress is True:
        progress = _to_stderr
    conditions = _conditions(threads)
    with num_threads(threads):
        data = mod.load(seed, size_list[-1], n_test)
        specs = _select(mod.models(data, quick), models)
        fns = (
            getattr(mod, "loss", cross_entropy),
            getattr(mod, "test_errors", _classification_error),
        )
        table = _measure(specs, data, size_list, n_seeds, seed, rule, fns, progress or None)
    conditions["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    result = _assemble(task, mod, data, size_list, table, n_seeds, seed, rule, quick)
    result["conditions"] = conditions
    if plot:
        from geodl.bench._curve_plot import plot_curves

        plot_curves(result, Path(plot))
        result["plot"] = str(plot)
    return result


def _measure(
    specs: dict[str, ModelSpec],
    data: CurveData,
    sizes: list[int],
    n_seeds: int,
    seed: int,
    rule: TrainRule,
    fns: tuple[Loss, Callable],
    progress: Callable[[str], None] | None,
) -> dict[str, dict[str, Any]]:
    """Train every model at every size and seed: errors, final training losses, params
    and timings. The models take turns at each (size, seed), so they share the machine's
    state (load) as evenly as possible."""
    table: dict[str, dict[str, Any]] = {
        name: {
            "symmetry": spec.symmetry,
            "harness_groups": list(spec.harness),
            "description": spec.description,
            "augmentation": spec.augment is not None,
            "params": 0,
            "errors": [[] for _ in sizes],
            "train_loss": [[] for _ in sizes],
            "train_seconds": [[] for _ in sizes],
        }
        for name, spec in specs.items()
    }
    for i, n in enumerate(sizes):
        for k in range(n_seeds):
            run_seed = seed + k
            idx = data.order(run_seed)[:n]
            for name, spec in specs.items():
                row = table[name]
                out, row["params"], loss, sec = _train_one(spec, data, idx, rule, run_seed, *fns)
                row["errors"][i].append(out["error"])
                row["train_loss"][i].append(loss)
                row["train_seconds"][i].append(round(sec, 2))
                for key, value in out.items():
                    if key != "error":
                        row.setdefault(key, [[] for _ in sizes])[i].append(value)
                if progress is not None:
                    progress(
                        f"n={n:<5d} seed={run_seed}  {name:>16s}  error={out['error']:.4g}  "
                        f"train loss={loss:.3g}  ({sec:.0f} s)"
                    )
    return table


def _assemble(
    task: str,
    mod: Any,
    data: CurveData,
    sizes: list[int],
    table: dict[str, dict[str, Any]],
    n_seeds: int,
    seed: int,
    rule: TrainRule,
    quick: bool,
) -> dict[str, Any]:
    floor = 0.5 / len(data.y_test) if data.classification else 1e-6
    summary = summarise(sizes, table, floor)
    fits, eff, reference = summary["fits"], summary["efficiency"], summary["reference"]
    results: dict[str, dict[str, Any]] = {}
    for name, row in table.items():
        line: dict[str, Any] = {"symmetry": row["symmetry"], "params": row["params"]}
        for n, errs in zip(sizes, row["errors"], strict=True):
            line[f"n={n}"] = sum(errs) / len(errs)
        line["slope"] = round(fits[name]["slope"], 3)
        line["efficiency"] = format_factor(eff[name]) if name in eff else "-"
        results[name] = line
    return {
        "task": task,
        "benchmark": "symmetry-curve",
        "seed": seed,
        "seeds": [seed + k for k in range(n_seeds)],
        "sizes": sizes,
        "metric": mod.METRIC,
        "models": table,
        "efficiency": eff,
        "efficiency_reference": reference,
        "efficiency_definition": (
            "factor = n_reference(e) / n_model(e): how many times fewer training samples "
            "the model needs than the reference (the 'trivial' model with the lowest mean "
            "error at the largest size) to reach the error e, both read off the mean-over-"
            "seeds curves made monotone (running minimum) and interpolated linearly in "
            "(log n, log e). The headline is e = the reference's best error; "
            "'by_reference_level' repeats it at every size where the reference improved. "
            "Defined where e lies inside the model's measured range; bound 'lower' means "
            "the model beats e already at the smallest size (the factor is at least that), "
            "bound 'upper' that it never reaches e (at most that)."
        ),
        "fits": fits,
        "pairwise_efficiency": summary["pairwise"],
        "results": results,
        "data": data.info,
        "settings": {
            "quick": quick,
            "min_steps": rule.min_steps,
            "epochs": rule.epochs,
            "steps_per_size": [rule.steps_for(n) for n in sizes],
            "batch_size": rule.batch_size,
            "lr": rule.lr,
            "weight_decay": rule.weight_decay,
            "optimizer": "AdamW, one-cycle learning rate (15 % warm-up); every model gets "
            "steps(n) = max(min_steps, ceil(epochs * n / b)) steps on batches of "
            "b = min(batch_size, n) samples",
            "error_floor_for_logs": floor,
        },
    }
