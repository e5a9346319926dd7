"""ModelNet folder reader on small OFF files written by the test."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geodl.pointcloud import ModelNetFolder, read_off

CUBE = """OFF
# a unit cube with quad faces
8 6 0
0 0 0
1 0 0
1 1 0
0 1 0
0 0 1
1 0 1
1 1 1
0 1 1
4 0 3 2 1
4 4 5 6 7
4 0 1 5 4
4 1 2 6 5
4 2 3 7 6
4 3 0 4 7
"""

# ModelNet's header glitch: counts on the OFF line; a flat 4 x 1 strip of two triangles
STRIP = "OFF4 2 0\n0 0 0\n4 0 0\n4 1 0\n0 1 0\n3 0 1 2\n3 0 2 3\n"


def _write_tree(root: Path) -> None:
    for cls, text in (("cube", CUBE), ("strip", STRIP)):
        for split, n in (("train", 2), ("test", 1)):
            folder = root / cls / split
            folder.mkdir(parents=True)
            for k in range(n):
                (folder / f"{cls}_{k:04d}.off").write_text(text)


def test_read_off_quads_comments_and_glitch(tmp_path: Path) -> None:
    (tmp_path / "cube.off").write_text(CUBE)
    verts, faces = read_off(tmp_path / "cube.off")
    assert verts.shape == (8, 3) and faces.shape == (12, 3)
    (tmp_path / "strip.off").write_text(STRIP)
    verts, faces = read_off(tmp_path / "strip.off")
    assert verts.shape == (4, 3) and faces.shape == (2, 3)
    (tmp_path / "bad.off").write_text("PLY\n")
    with pytest.raises(ValueError, match="not an OFF file"):
        read_off(tmp_path / "bad.off")


def test_folder_layout_labels_and_area_sampling(tmp_path: Path) -> None:
    _write_tree(tmp_path)
    train = ModelNetFolder(tmp_path, "train", num_points=500, seed=0)
    test = ModelNetFolder(tmp_path, "test", num_points=500)
    assert train.classes == ["cube", "strip"] and len(train) == 4 and len(test) == 2
    assert [int(train[i].y) for i in range(4)] == [0, 0, 1, 1]
    cube = train[0].pos
    assert cube.shape == (500, 3)
    # on the surface of the unit cube: one coordinate is 0 or 1
    on_face = ((cube - cube.round()).abs() < 1e-5).any(dim=1)
    assert on_face.all() and (cube >= -1e-6).all() and (cube <= 1 + 1e-6).all()
    # by area: the strip is uniform in x over [0, 4]
    strip = train[2].pos
    assert abs(float((strip[:, 0] < 2).float().mean()) - 0.5) < 0.1
    # reproducible, cached, batched by PyG
    again = ModelNetFolder(tmp_path, "train", num_points=500, seed=0)
    torch.testing.assert_close(again[1].pos, train[1].pos)
    from torch_geometric.loader import DataLoader

    batch = next(iter(DataLoader(train, batch_size=4)))
    assert batch.pos.shape == (2000, 3) and batch.y.tolist() == [0, 0, 1, 1]
    assert "classes=2" in repr(train)


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a folder"):
        ModelNetFolder(tmp_path / "missing")
    _write_tree(tmp_path)
    with pytest.raises(ValueError, match="'split' must be one of"):
        ModelNetFolder(tmp_path, "val")
    with pytest.raises(ValueError, match="Classes found: cube, strip"):
        ModelNetFolder(tmp_path, classes=["chair"])
