"""Training and evaluation under orientation protocols."""

from __future__ import annotations

import pytest
import torch

from geodl.pointcloud import (
    InvariantPointClassifier,
    PointNetBaseline,
    evaluate,
    permute_points,
    predict,
    subsample_points,
    tetris_dataset,
    train_classifier,
)


def test_invariant_model_learns_tetris_and_keeps_it_under_rotation() -> None:
    torch.manual_seed(0)
    model = InvariantPointClassifier(
        8, k=3, embed_widths=(8, 16), axis_neurons=4, num_pseudoscalars=4, hidden=(32,), head=(32,)
    )
    train = tetris_dataset(copies=4, orientation="none")
    hist = train_classifier(model, train, epochs=40, batch_size=32, lr=1e-2, orientation="none")
    assert hist["train_accuracy"][-1] == 1.0
    test = tetris_dataset(copies=5, orientation="SO3", seed=1, translate=2.0)
    assert evaluate(model, test) == 1.0


def test_protocol_is_reproducible_and_predict_shapes() -> None:
    data = tetris_dataset(copies=2, orientation="none")
    model = PointNetBaseline(8, hidden=(16,), head=())
    pred, y = predict(model, data, orientation="SO3", seed=0)
    pred2, _ = predict(model, data, orientation="SO3", seed=0)
    assert pred.shape == y.shape == (16,) and torch.equal(pred, pred2)
    hist = train_classifier(model, data, epochs=2, orientation="z", val_data=data)
    assert len(hist["val_accuracy"]) == 2 and 0.0 <= hist["val_accuracy"][-1] <= 1.0


def test_permute_and_subsample() -> None:
    data = tetris_dataset(copies=1)
    perm = permute_points(data, seed=0)
    for p, d in zip(perm, data, strict=True):
        assert sorted(map(tuple, p.pos.tolist())) == sorted(map(tuple, d.pos.tolist()))
        assert torch.equal(p.y, d.y)
    # the points really are reordered (not returned unchanged)
    assert any(not torch.equal(p.pos, d.pos) for p, d in zip(perm, data, strict=True))
    from geodl.pointcloud import make_shapes

    clouds = make_shapes(1, num_points=40, classes=["cube"])
    half = subsample_points(clouds, 0.5, seed=0)
    assert half[0].pos.shape == (20, 3) and half[0].num_nodes == 20
    # a subset of the original points, each kept at most once, in their original order
    idx = [clouds[0].pos.tolist().index(q) for q in half[0].pos.tolist()]
    assert idx == sorted(set(idx))
    with pytest.raises(ValueError, match="'fraction' must be in"):
        subsample_points(clouds, 0.0)


def test_train_errors() -> None:
    model = PointNetBaseline(8)
    with pytest.raises(ValueError, match="Valid: none, z, SO3, O3"):
        train_classifier(model, tetris_dataset(), orientation="SO2")
    with pytest.raises(ValueError, match="'epochs'"):
        train_classifier(model, tetris_dataset(), epochs=0)
    with pytest.raises(ValueError, match="empty"):
        train_classifier(model, [])
    with pytest.raises(ValueError, match="empty"):
        evaluate(model, [])


def test_point_dropout_keeps_every_cloud_and_trains() -> None:
    from geodl.pointcloud._train import _drop_points

    pos = torch.randn(30, 3)
    batch = torch.tensor([0] * 5 + [1] * 20 + [2] * 5)
    g = torch.Generator().manual_seed(0)
    kept_pos, kept_batch = _drop_points(pos, batch, 3, 0.9, g)
    counts = torch.bincount(kept_batch, minlength=3)
    assert (counts >= 4).all() and counts.sum() < 30
    assert kept_pos.shape == (len(kept_batch), 3)
    model = PointNetBaseline(8, hidden=(8,), head=())
    hist = train_classifier(model, tetris_dataset(copies=2), epochs=1, point_dropout=0.5)
    assert len(hist["loss"]) == 1
    with pytest.raises(ValueError, match="'point_dropout' must be in"):
        train_classifier(model, tetris_dataset(), point_dropout=1.0)
