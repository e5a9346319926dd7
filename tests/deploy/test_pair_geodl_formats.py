"""Deployed files of both formats in today's plugin, and the ``exchange`` / ``shell``
keywords of ``pair_style geodl``: a format 1 file (written before the per-layer path) of
a message-passing model runs in the ghost-shell mode with the results of a format 2
file; asking a model without a per-layer path for ``exchange`` is an ERROR line saying
what to do; the explicit ``exchange`` keyword equals the default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from geodl.atoms import AtomisticModel, EquivariantConfig
from geodl.deploy import deploy, load_deployed
from geodl.deploy._export import metadata_of

from .conftest import E0S, TYPE_MAP, Deployed, _fitted, cuau_cell, run_lammps, write_data

pytestmark = pytest.mark.slow

SECTION = """
clear
units metal
atom_style atomic
atom_modify map yes
read_data {data}
pair_style geodl {style}
pair_coeff * * {model} Cu Au
compute pe all pe/atom
dump d all custom 1 {tag}.dump id fx fy fz c_pe
dump_modify d sort id format float %.17g
run 0
print "{tag} $(pe:%.17g) $(press:%.17g)" append results.txt screen no
undump d
"""


class FormatOne(nn.Module):
    """What ``geodl deploy`` wrote before the per-layer path: format 1, no ``mp_*``."""

    def __init__(self, model: AtomisticModel) -> None:
        super().__init__()
        self.core = model.core
        self.geodl_format_version = 1
        self.geodl_version = "0.1.0"
        self.model_type = str(model.config.type)
        self.dtype = "float64"
        self.type_map = list(model.type_map)
        self.r_cut = float(model.r_cut)
        self.receptive_field = float(model.receptive_field)

    def forward(
        self, species: Tensor, edge_vec: Tensor, edge_index: Tensor, nlocal: int
    ) -> tuple[Tensor, Tensor, Tensor]:
        vec = edge_vec.detach().requires_grad_(True)
        atomic = self.core.atomic_energies(species, vec, edge_index)[:nlocal]
        grads = torch.autograd.grad([atomic.sum()], [vec], allow_unused=True)
        grad = grads[0]
        if grad is None:
            grad = torch.zeros_like(vec)
        return atomic.sum().detach(), atomic.detach(), grad


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small equivariant model deployed now (format 2) and as format 1."""
    torch.manual_seed(0)
    cfg = EquivariantConfig(
        type_map=TYPE_MAP, r_cut=3.0, channels=8, radial_mlp=(16,), dtype="float64", e0s=E0S
    )
    model = _fitted(AtomisticModel(cfg))
    d = tmp_path_factory.mktemp("formats")
    deploy(model, d / "v2.pth")
    torch.jit.script(FormatOne(model)).save(str(d / "v1.pth"))
    return {"v1": d / "v1.pth", "v2": d / "v2.pth", "data": write_data(cuau_cell(), d / "c.data")}


def test_format_1_file_runs_in_the_shell_mode(
    lammps_bin: Path, files: dict[str, Path], tmp_path: Path
) -> None:
    meta = metadata_of(load_deployed(files["v1"]))
    assert meta["geodl_format_version"] == 1 and meta["mp_layers"] == 0
    cases = {"v2": ("v2", ""), "v2_exchange": ("v2", "exchange"), "v1": ("v1", "")}
    script = "".join(
        SECTION.format(data=files["data"], style=style, model=files[f], tag=tag)
        for tag, (f, style) in cases.items()
    )
    run = run_lammps(lammps_bin, script, tmp_path, nprocs=2)
    assert run.returncode == 0, run.output[-3000:]
    log = (tmp_path / "log.lammps").read_text()
    assert "ghost shell over the receptive field (the model file has no per-layer path)" in log
    assert "node features exchanged between layers" in log
    results = run.results()
    ref = results["v2"]
    for tag in ("v2_exchange", "v1"):
        assert abs(results[tag][0] - ref[0]) <= 1e-12 * abs(ref[0]), tag
        assert abs(results[tag][1] - ref[1]) <= 1e-9 * abs(ref[1]), tag
        np.testing.assert_allclose(run.dump(tag), run.dump("v2"), rtol=0, atol=1e-11)


@pytest.mark.parametrize("which", ["v1", "toy"])
def test_exchange_without_a_per_layer_path_is_an_error_line(
    which: str, lammps_bin: Path, files: dict[str, Path], tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    if which == "v1":
        model, why = files["v1"], "it was deployed by an older geodl, file format 1"
    else:
        toy: Deployed = request.getfixturevalue("mp_model")  # toy_mp: layers not exposed
        model, why = toy.pth, "its family does not expose its layers"
    script = SECTION.format(data=files["data"], style="exchange", model=model, tag="x")
    run = run_lammps(lammps_bin, script, tmp_path)
    assert run.returncode > 0, run.output[-2000:]
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR")]
    assert errors, run.output[-2000:]
    assert f"has no per-layer path ({why}); redeploy it" in errors[0], errors[0]
    assert "'pair_style geodl shell'" in errors[0]
