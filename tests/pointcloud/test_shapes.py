"""The procedural shape dataset."""

from __future__ import annotations

import pytest
import torch

from geodl.pointcloud import SHAPE_CLASSES, make_shapes, sample_surface, shape_mesh, shape_splits


def test_at_least_ten_classes_all_meshes_valid() -> None:
    assert len(SHAPE_CLASSES) >= 10
    g = torch.Generator().manual_seed(0)
    for name in SHAPE_CLASSES:
        verts, faces = shape_mesh(name, g)
        assert verts.shape[1] == 3 and faces.shape[1] == 3
        assert int(faces.max()) < len(verts) and int(faces.min()) >= 0
        pts = sample_surface(verts, faces, 50, g)
        assert pts.shape == (50, 3) and torch.isfinite(pts).all()


def test_sampling_is_on_the_surface_and_by_area() -> None:
    g = torch.Generator().manual_seed(0)
    verts, faces = shape_mesh("sphere", g)
    pts = sample_surface(verts, faces, 2000, g)
    assert ((pts.norm(dim=1) - 1).abs() < 0.01).all()
    # by area: the two polar caps above |z| > 0.5 hold half the area of a sphere
    assert abs(float((pts[:, 2].abs() > 0.5).float().mean()) - 0.5) < 0.05
    # a 2 x 1 rectangle made of two unequal triangles: uniform in x
    v = torch.tensor([[0.0, 0, 0], [2, 0, 0], [2, 1, 0], [0, 1, 0]], dtype=torch.float64)
    f = torch.tensor([[0, 1, 2], [0, 2, 3]])
    p = sample_surface(v, f, 4000, g)
    assert abs(float((p[:, 0] < 1).float().mean()) - 0.5) < 0.04


def test_make_shapes_random_sizes_counts_labels() -> None:
    data = make_shapes(3, seed=1, num_points=(20, 40), classes=["sphere", "cube", "torus"])
    assert len(data) == 9
    assert [int(d.y) for d in data] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    counts = {d.pos.shape[0] for d in data}
    assert all(20 <= c <= 40 for c in counts) and len(counts) > 1
    radii = [float(d.pos.norm(dim=1).mean()) for d in data[:3]]
    assert max(radii) / min(radii) > 1.05  # random sizes
    again = make_shapes(3, seed=1, num_points=(20, 40), classes=["sphere", "cube", "torus"])
    torch.testing.assert_close(again[4].pos, data[4].pos)


def test_splits_differ_and_are_reproducible() -> None:
    a = shape_splits(0, 1, 1, 1, num_points=16)
    b = shape_splits(0, 1, 1, 1, num_points=16)
    c = shape_splits(1, 1, 1, 1, num_points=16)
    torch.testing.assert_close(a["test"][0].pos, b["test"][0].pos)
    assert not torch.allclose(a["test"][0].pos, a["train"][0].pos)
    assert not torch.allclose(a["test"][0].pos, c["test"][0].pos)
    bigger = shape_splits(0, 2, 1, 1, num_points=16)
    torch.testing.assert_close(bigger["test"][0].pos, a["test"][0].pos)


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="Valid classes: sphere"):
        shape_mesh("banana")
    with pytest.raises(ValueError, match="Valid classes"):
        make_shapes(1, classes=["banana"])
    with pytest.raises(ValueError, match="'num_points'"):
        make_shapes(1, num_points=(10, 5))
    with pytest.raises(ValueError, match="'num_per_class'"):
        make_shapes(0)
    with pytest.raises(ValueError, match=r"shape \(F, 3\)"):
        sample_surface(torch.zeros(4, 3), torch.zeros(2, 4, dtype=torch.long), 3)
