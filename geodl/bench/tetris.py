"""``geodl bench tetris``: train on one orientation, test on random rotations.

The 8 tetris shapes (TFN / e3nn), each seen once in its reference orientation for
training; the test set holds ``copies`` uniformly rotated, translated and re-ordered
copies of each shape. Models:

* ``invariant-SO3`` — the invariant classifier with pseudoscalar features: invariant to
  rotations only, so it can tell the chiral pair apart (goal: test accuracy 1.0);
* ``invariant-O3`` — the same without pseudoscalars: invariant to rotations and
  reflections, it *necessarily* gives the two mirror images the same logits, so its
  accuracy is at most 7/8;
* ``pointnet`` — the baseline (no rotation invariance).

Options (``--set key=value``): ``epochs``, ``copies``, ``threads`` (0: torch's default).
"""

from __future__ import annotations

from typing import Any

_DEFAULTS = {
    "full": {"epochs": 300, "copies": 100, "threads": 0},
    "quick": {"epochs": 25, "copies": 2, "threads": 0},
}


def run(seed: int = 0, quick: bool = False, **options: Any) -> dict[str, Any]:
    """Run the benchmark; see the module docstring. Returns the JSON-able result."""
    import torch

    from geodl.bench.pointcloud import _apply_options
    from geodl.pointcloud import (
        InvariantPointClassifier,
        PointNetBaseline,
        predict,
        tetris_dataset,
        train_classifier,
    )

    settings = _apply_options("tetris", _DEFAULTS["quick" if quick else "full"], options)
    if settings["threads"] > 0:
        torch.set_num_threads(settings["threads"])
    train = tetris_dataset(copies=1, orientation="none")
    test = tetris_dataset(
        copies=settings["copies"], orientation="SO3", seed=seed + 1, translate=1.0
    )
    small: dict[str, Any] = dict(
        k=3, embed_widths=(8, 16), axis_neurons=4, num_pseudoscalars=4, hidden=(32,), head=(32,)
    )
    makers = {
        "invariant-SO3": lambda: InvariantPointClassifier(8, chiral=True, **small),
        "invariant-O3": lambda: InvariantPointClassifier(8, chiral=False, **small),
        "pointnet": lambda: PointNetBaseline(8, hidden=(32, 32), head=(32,)),
    }
    results: dict[str, dict[str, Any]] = {}
    for name, make in makers.items():
        torch.manual_seed(seed)
        model = make()
        hist = train_classifier(
            model,
            train,
            epochs=settings["epochs"],
            batch_size=8,
            lr=1e-2,
            orientation="none",
            seed=seed,
        )
        pred, y = predict(model, test, orientation="none")
        chiral = y < 2
        results[name] = {
            "test_accuracy": float((pred == y).float().mean()),
            "chiral_pair_accuracy": float((pred[chiral] == y[chiral]).float().mean()),
            "train_accuracy": hist["train_accuracy"][-1],
            "group": getattr(model, "group", "trivial"),
        }
    return {
        "task": "tetris",
        "seed": seed,
        "results": results,
        "settings": settings,
        "protocol": "train: the 8 shapes in one orientation; test: random SO(3) rotations",
    }
