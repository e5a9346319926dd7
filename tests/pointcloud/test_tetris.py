"""The tetris toy: shapes, chirality, random orientations."""

from __future__ import annotations

import pytest
import torch

from geodl.pointcloud import TETRIS_SHAPES, tetris, tetris_dataset


def _sorted_distances(p: torch.Tensor) -> torch.Tensor:
    return torch.cdist(p, p).flatten().sort().values


def test_eight_shapes_of_four_points() -> None:
    pos, y = tetris(torch.float64)
    assert pos.shape == (8, 4, 3) and y.tolist() == list(range(8))
    assert list(TETRIS_SHAPES)[:2] == ["chiral_1", "chiral_2"]


def test_chiral_pair_are_mirror_images_not_rotations() -> None:
    pos, _ = tetris(torch.float64)
    a, b = pos[0], pos[1]
    # same distances (an O(3)-invariant of distances cannot tell them apart) ...
    torch.testing.assert_close(_sorted_distances(a), _sorted_distances(b))
    mirror = a * torch.tensor([1.0, -1.0, 1.0], dtype=torch.float64)
    assert {tuple(p) for p in mirror.tolist()} == {tuple(p) for p in b.tolist()}

    # ... but opposite handedness: the sign of a triple product of edge vectors
    def handedness(p: torch.Tensor) -> float:
        return float(torch.det(p[1:] - p[0]))

    assert handedness(a) * handedness(b) < 0


def test_dataset_orientations() -> None:
    ref = tetris_dataset()
    assert len(ref) == 8
    torch.testing.assert_close(ref[3].pos, tetris()[0][3])
    rot = tetris_dataset(copies=2, orientation="SO3", seed=3, translate=1.0)
    assert len(rot) == 16 and [int(d.y) for d in rot[:8]] == list(range(8))
    for d in rot:
        s = int(d.y)
        torch.testing.assert_close(
            _sorted_distances(d.pos.double()),
            _sorted_distances(tetris(torch.float64)[0][s]),
            rtol=1e-5,
            atol=1e-5,
        )
    with pytest.raises(ValueError, match="'copies'"):
        tetris_dataset(copies=0)
