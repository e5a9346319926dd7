"""Classify point clouds that may be turned any way: PointNet baseline vs invariant model.

Trains both models on the procedural shapes, upright up to a turn about the vertical
axis (the "z" protocol), then tilts every test cloud by an angle about the horizontal
x axis and plots the test accuracy against that angle. The invariant classifier
(``se_e2_a`` local environments + DeepSets) gives the same answers at every angle; the
baseline only knows the orientations it was trained on.

    python examples/pointcloud_classification.py [--quick] [--out accuracy_vs_angle.png]
    python examples/pointcloud_classification.py --from-json pointcloud.json

The second form only plots the curve that ``geodl bench pointcloud --json pointcloud.json``
measured (same models and settings); the figure of the docs
(docs/img/pointcloud_accuracy_vs_angle.png) was made that way from the seed-1 run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch


def accuracy_at_angle(model: torch.nn.Module, data: list, angle_deg: float) -> float:
    """Accuracy after tilting every cloud by ``angle_deg`` about the x axis."""
    from geodl.bench.pointcloud import tilted
    from geodl.pointcloud import evaluate

    return evaluate(model, tilted(data, angle_deg), orientation="none")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run (seconds)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("pointcloud_accuracy_vs_angle.png"))
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        metavar="FILE",
        help="plot the curve of a 'geodl bench pointcloud --json FILE' run",
    )
    args = parser.parse_args(argv)
    if args.from_json is not None:
        bench = json.loads(args.from_json.read_text())
        curve = dict(bench["accuracy_vs_tilt"])
        angles = curve.pop("angles_deg")
        names = {"pointnet": "PointNet baseline", "invariant": "invariant (se_e2_a + DeepSets)"}
        curves = {names.get(k, k): v for k, v in curve.items()}
        title = f"seed {bench['seed']}"
        _plot(angles, curves, len(bench["classes"]), title, args.out)
        return 0

    from geodl.bench.pointcloud import TILT_ANGLES
    from geodl.pointcloud import (
        SHAPE_CLASSES,
        InvariantPointClassifier,
        PointNetBaseline,
        shape_splits,
        train_classifier,
    )

    per_class, epochs, points = (2, 2, (24, 32)) if args.quick else (40, 30, (128, 256))
    splits = shape_splits(args.seed, per_class, 0, max(1, per_class // 2), num_points=points)
    n = len(SHAPE_CLASSES)
    models = {
        "PointNet baseline": PointNetBaseline(n),
        "invariant (se_e2_a + DeepSets)": InvariantPointClassifier(
            n, k=16, embed_widths=(8, 16), axis_neurons=4, hidden=(64, 64), head=(64,)
        ),
    }
    angles = TILT_ANGLES
    curves: dict[str, list[float]] = {}
    for name, model in models.items():
        torch.manual_seed(args.seed)
        train_classifier(
            model,
            splits["train"],
            epochs=epochs,
            orientation="z",
            seed=args.seed,
            point_dropout=0.6,
        )
        curves[name] = [accuracy_at_angle(model, splits["test"], a) for a in angles]
        print(name, " ".join(f"{a}:{acc:.2f}" for a, acc in zip(angles, curves[name], strict=True)))

    _plot(angles, curves, n, f"seed {args.seed}", args.out)
    args.out.with_suffix(".json").write_text(json.dumps({"angles": angles, **curves}, indent=1))
    return 0


def _plot(angles: list[int], curves: dict[str, list[float]], n: int, note: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for (name, acc), marker in zip(curves.items(), "os", strict=True):
        ax.plot(angles, acc, marker=marker, label=name)
    ax.set_xlabel("tilt of the test clouds about the x axis (degrees)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(angles[::2])
    ax.set_title(
        f"Procedural shapes ({n} classes), trained upright (z protocol), {note}", fontsize=9
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="center", bbox_to_anchor=(0.5, 0.62))
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    print(f"wrote {out}")


if __name__ == "__main__":
    raise SystemExit(main())
