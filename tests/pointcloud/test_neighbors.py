"""kNN and radius neighbour graphs of batched clouds (torch / vesin)."""

from __future__ import annotations

import pytest
import torch

from geodl.pointcloud import NEIGHBORHOODS, knn_edges, neighbor_edges, radius_edges


def _edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return set(zip(edge_index[0].tolist(), edge_index[1].tolist(), strict=True))


def _brute(pos: torch.Tensor, batch: torch.Tensor, k: int | None, r: float | None) -> set:
    out = set()
    d = torch.cdist(pos, pos)
    for i in range(len(pos)):
        same = (batch == batch[i]) & (torch.arange(len(pos)) != i)
        cand = same.nonzero()[:, 0]
        if k is not None:
            chosen = cand[d[i, cand].argsort()[:k]]
        else:
            chosen = cand[d[i, cand] < r]
        out |= {(i, int(j)) for j in chosen}
    return out


def test_knn_matches_brute_force() -> None:
    pos = torch.randn(40, 3, dtype=torch.float64)
    batch = torch.tensor([0] * 15 + [1] * 20 + [2] * 5)
    assert _edge_set(knn_edges(pos, 6, batch)) == _brute(pos, batch, 6, None)


def test_radius_matches_brute_force() -> None:
    pos = torch.randn(40, 3, dtype=torch.float64)
    batch = torch.tensor([0] * 15 + [1] * 20 + [2] * 5)
    assert _edge_set(radius_edges(pos, 0.9, batch)) == _brute(pos, batch, None, 0.9)


def test_small_cloud_connects_everything_and_registry() -> None:
    pos = torch.randn(3, 3)
    assert len(_edge_set(knn_edges(pos, 10))) == 6
    assert set(NEIGHBORHOODS) == {"knn", "radius"}
    assert neighbor_edges(pos, "radius", 100.0).shape == (2, 6)
    with pytest.raises(ValueError, match="Valid: knn, radius"):
        neighbor_edges(pos, "delaunay", 3)


def test_edges_invariant_under_rotation_and_equivariant_under_permutation() -> None:
    pos = torch.randn(30, 3, dtype=torch.float64)
    Q = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))[0]
    for fn, p in ((knn_edges, 5), (radius_edges, 1.0)):
        edges = _edge_set(fn(pos, p))
        assert _edge_set(fn(pos @ Q.T + 2.0, p)) == edges
        perm = torch.randperm(30)
        moved = fn(pos[perm], p)
        assert _edge_set(perm[moved]) == edges


def test_neighbor_errors() -> None:
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        knn_edges(torch.randn(4, 2), 2)
    with pytest.raises(ValueError, match="'k' must be a positive integer"):
        knn_edges(torch.randn(4, 3), 0)
    with pytest.raises(ValueError, match="'r_cut' must be a positive number"):
        radius_edges(torch.randn(4, 3), -1.0)
    with pytest.raises(ValueError, match="must be sorted"):
        knn_edges(torch.randn(4, 3), 1, torch.tensor([1, 1, 0, 0]))
