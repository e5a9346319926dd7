"""audit(): the reference battery is classified correctly; specs, table and JSON."""

from __future__ import annotations

import json
from types import ModuleType

import pytest
import torch

from geodl.symmetry import audit, make_inputs, parse_input_spec

from .conftest import load_reference_models

BATTERY = load_reference_models().BATTERY


@pytest.mark.parametrize("name", sorted(BATTERY))
def test_battery_is_classified_correctly(reference_models: ModuleType, name: str) -> None:
    spec, out_rep, expected = BATTERY[name]
    result = audit(getattr(reference_models, name)(), spec, out_rep)
    assert result.verdicts == expected, str(result)
    for r in result:
        if r.verdict == "exact":
            # zero false alarms: round-off sits far below the tolerance
            assert r.max_rel_error < r.tolerance / 10, r.summary()
        else:
            # no missed breaks: every break is far above round-off
            assert r.max_rel_error > 10 * r.tolerance, r.summary()


def _output_norm(model: torch.nn.Module, spec: str) -> float:
    x = make_inputs(spec)
    return float(model(*(x if isinstance(x, tuple) else (x,))).detach().double().norm())


def test_injected_1e4_break_is_found_at_its_size(reference_models: ModuleType) -> None:
    model = reference_models.injected_break()
    result = audit(model, "points:8")
    for r in result:
        assert r.verdict == "broken" and r.dtype == "float64"
        # 1e-4 of the output; relative to the input-dependent part it is larger
        assert 1e-5 < r.max_abs_error / _output_norm(model, "points:8") < 1e-3
        assert r.max_rel_error > 1e-5


def test_float32_model_has_no_false_alarm(reference_models: ModuleType) -> None:
    for seed in range(3):
        result = audit(reference_models.deeppot_se_float32(), "points:12", seed=seed)
        assert set(result.verdicts.values()) == {"exact"}
        assert all(r.dtype == "float32" for r in result)


def test_negative_examples_say_what_breaks(reference_models: ModuleType) -> None:
    omega = audit(reference_models.literal_omega(), "points:8")
    assert omega["SO3"].verdict == "broken" and omega["SO3"].culprit == "head.0"
    assert omega["permutation"].verdict == omega["translation"].verdict == "exact"
    gram = audit(reference_models.gram_matrix(), "points:8")
    assert gram["permutation"].culprit == "descriptor"
    chiral = audit(reference_models.chiral(), "points:8")
    assert chiral["O3"].cosets["proper"] < 1e-12 < 1e-3 < chiral["O3"].cosets["improper"]


def test_table_and_json(reference_models: ModuleType) -> None:
    result = audit(reference_models.cnn_zero_pad(), "image:1,16,16")
    text = str(result)
    assert "audit: image:1,16,16 -> invariant" in text
    for word in ("shift", "approx.", "C4", "BROKEN", "boundary", "interior"):
        assert word in text
    rows = json.loads(result.to_json())
    assert [r["group"] for r in rows] == ["shift", "C4", "D4", "C2", "flips"]
    assert {"group", "verdict", "max_rel_error", "max_abs_error", "tolerance", "dtype"} <= set(
        rows[0]
    )
    assert result.to_list() == rows
    with pytest.raises(KeyError, match="no report"):
        result["SO3"]


def test_rich_table(reference_models: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    audit(reference_models.chiral(), "points:6").print()
    out = capsys.readouterr().out
    assert "O3" in out and "BROKEN" in out and "exact" in out


def test_audit_of_given_input_and_non_square_images() -> None:
    result = audit(lambda x: x.mean(), torch.randn(1, 6, 8))
    assert result.verdicts == {"shift": "exact", "C2": "exact", "flips": "exact"}
    assert set(result.skipped) == {"C4", "D4"} and "skipped C4" in str(result)
    result = audit(lambda p: torch.cdist(p, p).sum(), torch.randn(5, 3), groups=["SO3"])
    assert result.verdicts == {"SO3": "exact"}


@pytest.mark.parametrize(
    ("text", "kind", "shape"),
    [
        ("points:5", "points", (5, 3)),
        ("points:5,2", "points", (5, 2)),
        ("set:4,7", "set", (4, 7)),
        ("image:2,8,8", "image", (2, 8, 8)),
        ("signal:3,16", "signal", (3, 16)),
        ("sequence:10,2", "sequence", (10, 2)),
    ],
)
def test_specs_make_inputs_of_the_right_shape(text: str, kind: str, shape: tuple) -> None:
    spec = parse_input_spec(text)
    assert spec.kind == kind and str(spec).startswith(kind)
    x = make_inputs(spec)
    assert tuple(x.shape) == shape and x.dtype == torch.float64


def test_atoms_spec_has_species_and_separated_positions() -> None:
    species, pos = make_inputs("atoms:9")
    assert species.dtype == torch.long and set(species.tolist()) == {0, 1}
    d = torch.cdist(pos, pos) + 10 * torch.eye(9, dtype=pos.dtype)
    assert d.min() > 0.8
    _, _, cell = make_inputs("atoms:9,pbc")
    assert cell.shape == (3, 3)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("points", "KIND:SIZES"),
        ("blob:3", "unknown kind 'blob'"),
        ("image:1,8", "wrong sizes"),
        ("points:4,5", "2D or 3D"),
        ("set:a,b", "integers"),
        ("atoms:1", "at least 2"),
    ],
)
def test_bad_specs_say_what_to_do(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_input_spec(text)


class _Injected(torch.nn.Module):
    """``f(x) * (1 + size * p(x))`` with ``p`` reading one interior cell / the first row:
    a relative break of about ``size`` for every group acting on the input."""

    def __init__(self, model: torch.nn.Module, kind: str, size: float) -> None:
        super().__init__()
        self.model = model
        self.kind = kind
        self.size = size

    def probe(self, *inputs: torch.Tensor) -> torch.Tensor:
        x = inputs[1] if self.kind == "atoms" else inputs[0]
        if self.kind in ("points", "atoms"):
            u = torch.tensor([0.6, -0.8, 0.3][: x.shape[1]], dtype=x.dtype)
            return (u * x[0]).sum()
        if self.kind == "image":
            return x[:, x.shape[1] // 2, x.shape[2] // 2].sum()
        if self.kind == "signal":
            return x[:, x.shape[1] // 2].sum()
        return x[x.shape[0] // 2].sum()  # set, sequence: one row

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(*inputs) * (1 + self.size * self.probe(*inputs))


_HOLDING = sorted(n for n, (_, _, exp) in BATTERY.items() if set(exp.values()) != {"broken"})


@pytest.mark.parametrize("name", _HOLDING)
def test_no_missed_break_at_1e4_in_float64(reference_models: ModuleType, name: str) -> None:
    spec, out_rep, expected = BATTERY[name]
    model = getattr(reference_models, name)().double()
    clean = audit(model, spec, out_rep)
    assert all(r.dtype == "float64" for r in clean)
    injected = audit(_Injected(model, clean.kind, 1e-4), spec, out_rep)
    size = _output_norm(model, spec)
    for r in injected:
        assert r.verdict == "broken", r.summary()
        if expected[r.group] == "exact":
            assert 1e-7 < r.max_abs_error / size < 1e-2, r.summary()


@pytest.mark.parametrize("name", _HOLDING)
def test_no_false_alarm_in_float32(reference_models: ModuleType, name: str) -> None:
    spec, out_rep, expected = BATTERY[name]
    model = getattr(reference_models, name)().float()
    for seed in (1, 2):
        result = audit(model, spec, out_rep, seed=seed)
        assert all(r.dtype == "float32" for r in result)
        assert result.verdicts == expected, str(result)
