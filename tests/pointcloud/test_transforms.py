"""Rotations, per-cloud rotation and the invariant normalisation."""

from __future__ import annotations

import math

import pytest
import torch

from geodl.pointcloud import (
    ORIENTATIONS,
    center_and_scale,
    random_rotations,
    rotate,
    rotation_about_z,
)


@pytest.mark.parametrize("kind", list(ORIENTATIONS))
def test_random_rotations_are_orthogonal(kind: str) -> None:
    R = random_rotations(50, kind, torch.Generator().manual_seed(0), torch.float64)
    eye = torch.eye(3, dtype=torch.float64).expand(50, 3, 3)
    torch.testing.assert_close(R @ R.transpose(1, 2), eye)
    det = torch.linalg.det(R)
    if kind == "O3":
        assert (det < 0).any() and (det > 0).any()
    else:
        torch.testing.assert_close(det, torch.ones(50, dtype=torch.float64))
    if kind == "z":
        torch.testing.assert_close(
            R[:, 2], torch.tensor([0.0, 0, 1], dtype=torch.float64).expand(50, 3)
        )


def test_so3_rotations_are_uniform_on_average() -> None:
    # E[R] = 0 for the Haar measure on SO(3)
    R = random_rotations(4000, "SO3", torch.Generator().manual_seed(1), torch.float64)
    assert R.mean(0).abs().max() < 0.05


def test_random_rotations_reproducible_and_error() -> None:
    a = random_rotations(3, "SO3", torch.Generator().manual_seed(5))
    b = random_rotations(3, "SO3", torch.Generator().manual_seed(5))
    torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="Valid kinds: none, z, SO3, O3"):
        random_rotations(3, "SO2")


def test_rotation_about_z_quarter_turn() -> None:
    R = rotation_about_z(torch.tensor([math.pi / 2], dtype=torch.float64))[0]
    torch.testing.assert_close(
        R @ torch.tensor([1.0, 0, 0], dtype=torch.float64),
        torch.tensor([0.0, 1, 0], dtype=torch.float64),
    )


def test_rotate_per_cloud() -> None:
    pos = torch.randn(7, 3)
    batch = torch.tensor([0, 0, 0, 1, 1, 1, 1])
    R = random_rotations(2, "SO3", torch.Generator().manual_seed(0))
    out = rotate(pos, R, batch)
    torch.testing.assert_close(out[:3], pos[:3] @ R[0].T)
    torch.testing.assert_close(out[3:], pos[3:] @ R[1].T)
    torch.testing.assert_close(rotate(pos, R[0]), pos @ R[0].T)
    with pytest.raises(ValueError, match="no 'batch' vector"):
        rotate(pos, R)


def test_center_and_scale_invariance(float64: None) -> None:
    pos = torch.randn(20, 3) * 3 + 1
    batch = torch.tensor([0] * 12 + [1] * 8)
    out, rho = center_and_scale(pos, batch)
    assert rho.shape == (2,)
    for b in range(2):
        cloud = out[batch == b]
        torch.testing.assert_close(cloud.mean(0), torch.zeros(3))
        torch.testing.assert_close(cloud.pow(2).sum(1).mean(), torch.tensor(1.0))
    R = random_rotations(1, "O3", torch.Generator().manual_seed(0))[0]
    moved, rho2 = center_and_scale(2.5 * pos @ R.T - 4.0, batch)
    torch.testing.assert_close(moved, out @ R.T)
    torch.testing.assert_close(rho2, 2.5 * rho)
