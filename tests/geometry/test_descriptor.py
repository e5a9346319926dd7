from __future__ import annotations

import pytest
import torch

from geodl.atoms import SeADescriptor
from geodl.geometry import padding_slots, segment_outer_sum


def _random_env(num_atoms: int = 5, num_edges: int = 30, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    center = torch.randint(0, num_atoms, (num_edges,), generator=gen)
    vec = torch.randn(num_edges, 3, generator=gen, dtype=torch.float64) * 1.5
    vec = (
        vec / vec.norm(dim=1, keepdim=True) * (0.8 + 2.5 * torch.rand(num_edges, 1, generator=gen))
    )
    types = torch.randint(0, 2, (num_atoms,), generator=gen)
    ntype = torch.randint(0, 2, (num_edges,), generator=gen)
    return vec, center, ntype, types


def _descriptor(**kw: object) -> SeADescriptor:
    args: dict[str, object] = dict(
        num_types=2, r_cut=4.0, r_smooth=2.0, embed_widths=(5, 10), axis_neurons=3
    )
    args.update(kw)
    return SeADescriptor(**args).double()  # type: ignore[arg-type]


def test_shape_and_repr() -> None:
    desc = _descriptor()
    vec, center, ntype, types = _random_env()
    assert desc(vec, center, ntype, types).shape == (5, 30)
    assert desc.out_features == 30
    text = repr(desc)
    assert "SeADescriptor(" in text and "axis_neurons=3" in text and "r_cut=4.0" in text


@pytest.mark.parametrize("type_one_side", [True, False])
def test_rotation_reflection_invariance(type_one_side: bool) -> None:
    desc = _descriptor(type_one_side=type_one_side)
    vec, center, ntype, types = _random_env()
    ref = desc(vec, center, ntype, types)
    q, _ = torch.linalg.qr(torch.randn(3, 3, dtype=torch.float64))
    for rot in (q, -q, torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))):
        out = desc(vec @ rot.T, center, ntype, types)
        assert torch.allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_dense_and_scatter_aggregation_agree() -> None:
    dense = _descriptor(type_one_side=False)
    scatter = _descriptor(type_one_side=False, aggregation="scatter")
    scatter.load_state_dict(dense.state_dict())
    vec, center, ntype, types = _random_env()
    vec.requires_grad_(True)
    a, b = dense(vec, center, ntype, types), scatter(vec, center, ntype, types)
    assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    (ga,) = torch.autograd.grad(a.sum(), vec)
    (gb,) = torch.autograd.grad(b.sum(), vec)
    assert torch.allclose(ga, gb, rtol=1e-10, atol=1e-12)


def test_neighbour_permutation_and_unsorted_edges() -> None:
    desc = _descriptor()
    vec, center, ntype, types = _random_env()
    perm = torch.randperm(len(center))
    ref = desc(vec, center, ntype, types)
    out = desc(vec[perm], center[perm], ntype[perm], types)
    assert torch.allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_not_the_lecture_gram_matrix() -> None:
    """D is not a function of distances only: angles matter (unlike Omega = R R^T's trace)."""
    desc = _descriptor(num_types=1)
    center = torch.tensor([0, 0])
    types = torch.zeros(1, dtype=torch.long)
    a = torch.tensor([[1.5, 0.0, 0.0], [0.0, 1.5, 0.0]], dtype=torch.float64)
    b = torch.tensor([[1.5, 0.0, 0.0], [-1.5, 0.0, 0.0]], dtype=torch.float64)
    nt = torch.zeros(2, dtype=torch.long)
    assert not torch.allclose(desc(a, center, nt, types), desc(b, center, nt, types))


def test_smooth_when_neighbour_leaves_cutoff() -> None:
    desc = _descriptor()
    types = torch.tensor([0, 1])
    nt = torch.tensor([1, 0])
    center = torch.tensor([0, 0])

    def value(r: float) -> torch.Tensor:
        vec = torch.tensor([[1.2, 0.3, 0.0], [r, 0.0, 0.0]], dtype=torch.float64)
        return desc(vec, center, nt, types)

    inside, outside_edge_dropped = (
        value(4.0 - 1e-7),
        desc(torch.tensor([[1.2, 0.3, 0.0]], dtype=torch.float64), center[:1], nt[:1], types),
    )
    assert torch.allclose(inside, outside_edge_dropped, atol=1e-12)


def test_segment_outer_sum_matches_naive() -> None:
    gen = torch.Generator().manual_seed(3)
    center = torch.randint(0, 4, (25,), generator=gen)
    g = torch.randn(25, 7, generator=gen)
    env = torch.randn(25, 4, generator=gen)
    naive = torch.zeros(4, 4, 7).index_add(0, center, env[:, :, None] * g[:, None, :])
    assert torch.allclose(segment_outer_sum(g, env, center, 4), naive, atol=1e-5)
    # atom 5 has no neighbours: a zero block
    assert segment_outer_sum(g, env, center, 6)[4:].abs().max() == 0


def test_padding_slots_unique() -> None:
    center = torch.tensor([2, 0, 2, 1, 2, 0])
    slot, n_max = padding_slots(center, 4)
    assert n_max == 3
    assert len(set(slot.tolist())) == len(slot)
    assert bool(((slot // n_max) == center).all())


def test_no_edges() -> None:
    desc = _descriptor()
    out = desc(
        torch.zeros(0, 3, dtype=torch.float64),
        torch.zeros(0, dtype=torch.long),
        torch.zeros(0, dtype=torch.long),
        torch.tensor([0, 1]),
    )
    assert out.shape == (2, 30) and out.abs().max() == 0


def test_set_statistics_rescales_only() -> None:
    desc = _descriptor()
    desc.set_statistics(
        torch.tensor([0.3, 0.2]),
        torch.tensor([0.1, 0.2]),
        torch.tensor([0.5, 0.5]),
        torch.tensor([0.25, 0.25]),
        12.0,
    )
    assert desc.neighbor_norm.item() == 12.0
    assert torch.allclose(
        desc.env_inv_std[0], torch.tensor([2.0, 4.0, 4.0, 4.0], dtype=torch.float64)
    )


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(num_types=0), "num_types"),
        (dict(r_smooth=5.0), "r_smooth"),
        (dict(axis_neurons=11), "axis_neurons"),
        (dict(embed_widths=()), "embed_widths"),
        (dict(neighbor_norm=-1.0), "neighbor_norm"),
        (dict(activation="relu6"), "Valid names"),
        (dict(aggregation="sum"), "Valid aggregations: dense, scatter"),
    ],
)
def test_bad_arguments(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _descriptor(**kw)
