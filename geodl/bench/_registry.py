"""Registry of benchmarks: ``geodl bench NAME`` resolves NAME here.

Each entry points to a function ``run(seed: int, quick: bool = False, **options) -> dict``
returning ``{"task": NAME, "seed": seed, "results": {model_name: {metric: value}}}``
(plus any extra keys). ``quick=True`` runs a small version for tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: benchmark name -> "module:function"
BENCHMARKS: dict[str, str] = {
    "mnist1d": "geodl.bench.mnist1d:run",
    "mnist1d-shuffled": "geodl.bench.mnist1d:run_shuffled",
    "digits": "geodl.bench.digits:run",
    "adding": "geodl.bench.adding:run",
    "uap": "geodl.bench.uap:run",
    "md-speed": "geodl.bench.md_speed:run",
    "lammps-speed": "geodl.bench.lammps_speed:run",
    "potential": "geodl.bench.potential:run",
    "potential-compare": "geodl.bench.potential_compare:run",
    "pointcloud": "geodl.bench.pointcloud:run",
    "tetris": "geodl.bench.tetris:run",
    "finetune": "geodl.bench.finetune:run",
    "active-learning": "geodl.bench.active_learning:run",
    "symmetry-curve": "geodl.bench.symmetry_curve:run",
}


def resolve_benchmark(name: str) -> Callable[..., dict[str, Any]]:
    """Return the ``run`` function of benchmark ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not registered; the message lists the valid names.
    """
    if name not in BENCHMARKS:
        raise ValueError(
            f"Unknown benchmark {name!r}. Valid benchmarks: {', '.join(sorted(BENCHMARKS))}."
        )
    from geodl.extras import require

    require("bench", f"geodl bench {name}")
    module_name, func = BENCHMARKS[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise ValueError(f"Benchmark {name!r} is not available in this build.") from exc
        raise
    return getattr(module, func)
