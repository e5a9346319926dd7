"""Output representations are homomorphisms and match e3nn."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from geodl.symmetry import GroupElement, apply_rep, get_group, haar_orthogonal, validate_rep
from geodl.symmetry._reps import irreps_matrix
from geodl.symmetry.strategies import seeds

F64 = torch.float64

_REPS = [
    ("invariant", (4,)),
    ("equivariant", (5, 3)),
    ("vector", (3,)),
    ("pseudovector", (2, 3)),
    ("rank2", (3, 3)),
    ("per-point", (5, 2)),
    ("per-point:vector", (5, 3)),
    ("per-point:rank2", (5, 3, 3)),
    ("per-point:1x0e + 1x1o", (5, 4)),
    ("pairwise", (5, 5, 2)),
    ("pairwise:vector", (5, 5, 3)),
    ("2x0e + 1x1o + 1x2e", (2 + 3 + 5,)),
    ("1x1e + 1x0o", (4,)),
]


@settings(max_examples=10)
@given(seed=seeds())
@pytest.mark.parametrize(("rep", "shape"), _REPS)
def test_representation_is_a_homomorphism(rep: str, shape: tuple[int, ...], seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(5, 3, dtype=F64, generator=gen)
    G = get_group("E3 x permutation")
    g, h = G.sample(2, gen, inputs=x)
    y = torch.randn(*shape, dtype=F64, generator=gen)
    lhs = apply_rep(rep, g @ h, y, "points")
    rhs = apply_rep(rep, g, apply_rep(rep, h, y, "points"), "points")
    assert torch.allclose(lhs, rhs, atol=1e-12)
    # the identity acts trivially, and rho(g^-1) rho(g) = 1
    assert torch.allclose(apply_rep(rep, G.identity(inputs=x), y, "points"), y)
    back = apply_rep(rep, ~g, apply_rep(rep, g, y, "points"), "points")
    assert torch.allclose(back, y, atol=1e-12)


def test_vector_and_pseudovector_differ_by_det() -> None:
    R = haar_orthogonal(1, 3, torch.Generator().manual_seed(0), proper=False)[0]
    g = GroupElement("O3", rotation=R)
    y = torch.randn(3, dtype=F64)
    assert torch.allclose(apply_rep("vector", g, y, "points"), R @ y)
    assert torch.allclose(apply_rep("pseudovector", g, y, "points"), -(R @ y))
    assert torch.allclose(apply_rep("1x1o", g, y, "points"), R @ y, atol=1e-13)
    assert torch.allclose(apply_rep("1x1e", g, y, "points"), -(R @ y), atol=1e-13)


@pytest.mark.parametrize("proper", [True, False])
def test_irreps_matrix_matches_e3nn_and_is_orthogonal(proper: bool) -> None:
    from e3nn import o3

    R = haar_orthogonal(1, 3, torch.Generator().manual_seed(3), proper=proper)[0]
    text = "2x0e + 1x1o + 1x2e + 1x3o + 1x0o"
    D = irreps_matrix(text, R)
    assert torch.allclose(D, o3.Irreps(text).D_from_matrix(R), atol=1e-5)
    assert torch.allclose(D @ D.T, torch.eye(D.shape[0], dtype=F64), atol=1e-13)


def test_validate_rep_lists_valid_choices() -> None:
    assert validate_rep(" invariant ") == "invariant"
    assert validate_rep("per-point:vector") == "per-point:vector"
    with pytest.raises(ValueError, match=r"unknown representation 'spinor'.*invariant"):
        validate_rep("spinor")
    with pytest.raises(ValueError, match="irreps"):
        validate_rep("1x1q")
    with pytest.raises(TypeError, match="string"):
        validate_rep(3)  # type: ignore[arg-type]


def test_shape_errors_are_readable() -> None:
    g = get_group("SO3").sample(1)[0]
    with pytest.raises(ValueError, match="size 4"):
        apply_rep("1x0e + 1x1o", g, torch.randn(3, dtype=F64), "points")
    with pytest.raises(ValueError, match=r"rank2.*\(\.\.\., d, d\)"):
        apply_rep("rank2", g, torch.randn(3, dtype=F64), "points")
    p = get_group("permutation").sample(1, inputs=torch.randn(4, 3))[0]
    with pytest.raises(ValueError, match="one row per point"):
        apply_rep("per-point", p, torch.randn(3, dtype=F64), "points")


def test_equivariant_on_grids_acts_on_the_trailing_axes() -> None:
    x = torch.randn(1, 4, 4, dtype=F64)
    g = get_group("D4").elements(inputs=x)[5]
    fmap = torch.randn(3, 4, 4, dtype=F64)
    assert torch.equal(apply_rep("equivariant", g, fmap, "image"), g.act_grid(fmap, "image"))
    seq = torch.randn(6, 2, dtype=F64)
    s = get_group("time-shift").sample(1, inputs=seq)[0]
    assert torch.equal(
        apply_rep("equivariant", s, seq, "sequence"), torch.roll(seq, s.shift, dims=0)
    )
