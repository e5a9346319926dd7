"""kind="graph": (x, edge_index[, pos]) tuples and PyG Data / Batch, with PyG layers."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from torch import Tensor

from geodl.symmetry import check_equivariance, check_invariance, get_group, make_context
from geodl.symmetry.strategies import seeds

DTYPES = [torch.float32, torch.float64]


def _graph(dtype: torch.dtype, n: int = 7, seed: int = 0) -> tuple[Tensor, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(seed)
    pos = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    x = torch.randn(n, 4, generator=gen, dtype=torch.float64)
    src, dst = torch.nonzero(torch.cdist(pos, pos) < 1.8, as_tuple=True)
    keep = src != dst
    return x.to(dtype), torch.stack([src[keep], dst[keep]]), pos.to(dtype)


def message_passing(x: Tensor, edge_index: Tensor, pos: Tensor) -> Tensor:
    """h_i = sum_j x_j exp(-|p_i - p_j|): E(3) x S_N equivariant node features."""
    src, dst = edge_index
    w = torch.exp(-(pos[dst] - pos[src]).norm(dim=-1, keepdim=True))
    return torch.zeros_like(x).index_add_(0, dst, x[src] * w)


@pytest.mark.parametrize("dtype", DTYPES)
def test_message_passing_exact_and_planted_break(dtype: torch.dtype) -> None:
    g = _graph(dtype)
    r = check_equivariance(message_passing, "E3 x permutation", g, out_rep="per-point")
    assert r.kind == "graph" and r.verdict == "exact" and r.dtype == str(dtype)[6:]
    pooled = check_invariance(lambda *a: message_passing(*a).sum(0), "E3 x permutation", g)
    assert pooled.verdict == "exact"
    # planted break: a small absolute-position term
    bad = check_equivariance(
        lambda x, e, p: message_passing(x, e, p) + 1e-2 * p[:, :1],
        "SO3",
        g,
        out_rep="per-point",
    )
    assert bad.verdict == "broken"
    # a node-order dependence breaks the permutation only
    order = lambda x, e, p: message_passing(x, e, p) * torch.arange(x.shape[0])[:, None]  # noqa: E731
    assert check_equivariance(order, "permutation", g, out_rep="per-point").verdict == "broken"
    assert check_equivariance(order, "E3", g, out_rep="per-point").verdict == "exact"


def test_permutation_relabels_edges() -> None:
    x, ei, pos = _graph(torch.float64)
    g = get_group("permutation").sample(1, inputs=(x, ei, pos))[0]
    x2, ei2, pos2 = g.act((x, ei, pos), "graph")
    inverse = torch.argsort(g.perm)
    assert torch.equal(x2, x[g.perm]) and torch.equal(ei2, inverse[ei])
    edges = {tuple(e) for e in ei.T.tolist()}
    assert {(int(g.perm[i]), int(g.perm[j])) for i, j in ei2.T.tolist()} == edges


def test_graph_without_pos_needs_pos_for_rotations() -> None:
    x, ei, _ = _graph(torch.float64)
    assert check_invariance(lambda x, e: x[e[0]].sum(0), "permutation", (x, ei)).verdict == "exact"
    assert check_invariance(lambda x, e: x[0], "permutation", (x, ei)).verdict == "broken"
    with pytest.raises(ValueError, match="pos"):
        check_invariance(lambda x, e: x.sum(), "SO3", (x, ei))


@pytest.mark.parametrize("dtype", DTYPES)
def test_pyg_data_batch_and_layers(dtype: torch.dtype) -> None:
    from torch_geometric.data import Batch, Data
    from torch_geometric.nn import GCNConv, global_add_pool

    x, ei, pos = _graph(dtype)
    data = Data(x=x, edge_index=ei, pos=pos)
    r = check_equivariance(
        lambda d: message_passing(d.x, d.edge_index, d.pos), "E3 x permutation", data,
        out_rep="per-point",
    )  # fmt: skip
    assert r.verdict == "exact" and r.dtype == str(dtype)[6:]
    batch = Batch.from_data_list([data, Data(*_graph(dtype, 5, 1)[:2], pos=_graph(dtype, 5, 1)[2])])
    pooled = check_equivariance(
        lambda b: global_add_pool(message_passing(b.x, b.edge_index, b.pos), b.batch),
        "E3 x permutation",
        batch,
        out_rep="invariant",
    )
    assert pooled.verdict == "exact"  # permutations stay inside each graph
    torch.manual_seed(0)
    conv = GCNConv(4, 3).to(dtype)
    layer = check_equivariance(
        lambda d: conv(d.x, d.edge_index), "permutation", data, out_rep="per-point"
    )
    assert layer.verdict == "exact"
    # planted break in a PyG layer: a position embedding of the node index
    index = lambda d: conv(d.x, d.edge_index) + 1e-2 * torch.arange(d.num_nodes)[:, None]  # noqa: E731
    assert check_equivariance(index, "permutation", data, out_rep="per-point").verdict == "broken"


@settings(max_examples=10, deadline=None)
@given(seed=seeds())
def test_graph_action_is_a_homomorphism(seed: int) -> None:
    x, ei, pos = _graph(torch.float64, seed=seed % 1000)
    G = get_group("E3 x permutation")
    ctx = make_context("graph", (x, ei, pos))
    gen = torch.Generator().manual_seed(seed)
    a, b = G.sample(2, gen, ctx=ctx)
    e = G.identity(ctx=ctx)
    ab = (a @ b).act((x, ei, pos), "graph")
    a_b = a.act(b.act((x, ei, pos), "graph"), "graph")
    assert all(
        torch.allclose(u.double(), v.double(), atol=1e-12) for u, v in zip(ab, a_b, strict=True)
    )
    assert all(
        torch.equal(u, v) for u, v in zip(e.act((x, ei, pos), "graph"), (x, ei, pos), strict=True)
    )
    back = (~a).act(a.act((x, ei, pos), "graph"), "graph")
    assert all(
        torch.allclose(u.double(), v.double(), atol=1e-12)
        for u, v in zip(back, (x, ei, pos), strict=True)
    )
