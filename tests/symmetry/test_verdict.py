"""The tolerance rule, per-output reports, vacuous checks and non-deterministic models."""

from __future__ import annotations

import pytest
import torch

from geodl.symmetry import check_equivariance, check_invariance

DTYPES = [torch.float32, torch.float64]


def _pair_energy(x: torch.Tensor) -> torch.Tensor:
    d = torch.cdist(x, x) + torch.eye(x.shape[0], dtype=x.dtype)
    return (torch.exp(-d) * (1 - torch.eye(x.shape[0], dtype=x.dtype))).sum() / 2


def _points(dtype: torch.dtype, n: int = 8) -> torch.Tensor:
    return torch.randn(n, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3)).to(
        dtype
    )


def _forces(x: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():
        p = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(_pair_energy(p), p)
    return -g


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_off_size_output_is_no_false_alarm(dtype: torch.dtype) -> None:
    # the net force of a conservative model is zero up to round-off (~1e-16 / 1e-7)
    x = _points(dtype)
    net = _forces(x).sum(0)
    assert 0 < float(net.abs().max()) < 1e-5
    r = check_equivariance(lambda p: _forces(p).sum(0), "O3", x, out_rep="vector")
    assert r.verdict == "vacuous" and r.verdict != "broken"
    assert any("does not depend on the input" in w for w in r.warnings)
    # next to a real output it does not hide the verdict of the other
    both = check_equivariance(
        lambda p: {"energy": _pair_energy(p), "net_force": _forces(p).sum(0)},
        "O3",
        x,
        out_rep={"energy": "invariant", "net_force": "vector"},
    )
    assert both.verdict == "exact"
    assert both.outputs["energy"].verdict == "exact"
    assert both.outputs["net_force"].verdict == "vacuous"


@pytest.mark.parametrize("dtype", DTYPES)
def test_break_behind_a_large_offset_is_found(dtype: torch.dtype) -> None:
    # a 1 % z-scaling of the coordinates behind a 5000 eV constant energy
    x = _points(dtype)
    scale = torch.tensor([1.0, 1.0, 1.01], dtype=dtype)
    exact = check_invariance(lambda p: 5000 + _pair_energy(p), "SO3", x)
    broken = check_invariance(lambda p: 5000 + _pair_energy(p * scale), "SO3", x)
    assert exact.verdict == "exact", str(exact)
    assert broken.verdict == "broken", str(broken)
    assert broken.max_rel_error > 2 * broken.tolerance


def test_every_report_has_outputs_per_named_output() -> None:
    x = _points(torch.float64)

    def model(p: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"energy": _pair_energy(p), "first": p[0]}

    # the first point does not stay put under rotations: that output is broken
    r = check_equivariance(model, "SO3", x, out_rep={"energy": "invariant", "first": "invariant"})
    assert set(r.outputs) == {"energy", "first"}
    assert r.outputs["energy"].verdict == "exact" and r.outputs["first"].verdict == "broken"
    assert r.verdict == "broken"  # the worst output
    assert r.outputs["first"].out_rep == "invariant" and r.outputs["first"].errors
    d = r.to_dict()
    assert d["outputs"]["energy"]["verdict"] == "exact"
    t = check_equivariance(
        lambda p: (_pair_energy(p), p), "SO3", x, out_rep=["invariant", "vector"]
    )
    assert set(t.outputs) == {"0", "1"} and t.verdict == "exact"
    single = check_invariance(_pair_energy, "SO3", x)
    assert single.outputs == {}


@pytest.mark.parametrize("dtype", DTYPES)
def test_nothing_compared_is_vacuous(dtype: torch.dtype) -> None:
    x = _points(dtype)
    assert check_invariance(lambda p: p[:0], "SO3", x).verdict == "vacuous"  # empty
    assert check_invariance(lambda p: torch.ones(3, dtype=dtype), "SO3", x).verdict == "vacuous"
    assert check_invariance(lambda p: 0 * p.sum(), "SO3", x).verdict == "vacuous"  # zero
    r = check_invariance(_pair_energy, "SO3", x, samples=0)
    assert r.verdict == "vacuous" and "no group element" in " ".join(r.warnings)
    # a constant vector claimed to rotate is broken, not vacuous
    const = check_equivariance(lambda p: torch.ones(3, dtype=dtype), "SO3", x, out_rep="vector")
    assert const.verdict == "broken"


class _Noisy(torch.nn.Module):
    """A pair energy with relative output noise ``noise``, optionally behind a 0.5 %
    z-scaling of the coordinates (a real break)."""

    def __init__(self, noise: float, z: float = 1.0, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.noise = noise
        self.register_buffer("scale", torch.tensor([1.0, 1.0, z], dtype=dtype))
        self.gen = torch.Generator().manual_seed(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = torch.cdist(x * self.scale, x * self.scale)
        e = (d**2).sum()
        return e * (1 + self.noise * torch.randn((), generator=self.gen, dtype=x.dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_noisy_models_are_flagged_and_breaks_still_found(dtype: torch.dtype) -> None:
    x = _points(dtype, 10)
    exact = check_invariance(_Noisy(1e-3, dtype=dtype), "SO3", x)
    assert not exact.deterministic and exact.spread > 1e-4
    assert exact.verdict == "approximate"  # never "exact": its outputs are noise
    assert "non-deterministic" in exact.summary()
    assert any("non-deterministic" in w for w in exact.warnings)
    broken = check_invariance(_Noisy(1e-3, 1.005, dtype=dtype), "SO3", x)
    assert not broken.deterministic and broken.verdict == "broken", str(broken)
