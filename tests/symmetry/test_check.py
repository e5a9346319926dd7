"""check_invariance / check_equivariance / assert_* / check_forces / declarations."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from geodl.symmetry import (
    EXACT_TOLERANCE,
    Declaration,
    SymmetryError,
    assert_declarations,
    assert_equivariant,
    assert_invariant,
    check_equivariance,
    check_forces,
    check_invariance,
    get_group,
    infer_kind,
    model_dtype,
    verify_declarations,
)

F64 = torch.float64


def _energy(x: torch.Tensor) -> torch.Tensor:
    d = torch.cdist(x, x)
    return torch.exp(-d).sum()


@pytest.fixture
def points() -> torch.Tensor:
    return torch.randn(6, 3, dtype=F64)


def test_report_fields_and_json(points: torch.Tensor) -> None:
    r = check_invariance(_energy, "E3", points)
    assert r.verdict == "exact" and r.holds
    assert r.max_rel_error < 1e-13 and r.max_abs_error < 1e-12
    # the round-off allowance: the dtype's relative tolerance plus a few ulps
    assert EXACT_TOLERANCE[F64] <= r.tolerance < 2 * EXACT_TOLERANCE[F64] and r.dtype == "float64"
    assert r.group == "E3" and r.kind == "points" and r.out_rep == "invariant"
    assert set(r.cosets) == {"proper", "improper"} and len(r.errors) == 8
    d = json.loads(json.dumps(r.to_dict()))
    assert {"group", "verdict", "max_rel_error", "max_abs_error", "tolerance", "dtype"} <= set(d)
    assert "exact" in str(r) and "E3" in r.summary()


def test_broken_symmetry_is_found(points: torch.Tensor) -> None:
    r = check_invariance(lambda x: x[:, 0].sum(), "SO3", points)
    assert r.verdict == "broken" and not r.holds and r.max_rel_error > 0.01


def test_relative_error_is_relative(points: torch.Tensor) -> None:
    small = check_invariance(lambda x: 1e-20 * (_energy(x) + 1e-3 * x[0, 0]), "SO3", points)
    large = check_invariance(lambda x: 1e20 * (_energy(x) + 1e-3 * x[0, 0]), "SO3", points)
    assert math.isclose(small.max_rel_error, large.max_rel_error, rel_tol=1e-6)
    assert small.verdict == large.verdict == "broken"


def test_float32_round_off_is_never_a_break() -> None:
    x = torch.randn(20, 3)
    net = nn.Sequential(nn.Linear(1, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))

    def model(p: torch.Tensor) -> torch.Tensor:
        d = torch.cdist(p, p).unsqueeze(-1)
        return net(d).sum()

    r = check_invariance(model, "E3 x permutation", x, samples=16)
    assert r.dtype == "float32" and r.verdict == "exact"
    assert 0 < r.max_rel_error < EXACT_TOLERANCE[torch.float32] and r.max_rel_error < r.tolerance


@pytest.mark.parametrize("size", [1e-4, 1e-6])
def test_small_float64_break_is_a_break(points: torch.Tensor, size: float) -> None:
    r = check_invariance(lambda x: _energy(x) * (1 + size * x[0, 1]), "SO3", points)
    assert r.verdict == "broken"
    assert size / 100 < r.max_rel_error < size * 100


def test_nan_never_passes(points: torch.Tensor) -> None:
    r = check_invariance(
        lambda x: _energy(x) * torch.tensor(float("nan"), dtype=F64), "SO3", points
    )
    assert r.verdict == "broken" and r.nonfinite and math.isinf(r.max_rel_error)
    assert r.to_dict()["max_rel_error"] is None
    # a NaN only at the transformed input also fails
    # (invariant wherever it is finite)
    r = check_invariance(
        lambda x: _energy(x) + 0.0 * torch.sqrt(x[0, 0] - points[0, 0]), "SO3", points, samples=16
    )
    assert r.verdict == "broken" and r.nonfinite
    inf = check_invariance(lambda x: _energy(x) + torch.tensor(float("inf")), "SO3", points)
    assert inf.verdict == "broken"


def test_dtype_comes_from_parameters_then_inputs() -> None:
    assert model_dtype(nn.Linear(2, 2).double()) == F64
    assert model_dtype(nn.Linear(2, 2)) == torch.float32
    assert model_dtype(lambda x: x, torch.zeros(2, dtype=F64)) == F64
    assert model_dtype(nn.ReLU(), torch.zeros(2, dtype=torch.float16)) == torch.float16


def test_device_comes_from_parameters_then_inputs() -> None:
    from geodl.symmetry import model_device

    assert model_device(nn.Linear(2, 2)) == torch.device("cpu")
    assert model_device(lambda x: x, torch.zeros(2)) == torch.device("cpu")
    assert model_device(lambda: 0) == torch.device("cpu")
    r = check_invariance(_energy, "SO3", torch.randn(4, 3, dtype=F64), device="cpu")
    assert r.verdict == "exact"


def test_inputs_are_cast_to_the_model_dtype() -> None:
    seen: list[torch.dtype] = []
    lin = nn.Linear(3, 2)
    r = check_invariance(_Wrapped(lin, seen), "permutation", torch.randn(4, 3, dtype=F64))
    assert set(seen) == {torch.float32} and r.dtype == "float32"


class _Wrapped(nn.Module):
    def __init__(self, lin: nn.Linear, seen: list) -> None:
        super().__init__()
        self.lin = lin
        self.seen = seen

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.dtype)
        return self.lin(x).sum(0)


def test_equivariant_outputs(points: torch.Tensor) -> None:
    centred = lambda x: x - x.mean(0)  # noqa: E731
    assert check_equivariance(centred, "O3 x permutation", points).verdict == "exact"
    assert check_equivariance(centred, "translation", points).verdict == "broken"
    assert (
        check_equivariance(centred, "translation", points, out_rep="per-point:vector").verdict
        == "exact"
    )
    r = check_equivariance(lambda x: torch.cross(x[0], x[1], dim=0), "O3", points, out_rep="vector")
    assert r.verdict == "broken" and r.cosets["proper"] < 1e-12 and r.cosets["improper"] > 0.1
    assert (
        check_equivariance(
            lambda x: torch.cross(x[0], x[1], dim=0), "O3", points, out_rep="pseudovector"
        ).verdict
        == "exact"
    )
    stress = lambda x: centred(x).T @ centred(x)  # noqa: E731
    assert check_equivariance(stress, "E3", points, out_rep="rank2").verdict == "exact"


def test_dict_and_tuple_outputs(points: torch.Tensor) -> None:
    def model(x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"energy": _energy(x), "centred": x - x.mean(0)}

    r = check_equivariance(
        model, "E3", points, out_rep={"energy": "invariant", "centred": "per-point:vector"}
    )
    assert r.verdict == "exact"
    with pytest.raises(ValueError, match="no representation given"):
        check_equivariance(model, "E3", points, out_rep={"energy": "invariant"})
    r = check_equivariance(
        lambda x: (_energy(x), x), "SO3", points, out_rep=["invariant", "equivariant"]
    )
    assert r.verdict == "exact"


def test_assert_helpers_raise_readable_errors(points: torch.Tensor) -> None:
    assert assert_invariant(_energy, "E3", points).verdict == "exact"
    with pytest.raises(SymmetryError, match=r"SO3 invariance does not hold.*broken") as exc:
        assert_invariant(lambda x: x[0].sum(), "SO3", points)
    assert isinstance(exc.value, AssertionError) and exc.value.report.verdict == "broken"
    with pytest.raises(SymmetryError, match="equivariance"):
        assert_equivariant(lambda x: x, "translation", points, "per-point:vector")


def test_approximate_tolerance_is_settable(points: torch.Tensor) -> None:
    f = lambda x: _energy(x) * (1 + 1e-4 * x[0, 1])  # noqa: E731
    assert check_invariance(f, "SO3", points).verdict == "broken"
    r = check_invariance(f, "SO3", points, approx_tol=1e-2)
    assert r.verdict == "approximate" and r.approx_tolerance == 1e-2
    assert assert_invariant(f, "SO3", points, approx_tol=1e-2, allow_approximate=True)
    with pytest.raises(SymmetryError):
        assert_invariant(f, "SO3", points, approx_tol=1e-2)
    assert check_invariance(f, "SO3", points, tol=1e-2).verdict == "exact"


def test_zero_padding_is_approximate_at_the_boundary() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3, padding=1)
    x = torch.randn(1, 12, 12)
    r = check_equivariance(conv, "shift", x)
    assert r.verdict == "approximate" and r.where == "boundary" and r.boundary_width == 1
    r = check_equivariance(conv, "C4", x)
    assert r.verdict == "broken" and r.where == "interior"
    circ = nn.Conv2d(1, 2, 3, padding=1, padding_mode="circular")
    assert check_equivariance(circ, "shift", x).verdict == "exact"


def test_pooled_zero_padding_is_approximate_but_a_flatten_head_is_broken() -> None:
    torch.manual_seed(0)
    conv = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU())
    pooled = nn.Sequential(conv, nn.AdaptiveAvgPool2d(1), nn.Flatten(0))
    flat = nn.Sequential(conv, nn.Flatten(0), nn.Linear(3 * 16 * 16, 2))
    x = torch.randn(1, 16, 16)
    r = check_invariance(pooled, "shift", x)
    assert r.verdict == "approximate" and r.where == "boundary" and r.boundary_width == 4
    assert check_invariance(pooled, "C4", x).verdict == "broken"
    r = check_invariance(flat, "shift", x)
    assert r.verdict == "broken" and r.where == "interior"


def test_localisation_names_the_first_breaking_module(points: torch.Tensor) -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(1, 8)  # on distances: invariant
            self.mix = nn.Linear(3, 8)  # on raw coordinates: breaks rotations
            self.out = nn.Linear(8, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            d = torch.cdist(x, x).sum(1, keepdim=True)
            return self.out(torch.tanh(self.embed(d) + self.mix(x))).sum()

    r = check_invariance(Model().double(), "SO3", points)
    assert r.verdict == "broken" and r.culprit == "mix"
    assert [t["module"] for t in r.trace][:2] == ["embed", "mix"]
    assert r.trace[0]["ok"] and r.trace[0]["best"] in ("invariant", "per-point")
    assert "mix" in str(r)


def test_model_mode_is_restored(points: torch.Tensor) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5)).double()
    model.train()
    r = check_equivariance(model, "permutation", points, out_rep="per-point")
    assert r.verdict == "exact" and model.training and model[1].training


def test_fixed_point_inputs_are_vacuous() -> None:
    r = check_invariance(lambda x: x.sum(), "shift", torch.ones(1, 8, 8))
    assert r.verdict == "vacuous" and any("fixed point" in w for w in r.warnings)
    assert not r.holds
    species = torch.tensor([0, 1, 2])
    r = check_invariance(lambda s, p: p.sum(), "permutation", (species, torch.randn(3, 3)))
    assert r.verdict == "vacuous" and any("identity" in w for w in r.warnings)


def test_kind_inference_and_errors() -> None:
    assert infer_kind(get_group("SO3"), torch.zeros(4, 3)) == "points"
    assert infer_kind(get_group("permutation"), torch.zeros(4, 7)) == "set"
    assert infer_kind(get_group("shift"), torch.zeros(2, 9)) == "signal"
    assert infer_kind(get_group("time-shift"), torch.zeros(9, 2)) == "sequence"
    assert (
        infer_kind(get_group("E3"), (torch.zeros(3, dtype=torch.long), torch.zeros(3, 3)))
        == "atoms"
    )
    with pytest.raises(ValueError, match="acts on"):
        check_invariance(_energy, "C4", torch.zeros(4, 3))
    with pytest.raises(ValueError, match="kind 'image'"):
        check_invariance(_energy, "shift", torch.zeros(4, 3), kind="image")
    with pytest.raises(ValueError, match="expected a Tensor"):
        check_invariance(_energy, "SO3", "not a tensor")
    with pytest.raises(ValueError, match="disagree"):
        check_equivariance(_energy, "SO3", torch.zeros(4, 3), kind="points", in_rep="set")


def test_check_forces() -> None:
    species = torch.tensor([0, 1, 0, 1, 1])
    pos = torch.randn(5, 3, dtype=F64)

    def energy(s: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        w = torch.tensor([1.0, 2.0], dtype=F64)[s]
        return (w[:, None] * w[None, :] * torch.exp(-torch.cdist(p, p))).sum()

    r = check_forces(energy, "E3 x permutation", (species, pos))
    assert r.verdict == "exact" and r.out_rep == "per-point:vector"
    bad = check_forces(lambda s, p: energy(s, p) + p[:, 0].pow(2).sum(), "SO3", (species, pos))
    assert bad.verdict == "broken"
    with pytest.raises(ValueError, match="one scalar energy"):
        check_forces(lambda s, p: p, "SO3", (species, pos))


class _Declared(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cdist(x, x).sum() + x[:, 0].sum() * 0.0 + x[0, 0]

    def declared_symmetries(self) -> list[Declaration]:
        return [
            Declaration("translation", "points", "invariant", "broken"),
            Declaration("SO3", "points", "invariant", "exact"),
        ]


def test_declarations_are_verified(points: torch.Tensor) -> None:
    reports = verify_declarations(_Declared(), points)
    assert [r.declared for r in reports] == ["broken", "exact"]
    assert reports[0].matches_declaration
    assert not reports[1].matches_declaration  # x[0, 0] breaks rotations
    with pytest.raises(SymmetryError, match="declares SO3"):
        assert_declarations(_Declared(), {"points": points})
    with pytest.raises(TypeError, match="declared_symmetries"):
        verify_declarations(nn.Linear(3, 3), points)


def test_localisation_hints_for_features_the_shape_does_not_explain() -> None:
    from e3nn import o3

    irreps = o3.Irreps("1x0e + 1x1o")

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = _Features()  # (N, 4): scalar + vector per point
            # reads the vector part as plain numbers: breaks SO(3)
            self.head = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.features(x)).sum()

    x = torch.randn(5, 3, dtype=F64)
    model = Model().double()
    guessed = check_invariance(model, "SO3", x)
    assert guessed.culprit == "features"  # (N, 4) rows: no shape-based guess fits
    hinted = check_invariance(model, "SO3", x, module_reps={"features": f"per-point:{irreps}"})
    assert hinted.culprit == "head.0" and hinted.trace[0]["ok"]


class _Features(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x - x.mean(0)
        return torch.cat([c.norm(dim=1, keepdim=True), c], dim=1)


def test_declarations_are_validated() -> None:
    with pytest.raises(ValueError, match="verdict"):
        Declaration("SO3", "points", verdict="sometimes")
    with pytest.raises(ValueError, match="unknown group 'SO4'"):
        Declaration("SO4", "points")
    with pytest.raises(ValueError, match="'input' must be one of"):
        Declaration("SO3", "pointz")
    with pytest.raises(ValueError, match="does not act on inputs of kind 'image'"):
        Declaration("SO3", "image")
    with pytest.raises(ValueError, match="unknown representation"):
        Declaration("SO3", "points", "spinor")
    assert Declaration("E3 x permutation", "atoms", "per-point:vector").verdict == "exact"


def test_tolerance_is_calibrated_on_the_noise_floor() -> None:
    x = torch.randn(8, 3)

    def cancelling(p: torch.Tensor) -> torch.Tensor:
        d = torch.cdist(p, p)
        return (1000 * d - 999.9 * d).sum()  # float32: loses ~4 digits

    r = check_invariance(cancelling, "SO3", x)
    assert r.dtype == "float32" and r.verdict == "exact"
    assert r.noise_floor > 1e-6 and r.tolerance >= 10 * r.noise_floor > 1e-4
    assert any("amplifies round-off" in w for w in r.warnings)
    # float64: the floor is ~1e-13, the tolerance stays ~1e-10 and small breaks are found
    r64 = check_invariance(cancelling, "SO3", x.double())
    assert r64.tolerance < 2 * EXACT_TOLERANCE[F64] and not r64.warnings
    broken = check_invariance(lambda p: cancelling(p) * (1 + 1e-4 * p[0, 0]), "SO3", x.double())
    assert broken.verdict == "broken"
    # an explicit tol is used as given
    assert check_invariance(cancelling, "SO3", x, tol=1e-3).tolerance == 1e-3
