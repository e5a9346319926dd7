"""The PointNet baseline and the invariant classifier, measured by geodl.symmetry."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from geodl.pointcloud import (
    InvariantPointClassifier,
    PointNetBaseline,
    PseudoscalarFeatures,
    load_classifier,
    make_shapes,
    save_classifier,
    tetris,
)
from geodl.symmetry import assert_declarations, check_invariance

SMALL = dict(
    k=6, embed_widths=(4, 8), axis_neurons=2, num_pseudoscalars=4, hidden=(16,), head=(16,)
)


def _cloud(n: int = 30) -> torch.Tensor:
    return make_shapes(1, seed=3, num_points=n, classes=["helix"], dtype=torch.float64)[0].pos


@pytest.mark.parametrize("chiral", [True, False])
@pytest.mark.parametrize("neighbors", ["knn", "radius"])
def test_invariant_classifier_declarations_hold(
    chiral: bool, neighbors: str, float64: None
) -> None:
    model = InvariantPointClassifier(
        5,
        neighbors=neighbors,
        chiral=chiral,
        r_cut=1.2 if neighbors == "radius" else 4.0,
        r_smooth=0.6 if neighbors == "radius" else 2.0,
        **SMALL,
    )
    reports = assert_declarations(model, _cloud(), samples=4)
    verdicts = {r.group: r.verdict for r in reports}
    assert verdicts["SO3"] == verdicts["SE3"] == verdicts["permutation"] == "exact"
    assert verdicts["translation"] == "exact"
    assert verdicts["O3"] == ("broken" if chiral else "exact")
    assert model.group == ("SO3" if chiral else "O3")


def test_pointnet_declarations_hold(float64: None) -> None:
    model = PointNetBaseline(4, hidden=(16, 16), head=(8,))
    verdicts = {r.group: r.verdict for r in assert_declarations(model, _cloud(), samples=4)}
    assert verdicts == {"permutation": "exact", "translation": "exact", "SO3": "broken"}


def test_scale_invariance_of_both_models(float64: None) -> None:
    pos = _cloud()
    for model in (InvariantPointClassifier(3, **SMALL), PointNetBaseline(3, hidden=(8,))):
        model.eval()
        torch.testing.assert_close(model(3.7 * pos), model(pos), rtol=1e-8, atol=1e-10)


def test_chiral_model_tells_mirror_tetris_apart_o3_model_cannot(float64: None) -> None:
    pos, _ = tetris(torch.float64)
    kw = dict(SMALL, k=3)
    chiral = InvariantPointClassifier(8, chiral=True, **kw).eval()
    achiral = InvariantPointClassifier(8, chiral=False, **kw).eval()
    a, b = pos[0], pos[1]
    torch.testing.assert_close(achiral(a), achiral(b), rtol=1e-9, atol=1e-12)
    assert (chiral(a) - chiral(b)).abs().max() > 1e-6
    # the chiral features themselves: pseudoscalars flip sign between mirror images
    feats = PseudoscalarFeatures(3, r_cut=4.0).double()
    i, j = torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij")
    mask = i != j
    i, j = i[mask], j[mask]
    pa = feats(a[j] - a[i], i, 4).sum(0)
    pb = feats(b[j] - b[i], i, 4).sum(0)
    torch.testing.assert_close(pa, -pb)
    assert pa.abs().max() > 1e-3


def test_invariant_model_check_invariance_directly(float64: None) -> None:
    model = InvariantPointClassifier(4, **SMALL)
    report = check_invariance(model, "E3", _cloud(), kind="points", samples=4)
    assert report.verdict == "broken"  # chiral by default: reflections change the logits
    report = check_invariance(model, "SE3", _cloud(), kind="points", samples=4)
    assert report.verdict == "exact" and report.max_rel_error < 1e-10


def test_batched_equals_single_and_shapes() -> None:
    clouds = make_shapes(1, seed=0, num_points=(20, 40), classes=["cube", "torus", "cone"])
    pos = torch.cat([d.pos for d in clouds])
    batch = torch.cat([torch.full((d.pos.shape[0],), i) for i, d in enumerate(clouds)])
    for model in (InvariantPointClassifier(6, **SMALL), PointNetBaseline(6, hidden=(8,))):
        model.eval()
        out = model(pos, batch)
        assert out.shape == (3, 6)
        for i, d in enumerate(clouds):
            torch.testing.assert_close(out[i], model(d.pos), rtol=1e-4, atol=1e-5)


def test_fit_statistics_standardises_features() -> None:
    data = make_shapes(2, seed=0, num_points=32, classes=["sphere", "slab"])
    model = InvariantPointClassifier(2, **SMALL)
    model.fit_statistics(data)
    h = torch.cat([model.point_features(d.pos) for d in data])
    torch.testing.assert_close(h.mean(0), torch.zeros(h.shape[1]), atol=1e-4, rtol=0)
    varying = model.feature_std > 1e-3
    torch.testing.assert_close(h.std(0)[varying], torch.ones(int(varying.sum())), atol=0.05, rtol=0)
    with pytest.raises(ValueError, match="'data' is empty"):
        model.fit_statistics([])


def test_repr_and_errors() -> None:
    model = InvariantPointClassifier(3, **SMALL)
    text = repr(model)
    assert "num_classes=3, neighbors='knn', k=6" in text and "invariant under SO3" in text
    assert "SeADescriptor" in text and "DeepSets" in text
    assert "num_features=4" in repr(model.pseudoscalars)
    assert "num_classes=2" in repr(PointNetBaseline(2))
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        model(torch.randn(10, 2))
    with pytest.raises(ValueError, match="at least 2 points"):
        model(torch.randn(1, 3))
    with pytest.raises(ValueError, match="'batch' must be a LongTensor"):
        model(torch.randn(10, 3), torch.zeros(9, dtype=torch.long))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[0.0, 0.0, 0.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Valid: knn, radius"):
        InvariantPointClassifier(3, neighbors="grid")
    with pytest.raises(ValueError, match="'k' must be a positive int"):
        InvariantPointClassifier(3, k=0)


def test_save_load_roundtrip(tmp_path: Path) -> None:
    model = InvariantPointClassifier(3, **SMALL)
    model.fit_statistics(make_shapes(1, seed=0, num_points=20, classes=["cube", "cone"]))
    model.eval()
    save_classifier(model, tmp_path / "m.pt")
    loaded = load_classifier(tmp_path / "m.pt")
    pos = torch.randn(25, 3)
    torch.testing.assert_close(loaded(pos), model(pos))
    assert loaded.config == model.config
    torch.save({"foo": 1}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a geodl point-cloud classifier"):
        load_classifier(tmp_path / "bad.pt")
    with pytest.raises(TypeError, match="expected one of"):
        save_classifier(torch.nn.Linear(2, 2), tmp_path / "x.pt")
