"""geodl.pointcloud — point-cloud classification that does not care how a cloud is turned
or ordered.

* Models: :class:`PointNetBaseline` (permutation/translation invariant, not rotation),
  :class:`InvariantPointClassifier` (``se_e2_a`` local environments + DeepSets; invariant
  under SE(3) with ``chiral=True``, E(3) with ``chiral=False``, and permutations).
* Data: :func:`make_shapes` / :func:`shape_splits` (procedural shapes), :func:`tetris` /
  :func:`tetris_dataset`, :class:`ModelNetFolder` (a local ModelNet10/40 copy).
* Protocols: :func:`train_classifier`, :func:`evaluate` with orientations from
  :data:`ORIENTATIONS` (``"none"``, ``"z"``, ``"SO3"``, ``"O3"``).
"""

from geodl.extras import require

require("pointcloud", "geodl.pointcloud")

# ruff: noqa: E402 (the extra is checked before anything imports it)


from geodl.pointcloud._io import load_classifier, save_classifier
from geodl.pointcloud._modelnet import ModelNetFolder, read_off
from geodl.pointcloud._models import (
    InvariantPointClassifier,
    PointNetBaseline,
    PseudoscalarFeatures,
)
from geodl.pointcloud._neighbors import NEIGHBORHOODS, knn_edges, neighbor_edges, radius_edges
from geodl.pointcloud._shapes import (
    SHAPE_CLASSES,
    make_shapes,
    sample_surface,
    shape_mesh,
    shape_splits,
)
from geodl.pointcloud._tetris import TETRIS_SHAPES, tetris, tetris_dataset
from geodl.pointcloud._train import (
    evaluate,
    permute_points,
    predict,
    subsample_points,
    train_classifier,
)
from geodl.pointcloud._transforms import (
    ORIENTATIONS,
    center_and_scale,
    random_rotations,
    rotate,
    rotation_about_z,
)

__all__ = [
    "PointNetBaseline",
    "InvariantPointClassifier",
    "PseudoscalarFeatures",
    "save_classifier",
    "load_classifier",
    "NEIGHBORHOODS",
    "knn_edges",
    "radius_edges",
    "neighbor_edges",
    "SHAPE_CLASSES",
    "shape_mesh",
    "sample_surface",
    "make_shapes",
    "shape_splits",
    "TETRIS_SHAPES",
    "tetris",
    "tetris_dataset",
    "read_off",
    "ModelNetFolder",
    "train_classifier",
    "evaluate",
    "predict",
    "permute_points",
    "subsample_points",
    "ORIENTATIONS",
    "random_rotations",
    "rotate",
    "rotation_about_z",
    "center_and_scale",
]
