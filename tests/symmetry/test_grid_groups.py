"""C_N / D_N / flips on images (exact and interpolated), cube groups on voxel grids, and
fibre representations of group-CNN feature maps."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from geodl.symmetry import apply_rep, check_equivariance, check_invariance, get_group
from geodl.symmetry.strategies import seeds

DTYPES = [torch.float32, torch.float64]


def _image(dtype: torch.dtype, size: int = 21, seed: int = 0) -> torch.Tensor:
    x = torch.randn(1, 1, size, size, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)  # fmt: skip
    x = F.conv2d(x, torch.ones(1, 1, 5, 5, dtype=torch.float64) / 25, padding=2)[0]
    return x.to(dtype)


def _radius(size: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    c = torch.arange(size, dtype=dtype) - (size - 1) / 2
    return (c[:, None] ** 2 + c[None, :] ** 2).sqrt(), c[None, :].expand(size, size)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exact_small_groups_and_flips(dtype: torch.dtype) -> None:
    x = _image(dtype)
    r, col = _radius(21, dtype)
    radial = lambda im: (im * torch.exp(-r / 4)).sum()  # noqa: E731
    for name in ("C2", "flips", "C4", "D4"):
        assert check_invariance(radial, name, x).verdict == "exact", name
    # a left-right asymmetry breaks the flips but not C2
    tilted = lambda im: radial(im) + 0.05 * (im * col).sum() / 21  # noqa: E731
    assert check_invariance(tilted, "flips", x).verdict == "broken"
    assert check_invariance(tilted, "C2", x).verdict == "broken"
    assert check_invariance(lambda im: (im * col.abs()).sum(), "flips", x).verdict == "exact"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["C8", "D6", "C3"])
def test_interpolated_groups_are_approximate_by_construction(dtype: torch.dtype, name: str) -> None:
    x = _image(dtype)
    r, col = _radius(21, dtype)
    radial = lambda im: (im * torch.exp(-r / 4)).sum()  # noqa: E731
    ok = check_invariance(radial, name, x)
    assert ok.verdict == "approximate" and get_group(name).interpolated
    assert any("approximate by construction" in w for w in ok.warnings)
    assert "approximate by construction" in get_group(name).description
    tilted = lambda im: radial(im) + 0.05 * (im * col).sum() / 21  # noqa: E731
    assert check_invariance(tilted, name, x).verdict == "broken"


def _symmetrised_kernel(seed: int = 0) -> torch.Tensor:
    w = torch.randn(1, 1, 3, 3, 3, generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)  # fmt: skip
    G = get_group("full-octahedral")
    els = G.elements(kind="voxels", inputs=w[0])
    return torch.stack([g.act(w[0], "voxels") for g in els]).mean(0)[None]


@pytest.mark.parametrize("dtype", DTYPES)
def test_voxel_cube_groups(dtype: torch.dtype) -> None:
    x = torch.randn(1, 6, 6, 6, generator=torch.Generator().manual_seed(1)).to(dtype)
    sym = _symmetrised_kernel().to(dtype)
    plain = torch.randn(1, 1, 3, 3, 3, generator=torch.Generator().manual_seed(2)).to(dtype)
    conv = lambda w: lambda v: F.conv3d(v[None], w, padding=1)[0]  # noqa: E731
    assert len(get_group("octahedral").elements(kind="voxels", inputs=x)) == 24
    assert len(get_group("full-octahedral").elements(kind="voxels", inputs=x)) == 48
    for name in ("octahedral", "full-octahedral"):
        r = check_equivariance(conv(sym), name, x, out_rep="equivariant")
        assert r.kind == "voxels" and r.verdict == "exact", str(r)
        assert check_equivariance(conv(plain), name, x, out_rep="equivariant").verdict == "broken"
    pooled = lambda v: conv(sym)(v).tanh().sum()  # noqa: E731
    assert check_invariance(pooled, "full-octahedral", x).verdict == "exact"
    with pytest.raises(ValueError, match="cube"):
        get_group("octahedral").elements(kind="voxels", inputs=torch.zeros(1, 4, 4, 5))


def _lift(x: torch.Tensor, w: torch.Tensor, flips: bool) -> torch.Tensor:
    out = []
    for f in (0, 1) if flips else (0,):
        for k in range(4):
            wk = torch.rot90(torch.flip(w, dims=(-1,)) if f else w, k, dims=(-2, -1))
            out.append(F.conv2d(x[None], wk, padding=1)[0, 0])
    return torch.stack(out)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fibre_representations_of_group_cnn_maps(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    w = torch.randn(1, 1, 3, 3, dtype=dtype)
    x = torch.randn(1, 9, 9, dtype=dtype)
    c4 = lambda im: _lift(im, w, False)  # noqa: E731
    d4 = lambda im: _lift(im, w, True)  # noqa: E731
    assert check_equivariance(c4, "C4", x, out_rep="regular:C4").verdict == "exact"
    assert check_equivariance(d4, "D4", x, out_rep="regular:D4").verdict == "exact"
    quotient = lambda im: d4(im)[:4] + d4(im)[4:]  # noqa: E731
    assert check_equivariance(quotient, "D4", x, out_rep="quotient:D4").verdict == "exact"
    # planted break: the fibre read in the wrong order
    wrong = lambda im: c4(im).flip(0)  # noqa: E731
    assert check_equivariance(wrong, "C4", x, out_rep="regular:C4").verdict == "broken"
    with pytest.raises(ValueError, match="regular:C<N>"):
        check_equivariance(c4, "C4", x, out_rep="regular:Q4")


@settings(max_examples=20, deadline=None)
@given(seed=seeds(), name=st.sampled_from(["C2", "flips", "C8", "D6", "octahedral",
                                           "full-octahedral"]))  # fmt: skip
def test_new_group_axioms(seed: int, name: str) -> None:
    G = get_group(name)
    kind = "voxels" if "octahedral" in name else "image"
    x = torch.randn(1, 5, 5, 5) if kind == "voxels" else torch.randn(1, 7, 7)
    els = G.elements(kind=kind, inputs=x)
    gen = torch.Generator().manual_seed(seed)
    a, b, c = (els[int(torch.randint(0, len(els), (), generator=gen))] for _ in range(3))
    e = G.identity(kind=kind, inputs=x)
    assert (a @ e).allclose(a) and (a @ ~a).is_identity()
    assert ((a @ b) @ c).allclose(a @ (b @ c))
    assert any((a @ b).allclose(h) for h in els)  # closure
    if not G.interpolated:  # exact actions are homomorphisms
        x64 = x.double()
        assert torch.allclose((a @ b).act(x64, kind), a.act(b.act(x64, kind), kind))


@settings(max_examples=20, deadline=None)
@given(seed=seeds(), rep=st.sampled_from(["regular:C4", "regular:D4", "quotient:D4",
                                          "regular:D2", "regular:C2"]))  # fmt: skip
def test_fibre_representation_is_a_homomorphism(seed: int, rep: str) -> None:
    n = int(rep[-1])
    group = {"C4": "C4", "D4": "D4", "D2": "flips", "C2": "C2"}[rep.split(":")[1]]
    size = {"regular": 2 * n if "D" in rep else n, "quotient": n}[rep.split(":")[0]]
    gen = torch.Generator().manual_seed(seed)
    y = torch.randn(2, size, 6, 6, generator=gen, dtype=torch.float64)
    els = get_group(group).elements(kind="image", inputs=torch.zeros(1, 6, 6))
    a, b = (els[int(torch.randint(0, len(els), (), generator=gen))] for _ in range(2))
    ab = apply_rep(rep, a @ b, y, "image")
    assert torch.allclose(ab, apply_rep(rep, a, apply_rep(rep, b, y, "image"), "image"))
