"""geodl.deploy — trained potentials in MD engines: ``geodl deploy`` (a self-contained
TorchScript file) and the LAMMPS plugin ``pair_style geodl`` (``geodl lammps build``),
plus a ``fix external`` route from LAMMPS's Python module.

Names are imported lazily: the ``lammps.plugins`` entry point
(:func:`~geodl.deploy._plugin_dir.plugin_dir`) runs on every ``lmp`` start and must not
pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "BACKEND_ABI",
    "FORMAT_VERSION",
    "DeployedPotential",
    "FixExternalPotential",
    "PluginBuild",
    "build_lammps_plugin",
    "deploy",
    "installed_versions",
    "lammps_toolchain",
    "load_deployed",
    "open_lammps",
    "plugin_dir",
    "plugin_search_dirs",
    "stale_reason",
]

_WHERE = {
    "BACKEND_ABI": "_build",
    "PluginBuild": "_build",
    "build_lammps_plugin": "_build",
    "lammps_toolchain": "_build",
    "FORMAT_VERSION": "_export",
    "DeployedPotential": "_export",
    "deploy": "_export",
    "load_deployed": "_export",
    "FixExternalPotential": "_fix_external",
    "open_lammps": "_fix_external",
    "installed_versions": "_plugin_dir",
    "plugin_dir": "_plugin_dir",
    "plugin_search_dirs": "_plugin_dir",
    "stale_reason": "_plugin_dir",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"geodl.deploy.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'geodl.deploy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
