"""DeepSets, SetLayer and the pooling registry."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from geodl.nn import POOLINGS, DeepSets, SetLayer, get_pooling, segment_pool
from geodl.symmetry import assert_declarations, check_invariance


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_segment_pool_matches_a_loop(reduce: str) -> None:
    x = torch.randn(9, 4)
    batch = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2])
    out = segment_pool(x, batch, reduce=reduce)
    ref = {"sum": torch.sum, "mean": torch.mean, "max": lambda t, dim: t.max(dim).values}[reduce]
    expected = torch.stack([ref(x[batch == b], dim=0) for b in range(3)])
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(segment_pool(x[:3], None, reduce=reduce), expected[0])


def test_segment_pool_empty_segment_gives_zeros() -> None:
    out = segment_pool(torch.ones(2, 3), torch.tensor([0, 2]), size=3, reduce="max")
    assert out[1].eq(0).all() and out[0].eq(1).all()


def test_pooling_registry_lists_choices() -> None:
    assert set(POOLINGS) == {"sum", "mean", "max"}
    with pytest.raises(ValueError, match="Valid poolings: sum, mean, max"):
        get_pooling("median")
    with pytest.raises(TypeError, match="must be a string"):
        get_pooling(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_deepsets_declarations_hold(pooling: str, float64: None) -> None:
    model = DeepSets(3, 2, hidden=(8, 8), head=(8,), pooling=pooling)
    reports = assert_declarations(model, torch.randn(7, 3))
    assert [r.verdict for r in reports] == ["exact"]


@given(st.integers(2, 12), st.integers(0, 10_000))
def test_deepsets_permutation_invariant_property(n: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    model = DeepSets(2, 3, hidden=(8,), head=(), pooling="sum").double()
    x = torch.randn(n, 2, generator=g, dtype=torch.float64)
    perm = torch.randperm(n, generator=g)
    torch.testing.assert_close(model(x[perm]), model(x), rtol=1e-12, atol=1e-12)


def test_deepsets_batched_equals_one_by_one() -> None:
    model = DeepSets(3, 2, hidden=(8, 8), head=(8,), pooling="mean", norm=True).eval()
    sets = [torch.randn(n, 3) for n in (2, 5, 3)]
    batch = torch.cat([torch.full((len(s),), i) for i, s in enumerate(sets)])
    out = model(torch.cat(sets), batch)
    assert out.shape == (3, 2)
    for i, s in enumerate(sets):
        torch.testing.assert_close(out[i], model(s), rtol=1e-5, atol=1e-6)
    dense = torch.randn(4, 6, 3)
    torch.testing.assert_close(model(dense)[1], model(dense[1]), rtol=1e-5, atol=1e-6)


def test_deepsets_sum_pooling_is_sensitive_to_multiplicity_mean_is_not() -> None:
    x = torch.randn(3, 2)
    twice = torch.cat([x, x])
    mean = DeepSets(2, 1, hidden=(4,), head=(), pooling="mean")
    torch.testing.assert_close(mean(twice), mean(x))
    total = DeepSets(2, 1, hidden=(4,), head=(), pooling="sum")
    pooled = segment_pool(total.g(x), None, reduce="sum")
    torch.testing.assert_close(segment_pool(total.g(twice), None, reduce="sum"), 2 * pooled)


def test_deepsets_single_set_in_training_mode_with_norm() -> None:
    model = DeepSets(3, 2, hidden=(4,), head=(), norm=True)
    model.train()
    x = torch.randn(5, 3)
    torch.testing.assert_close(model(x), model(x[torch.randperm(5)]))


def test_deepsets_repr_and_errors() -> None:
    model = DeepSets(3, 2, hidden=(8,), head=(), pooling="max")
    assert "in_features=3, out_features=2, pooling='max', norm=False" in repr(model)
    with pytest.raises(ValueError, match="expected 3 features per element, got 4"):
        model(torch.randn(5, 4))
    with pytest.raises(ValueError, match=r"shape \(N, F\)"):
        model(torch.randn(5))
    with pytest.raises(ValueError, match="'batch' must be a LongTensor"):
        model(torch.randn(5, 3), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="not both"):
        model(torch.randn(2, 5, 3), torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValueError, match="Valid poolings"):
        DeepSets(3, 2, pooling="median")
    with pytest.raises(ValueError, match="'hidden' must be a sequence of positive integers"):
        DeepSets(3, 2, hidden=(0,))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model([[1.0, 2.0, 3.0]])  # type: ignore[arg-type]


@pytest.mark.parametrize("pooling", ["sum", "mean", "max"])
def test_set_layer_equivariant(pooling: str, float64: None) -> None:
    layer = SetLayer(3, 4, pooling=pooling)
    reports = assert_declarations(layer, torch.randn(6, 3))
    assert reports[0].verdict == "exact"
    x, perm = torch.randn(6, 3), torch.randperm(6)
    torch.testing.assert_close(layer(x)[perm], layer(x[perm]))


def test_set_layer_batched_and_repr() -> None:
    layer = SetLayer(2, 3, pooling="max")
    assert "in_features=2, out_features=3, pooling='max'" in repr(layer)
    a, b = torch.randn(3, 2), torch.randn(4, 2)
    out = layer(torch.cat([a, b]), torch.tensor([0, 0, 0, 1, 1, 1, 1]))
    torch.testing.assert_close(out[:3], layer(a))
    torch.testing.assert_close(out[3:], layer(b))
    assert layer(torch.randn(2, 5, 2)).shape == (2, 5, 3)


def test_stacked_set_layers_then_pool_is_invariant(float64: None) -> None:
    net = torch.nn.Sequential(SetLayer(3, 8), torch.nn.Tanh(), SetLayer(8, 8))

    def model(x: torch.Tensor) -> torch.Tensor:
        return segment_pool(net(x), None, reduce="sum")

    assert check_invariance(model, "permutation", torch.randn(7, 3), kind="set").verdict == "exact"
