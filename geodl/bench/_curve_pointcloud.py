r"""The point-cloud task of ``geodl bench symmetry-curve`` (private): the 12 procedural
shape classes of :func:`geodl.pointcloud.make_shapes` (64 points per cloud, sizes 0.5–2,
noise up to 2 %), every cloud of the pool and of the test set turned by a Haar-random
rotation, points in random order. The class does not change under rotations,
translations or a re-ordering of the points.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from geodl.bench._curves import CurveData, ModelSpec, TrainRule, on_inputs
from geodl.nn import MLP
from geodl.pointcloud import (
    SHAPE_CLASSES,
    InvariantPointClassifier,
    PointNetBaseline,
    shape_splits,
)
from geodl.symmetry import haar_orthogonal

POINTS = 64
METRIC = "test classification error on randomly rotated clouds (fraction misclassified, 12 classes)"
RULE = TrainRule(min_steps=600, epochs=30, batch_size=32, lr=2e-3, weight_decay=1e-4)
QUICK_RULE = TrainRule(min_steps=60, epochs=1, batch_size=16, lr=2e-3, weight_decay=1e-4)


def rotate_clouds(x: Tensor, gen: torch.Generator) -> Tensor:
    """Every cloud of ``x (B, P, 3)`` turned by its own Haar-random rotation."""
    q = haar_orthogonal(x.shape[0], 3, gen).to(x.dtype)
    return x @ q.transpose(1, 2)


def load(seed: int, pool: int, test: int) -> CurveData:
    """``pool`` training clouds (at least; whole classes) and ``test`` test clouds from
    :func:`~geodl.pointcloud.shape_splits`, each turned by a random rotation."""
    k = len(SHAPE_CLASSES)
    splits = shape_splits(seed, -(-pool // k), 0, -(-test // k), num_points=POINTS)
    gen = torch.Generator().manual_seed(int(seed) + 4242)
    out = []
    for name in ("train", "test"):
        x = torch.stack([d.pos for d in splits[name]]).to(torch.float32)
        y = torch.cat([d.y for d in splits[name]])
        out.append((rotate_clouds(x, gen), y))
    (x_pool, y_pool), (x_test, y_test) = out
    info = {
        "classes": list(SHAPE_CLASSES),
        "points_per_cloud": POINTS,
        "presentation": "every cloud of the pool and the test set turned by a random "
        "rotation (Haar SO3); points in sampling (random) order",
        "pool": len(y_pool),
        "test": len(y_test),
    }
    return CurveData(x_pool, y_pool, x_test, y_test, True, info)


class _Flat(nn.Module):
    """Adapter: ``(B, P, 3)`` clouds -> a ``model(pos (B P, 3), batch (B P,))``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        b, p, _ = x.shape
        batch = torch.arange(b, device=x.device).repeat_interleave(p)
        return self.model(x.reshape(b * p, 3), batch)

    @torch.no_grad()
    def fit_statistics(self, x: Tensor, y: Tensor) -> None:
        fit_statistics = getattr(self.model, "fit_statistics", None)
        if fit_statistics is not None:
            from torch_geometric.data import Data

            fit_statistics([Data(pos=c) for c in x])


class _FlatMLP(nn.Module):
    """An MLP on the concatenated coordinates ``(B, 3P)``."""

    def __init__(self, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.mlp = MLP(3 * POINTS, hidden, len(SHAPE_CLASSES), activation="relu")

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x.flatten(1))


def models(data: CurveData, quick: bool) -> dict[str, ModelSpec]:
    """Invariant classifier, DeepSets (PointNet-style), DeepSets with rotation
    augmentation, and an MLP on concatenated coordinates."""
    k = len(SHAPE_CLASSES)
    if quick:
        inv: dict[str, Any] = dict(
            k=6, embed_widths=(4, 8), axis_neurons=2, num_pseudoscalars=2, hidden=(16,), head=(16,)
        )
        sets: dict[str, Any] = dict(hidden=(16, 16), head=(16,))
        mlp: tuple[int, ...] = (32,)
    else:
        inv = dict(
            k=12,
            embed_widths=(8, 16),
            axis_neurons=4,
            num_pseudoscalars=8,
            hidden=(64, 64),
            head=(64,),
        )
        sets = dict(hidden=(64, 128), head=(128,))
        mlp = (128, 64)

    return {
        "invariant": ModelSpec(
            lambda: _Flat(InvariantPointClassifier(k, **inv)),
            "SE3 x S_n",
            ("SE3 x permutation",),
            "geodl.pointcloud.InvariantPointClassifier: se_e2_a local environments + "
            "DeepSets (chiral, so SE(3) and not reflections)",
        ),
        "deepsets": ModelSpec(
            lambda: _Flat(PointNetBaseline(k, **sets)),
            "T3 x S_n",
            ("translation x permutation",),
            "geodl.pointcloud.PointNetBaseline: DeepSets (max pooling) on centred, scaled "
            "coordinates; rotations must be learned",
        ),
        "deepsets+augment": ModelSpec(
            lambda: _Flat(PointNetBaseline(k, **sets)),
            "T3 x S_n",
            ("translation x permutation",),
            "the same DeepSets trained on a fresh random rotation of every cloud of every batch",
            on_inputs(rotate_clouds),
        ),
        "mlp": ModelSpec(
            lambda: _FlatMLP(mlp),
            "trivial",
            (),
            "MLP on the concatenated coordinates of the 64 points",
        ),
    }
