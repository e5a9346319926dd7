"""``geodl bench pointcloud``: rotation protocols on the procedural shape dataset.

For the PointNet-style baseline and the invariant classifier (``se_e2_a`` + DeepSets,
SO(3)-invariant), test accuracies for the protocols ``z/z``, ``z/SO3`` and ``SO3/SO3``
(train orientation / test orientation), and, for the ``z``-trained models, under a random
permutation of the points (``z/z permuted``) and with half of the points removed
(``z/z half points``), and the ``z/z`` models' accuracy when every test cloud is tilted by
a fixed angle about the horizontal x axis (``accuracy_vs_tilt``, plotted by
``examples/pointcloud_classification.py``).

Options (``--set key=value``): ``epochs``, ``train_per_class``, ``test_per_class``,
``min_points``, ``max_points``, ``point_dropout`` (training augmentation of both models:
each cloud keeps a random 40–100 % of its points), ``threads`` (torch intra-op threads;
0: torch's default), ``invariant_dtype`` (``"float64"``, default, or ``"float32"``: the
invariant model's precision; in float64 its outputs for two orientations of a cloud agree
to ~1e-15 instead of ~1e-7, so the ``z`` and ``SO3`` trainings follow the same trajectory
instead of drifting apart through round-off amplified over the epochs).
"""

from __future__ import annotations

import time
from typing import Any

_DEFAULTS: dict[str, dict[str, Any]] = {
    "full": {
        "epochs": 30,
        "train_per_class": 40,
        "test_per_class": 20,
        "min_points": 128,
        "max_points": 256,
        "point_dropout": 0.6,
        "threads": 0,
        "invariant_dtype": "float64",
    },
    "quick": {
        "epochs": 1,
        "train_per_class": 1,
        "test_per_class": 1,
        "min_points": 16,
        "max_points": 24,
        "point_dropout": 0.6,
        "threads": 0,
        "invariant_dtype": "float64",
    },
}


def _models(num_classes: int, quick: bool) -> dict[str, Any]:
    from geodl.pointcloud import InvariantPointClassifier, PointNetBaseline

    pointnet: dict[str, Any]
    invariant: dict[str, Any]
    if quick:
        pointnet = dict(hidden=(16, 16), head=(16,))
        invariant = dict(
            k=6, embed_widths=(4, 8), axis_neurons=2, num_pseudoscalars=2, hidden=(16,), head=(16,)
        )
    else:
        pointnet = {}
        invariant = dict(
            k=16,
            embed_widths=(8, 16),
            axis_neurons=4,
            num_pseudoscalars=8,
            hidden=(64, 64),
            head=(64,),
        )
    return {
        "pointnet": lambda: PointNetBaseline(num_classes, **pointnet),
        "invariant": lambda: InvariantPointClassifier(num_classes, **invariant),
    }


def _apply_options(task: str, defaults: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """``defaults`` updated by ``options``, each converted to its default's type.

    Raises ``ValueError`` naming the valid options for an unknown key, and the expected
    type for a value that does not convert. Shared by ``bench pointcloud`` and ``tetris``.
    """
    settings = dict(defaults)
    unknown = sorted(set(options) - set(settings))
    if unknown:
        raise ValueError(
            f"bench {task}: unknown option(s) {', '.join(unknown)}. Valid options: "
            f"{', '.join(settings)}."
        )
    for key, value in options.items():
        kind = type(settings[key])
        try:
            settings[key] = kind(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"bench {task}: option {key!r} must be {kind.__name__} "
                f"(e.g. --set {key}={defaults[key]}), got {value!r}."
            ) from None
    return settings


TILT_ANGLES = list(range(0, 181, 15))


def tilted(data: list, angle_deg: float) -> list:
    """Copies of the clouds turned by ``angle_deg`` about the x axis."""
    import math

    import torch

    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    tilt = torch.tensor([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    out = []
    for d in data:
        t = d.clone()
        t.pos = d.pos @ tilt.T.to(d.pos.dtype)
        out.append(t)
    return out


def run(seed: int = 0, quick: bool = False, **options: Any) -> dict[str, Any]:
    """Run the benchmark; see the module docstring. Returns the JSON-able result."""
    import torch

    from geodl.pointcloud import (
        SHAPE_CLASSES,
        evaluate,
        permute_points,
        shape_splits,
        subsample_points,
        train_classifier,
    )

    settings = _apply_options("pointcloud", _DEFAULTS["quick" if quick else "full"], options)
    dtypes = {"float32": torch.float32, "float64": torch.float64}
    if settings["invariant_dtype"] not in dtypes:
        raise ValueError(
            f"bench pointcloud: invariant_dtype must be one of {', '.join(dtypes)}, got "
            f"{settings['invariant_dtype']!r}."
        )
    if settings["threads"] > 0:
        torch.set_num_threads(settings["threads"])
    splits = shape_splits(
        seed,
        settings["train_per_class"],
        0,
        settings["test_per_class"],
        num_points=(settings["min_points"], settings["max_points"]),
    )
    train, test = splits["train"], splits["test"]
    permuted = permute_points(test, seed=seed)
    half = subsample_points(test, 0.5, seed=seed)
    results: dict[str, dict[str, Any]] = {}
    angles = TILT_ANGLES[::6] if quick else TILT_ANGLES
    curves: dict[str, Any] = {"angles_deg": angles}
    for name, make in _models(len(SHAPE_CLASSES), quick).items():
        row: dict[str, Any] = {}
        seconds = 0.0
        for train_orientation in ("z", "SO3"):
            torch.manual_seed(seed)
            model = make()
            if name != "pointnet":
                model = model.to(dtypes[settings["invariant_dtype"]])
            start = time.perf_counter()
            train_classifier(
                model,
                train,
                epochs=settings["epochs"],
                orientation=train_orientation,
                seed=seed,
                point_dropout=settings["point_dropout"],
            )
            seconds += time.perf_counter() - start
            if train_orientation == "z":
                row["z/z"] = evaluate(model, test, orientation="z", seed=seed)
                row["z/SO3"] = evaluate(model, test, orientation="SO3", seed=seed)
                row["z/z permuted"] = evaluate(model, permuted, orientation="z", seed=seed)
                row["z/z half points"] = evaluate(model, half, orientation="z", seed=seed)
                curves[name] = [
                    evaluate(model, tilted(test, a), orientation="none", seed=seed) for a in angles
                ]
            else:
                row["SO3/SO3"] = evaluate(model, test, orientation="SO3", seed=seed)
        row["rotation_invariant"] = name != "pointnet"
        row["group"] = getattr(model, "group", "trivial")
        row["train_seconds"] = round(seconds, 1)
        results[name] = row
    return {
        "task": "pointcloud",
        "seed": seed,
        "results": results,
        "accuracy_vs_tilt": curves,
        "settings": settings,
        "classes": list(SHAPE_CLASSES),
        "protocol": "train orientation / test orientation; accuracies on the test split",
    }
