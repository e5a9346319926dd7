"""Groups: axioms, Haar sampling, finite element lists, actions as homomorphisms."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from geodl.symmetry import (
    GROUPS,
    get_group,
    groups_acting_on,
    haar_orthogonal,
    make_context,
    product,
    rotation_about,
)
from geodl.symmetry.strategies import seeds

F64 = torch.float64

# one generic input per kind, and the groups acting on it
_INPUTS = {
    "points3": ("points", torch.randn(6, 3, dtype=F64, generator=torch.Generator().manual_seed(1))),
    "points2": ("points", torch.randn(5, 2, dtype=F64, generator=torch.Generator().manual_seed(2))),
    "set": ("set", torch.randn(5, 4, dtype=F64, generator=torch.Generator().manual_seed(3))),
    "image": ("image", torch.randn(2, 6, 6, dtype=F64, generator=torch.Generator().manual_seed(4))),
    "signal": ("signal", torch.randn(2, 9, dtype=F64, generator=torch.Generator().manual_seed(5))),
    "sequence": (
        "sequence",
        torch.randn(7, 3, dtype=F64, generator=torch.Generator().manual_seed(6)),
    ),
    "voxels": (
        "voxels",
        torch.randn(1, 4, 4, 4, dtype=F64, generator=torch.Generator().manual_seed(8)),
    ),
    "atoms": (
        "atoms",
        (
            torch.tensor([0, 1, 0, 1, 0, 2]),
            torch.randn(6, 3, dtype=F64, generator=torch.Generator().manual_seed(7)),
            torch.eye(3, dtype=F64) * 4,
        ),
    ),
}
_CASES = [
    (label, g.name)
    for label, (kind, x) in _INPUTS.items()
    for g in groups_acting_on(kind, make_context(kind, x))
] + [("points3", "E3 x permutation"), ("atoms", "E3 x permutation")]


def _close(a, b) -> bool:
    if isinstance(a, tuple):
        return all(_close(x, y) for x, y in zip(a, b, strict=False))
    if not a.is_floating_point():
        return torch.equal(a, b)
    return torch.allclose(a, b, atol=1e-12, rtol=0)


def test_every_registered_group_is_exercised() -> None:
    names = {name for _, name in _CASES}
    assert set(GROUPS) - {"trivial"} <= names


@settings(max_examples=4)
@given(seed=seeds())
@pytest.mark.parametrize(("label", "group"), _CASES)
def test_group_axioms_and_homomorphism(label: str, group: str, seed: int) -> None:
    kind, x = _INPUTS[label]
    G = get_group(group)
    ctx = make_context(kind, x)
    gen = torch.Generator().manual_seed(seed)
    a, b, c = G.sample(3, gen, ctx=ctx)
    e = G.identity(ctx=ctx)
    # identity and inverse
    assert (a @ e).allclose(a) and (e @ a).allclose(a)
    assert (a @ ~a).is_identity(1e-12) and (a.inverse() @ a).is_identity(1e-12)
    assert not a.is_identity() or G.finite
    a = next(g for g in [a, b, c, *G.sample(8, gen, ctx=ctx)] if not g.is_identity())
    # associativity (as group elements and as actions)
    assert ((a @ b) @ c).allclose(a @ (b @ c))
    # closure + homomorphism: (a b) . x = a . (b . x)
    assert _close((a @ b).act(x, kind), a.act(b.act(x, kind), kind))
    assert _close(e.act(x, kind), tuple(t for t in x) if isinstance(x, tuple) else x.to(F64))
    assert _close((~a).act(a.act(x, kind), kind), x if not isinstance(x, tuple) else x)
    # the action really moves a generic input
    assert not _close(a.act(x, kind), x)


@pytest.mark.parametrize(("name", "order"), [("C4", 4), ("D4", 8), ("trivial", 1)])
def test_finite_groups_list_every_element_and_are_closed(name: str, order: int) -> None:
    x = torch.arange(36, dtype=F64).reshape(1, 6, 6)
    els = get_group(name).elements(kind="image", inputs=x)
    assert len(els) == order
    images = [g.act(x, "image") for g in els]
    # distinct actions, identity first
    assert torch.equal(images[0], x)
    for i in range(order):
        for j in range(i):
            assert not torch.equal(images[i], images[j])
    # closure: every product acts like a listed element
    for g in els:
        for h in els:
            gh = (g @ h).act(x, "image")
            assert any(torch.equal(gh, im) for im in images)


def test_d4_has_reflections_and_c4_only_rotations() -> None:
    x = torch.zeros(1, 4, 4)
    assert {g.coset for g in get_group("D4").elements(kind="image", inputs=x)} == {
        "proper",
        "improper",
    }
    assert {g.coset for g in get_group("C4").elements(kind="image", inputs=x)} == {"proper"}


@given(seed=seeds(), d=st.sampled_from([2, 3]), proper=st.booleans())
def test_haar_orthogonal_is_orthogonal_with_the_right_determinant(
    seed: int, d: int, proper: bool
) -> None:
    q = haar_orthogonal(4, d, torch.Generator().manual_seed(seed), proper)
    eye = torch.eye(d, dtype=F64).expand(4, d, d)
    assert torch.allclose(q @ q.transpose(1, 2), eye, atol=1e-12)
    assert torch.allclose(
        torch.linalg.det(q), torch.full((4,), 1.0 if proper else -1.0, dtype=F64), atol=1e-12
    )


def test_haar_rotations_are_uniform() -> None:
    # E[R] = 0 and E[R_ij^2] = 1/3 for Haar SO(3)
    q = haar_orthogonal(20000, 3, torch.Generator().manual_seed(0))
    assert q.mean(0).abs().max() < 0.02
    assert torch.allclose((q**2).mean(0), torch.full((3, 3), 1 / 3, dtype=F64), atol=0.01)


@settings(max_examples=10)
@given(seed=seeds())
def test_o3_samples_both_cosets_and_checks_test_both(seed: int) -> None:
    G = get_group("O3")
    ctx = make_context("points", torch.randn(4, 3))
    els = G.test_elements(6, torch.Generator().manual_seed(seed), ctx=ctx)
    assert [g.coset for g in els] == ["proper"] * 3 + ["improper"] * 3
    assert all(g.coset == "improper" for g in G.sample(3, ctx=ctx, coset="improper"))
    assert all(g.coset == "proper" for g in get_group("SO3").sample(5, ctx=ctx))


def test_atom_permutations_only_swap_equal_species() -> None:
    species = torch.tensor([0, 1, 0, 1, 0, 2, 2])
    inputs = (species, torch.randn(7, 3))
    for g in get_group("permutation").sample(20, inputs=inputs):
        assert torch.equal(species[g.perm], species)
        assert sorted(g.perm.tolist()) == list(range(7))
    assert any(not g.is_identity() for g in get_group("permutation").sample(5, inputs=inputs))


def test_rotation_acts_on_cell_rows() -> None:
    species, pos, cell = _INPUTS["atoms"][1]
    R = rotation_about([0, 0, 1], 0.3)
    from geodl.symmetry import GroupElement

    _, pos2, cell2 = GroupElement("SO3", rotation=R).act((species, pos, cell), "atoms")
    assert torch.allclose(cell2, cell @ R.T)
    assert torch.allclose(pos2, pos @ R.T)


def test_rotation_about() -> None:
    R = rotation_about([0, 0, 1], torch.pi / 2)
    assert torch.allclose(
        R @ torch.tensor([1.0, 0, 0], dtype=F64), torch.tensor([0.0, 1, 0], dtype=F64), atol=1e-15
    )


def test_get_group_errors_name_the_valid_choices() -> None:
    with pytest.raises(ValueError, match=r"unknown group 'Q5'.*'SO3'"):
        get_group("Q5")
    with pytest.raises(TypeError, match="group name"):
        get_group(3)  # type: ignore[arg-type]
    assert get_group("so3").name == "SO3"
    assert get_group(get_group("E3")) is get_group("E3")


def test_group_on_wrong_kind_is_a_value_error_naming_valid_kinds() -> None:
    with pytest.raises(
        ValueError,
        match=r"'SO3' does not act on .*'image'.*\['points', 'atoms', 'graph', 'irreps'\]",
    ):
        get_group("SO3").check_acts_on("image")
    with pytest.raises(ValueError, match="dimension"):
        get_group("SO3").check_acts_on("points", make_context("points", torch.randn(3, 2)))
    with pytest.raises(ValueError, match="square image"):
        get_group("C4").elements(kind="image", inputs=torch.randn(1, 4, 5))


def test_product_groups() -> None:
    G = product("E3", "permutation")
    assert G.name == "E3*permutation" and G.kinds == ("points", "atoms", "graph")
    assert G.has_reflections and not G.finite and G.continuous
    assert get_group("E3 x permutation") == G
    with pytest.raises(ValueError, match="no input kind in common"):
        product("SO3", "shift")
    with pytest.raises(ValueError, match="not supported"):
        product("shift", "C4")


def test_sample_needs_the_input_for_permutations() -> None:
    with pytest.raises(ValueError, match="number of rows"):
        get_group("permutation").sample(1)
    with pytest.raises(ValueError, match="infinite"):
        get_group("SO3").elements()
    assert len(get_group("SO3").sample(3)) == 3


def test_shift_elements_never_identity_and_repr() -> None:
    x = torch.randn(1, 5)
    els = get_group("shift").sample(20, inputs=x, kind="signal")
    assert all(0 < g.shift[0] < 5 for g in els)
    assert "shift=" in repr(els[0])
    assert "rotation" in repr(get_group("SO3").sample(1)[0])
    assert "rotoreflection" in repr(get_group("O3").sample(1, coset="improper")[0])
    assert "reflection" in repr(get_group("O2").sample(1, coset="improper")[0])
