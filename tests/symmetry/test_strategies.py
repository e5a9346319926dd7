"""hypothesis strategies: valid, generic inputs; property tests with the harness."""

from __future__ import annotations

from types import ModuleType

import torch
from hypothesis import given, settings

from geodl.symmetry import check_invariance, get_group
from geodl.symmetry.strategies import (
    generators,
    group_elements,
    images,
    molecules,
    permutations,
    point_clouds,
    rotations,
    sequences,
    sets,
    signals,
)

from .conftest import load_reference_models

_MODELS: ModuleType = load_reference_models()
_F32 = _MODELS.deeppot_se_float32()
_BREAK = _MODELS.injected_break()


@given(rotations(dim=3, proper=None))
def test_rotations(R: torch.Tensor) -> None:
    assert torch.allclose(R @ R.T, torch.eye(3, dtype=torch.float64), atol=1e-12)


@given(permutations(6))
def test_permutations_are_not_the_identity(p: torch.Tensor) -> None:
    assert sorted(p.tolist()) == list(range(6)) and p.tolist() != list(range(6))


@given(point_clouds(n=(2, 15), min_distance=0.5))
def test_point_clouds_keep_a_minimum_distance(x: torch.Tensor) -> None:
    d = torch.cdist(x, x) + 1e9 * torch.eye(x.shape[0], dtype=x.dtype)
    assert d.min() >= 0.5


@given(molecules(n=(2, 9), cell=True))
def test_molecules(m: tuple) -> None:
    species, pos, cell = m
    assert species.dtype == torch.long and pos.shape == (species.numel(), 3)
    assert species[0] == species[1]  # a species-preserving swap exists
    d = torch.cdist(pos, pos) + 1e9 * torch.eye(pos.shape[0], dtype=pos.dtype)
    assert d.min() >= 0.9 and torch.linalg.det(cell) > 0


@given(images(channels=(1, 3), size=(2, 8)), signals(), sequences(), sets())
def test_grids_and_sets_are_not_fixed_points(img, sig, seq, st_) -> None:
    assert not torch.equal(img, torch.rot90(img, 1, dims=(-2, -1)))
    assert not torch.equal(img, torch.roll(img, 1, dims=-1))
    assert not torch.equal(sig, torch.roll(sig, 1, dims=-1))
    assert not torch.equal(seq, torch.roll(seq, 1, dims=0))
    assert len({tuple(r) for r in st_.tolist()}) == st_.shape[0]


@given(generators())
def test_generators_are_seeded(gen: torch.Generator) -> None:
    # a fresh generator: its draws are reproduced from its seed
    again = torch.Generator().manual_seed(gen.initial_seed())
    assert torch.equal(torch.randn(2, generator=gen), torch.randn(2, generator=again))


@settings(max_examples=10)
@given(x=point_clouds(n=(4, 12), dtype=torch.float32), gen=generators())
def test_no_false_alarm_on_float32_round_off(x: torch.Tensor, gen: torch.Generator) -> None:
    r = check_invariance(_F32, "E3 x permutation", x, generator=gen)
    assert r.verdict == "exact", str(r)


@settings(max_examples=10)
@given(x=point_clouds(n=(4, 12)), gen=generators())
def test_no_missed_1e4_break_in_float64(x: torch.Tensor, gen: torch.Generator) -> None:
    r = check_invariance(_BREAK, "SO3", x, generator=gen)
    assert r.verdict == "broken" and r.max_rel_error > 1e-6


@settings(max_examples=10)
@given(data=molecules(n=(3, 8)), seed=generators())
def test_species_preserving_permutations_act_on_molecules(
    data: tuple, seed: torch.Generator
) -> None:
    G = get_group("E3 x permutation")
    h = G.sample(1, seed, inputs=data)[0]
    species, pos = h.act(data, "atoms")
    assert torch.equal(species, data[0][h.perm])


@given(data=point_clouds(n=5), g=group_elements("SO3", torch.zeros(5, 3)))
def test_group_elements(data: torch.Tensor, g) -> None:
    moved = g.act(data, "points")
    assert moved.shape == data.shape and not torch.allclose(moved, data)
    assert torch.allclose(torch.cdist(moved, moved), torch.cdist(data, data), atol=1e-9)
