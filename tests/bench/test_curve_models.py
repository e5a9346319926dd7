"""The models of ``geodl bench symmetry-curve`` respect exactly the groups they claim
(checked with geodl's own harness), and break the ones they do not."""

from __future__ import annotations

import importlib

import pytest
import torch

from geodl.bench.symmetry_curve import TASKS
from geodl.symmetry import check_invariance


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEODL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "geodl-cache"))


def _spec_models(task: str) -> tuple[dict, object]:
    mod = importlib.import_module(f"geodl.bench.{TASKS[task].module}")
    data = mod.load(0, 8, 8)
    return mod.models(data, quick=True), data


def _verdict(model: torch.nn.Module, group: str, x: torch.Tensor, kind: str, species=None) -> str:
    model = model.double().eval()
    if kind == "atoms":

        def f(species: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
            return model(pos.unsqueeze(0)).squeeze(0)

        return check_invariance(f, group, (species, x.double()), kind="atoms").verdict
    return check_invariance(
        lambda t: model(t.unsqueeze(0)).squeeze(0), group, x.double(), kind=kind
    ).verdict


def test_molecule_models_respect_exactly_the_groups_they_claim() -> None:
    specs, data = _spec_models("molecule")
    species, x = data.extra["species"], data.x_test[0]
    for name, spec in specs.items():
        torch.manual_seed(0)
        model = spec.build()
        model.fit_statistics(data.x_pool, data.y_pool, data.pool_extra[0])
        for group in spec.harness:
            assert _verdict(model, group, x, "atoms", species) == "exact", (name, group)
        so3 = _verdict(model, "SO3", x, "atoms", species)
        assert (so3 == "exact") == (spec.symmetry == "E3 x S_n"), (name, so3)
        perm = _verdict(model, "permutation", x, "atoms", species)
        assert (perm == "exact") == (spec.symmetry != "trivial"), (name, perm)


def test_pointcloud_and_image_models_respect_exactly_the_groups_they_claim() -> None:
    for task, kind, broken in (("pointcloud", "points", "SO3"), ("image", "image", "C4")):
        specs, data = _spec_models(task)
        for name, spec in specs.items():
            torch.manual_seed(0)
            model = spec.build()
            if hasattr(model, "fit_statistics"):
                model.fit_statistics(data.x_pool, data.y_pool)
            x = data.x_test[0]
            for group in spec.harness:
                assert _verdict(model, group, x, kind) == "exact", (name, group)
            if broken not in " ".join(spec.harness) and "SE3" not in " ".join(spec.harness):
                assert _verdict(model, broken, x, kind) != "exact", (name, broken)
