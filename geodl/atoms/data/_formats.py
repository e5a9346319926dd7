"""Data formats: ASE's, DeePMD-kit's system folders and everything dpdata reads.

One registry, :data:`DATA_FORMATS`, names the formats ``geodl train --data-format``,
``geodl convert --from/--to`` and :func:`read_frames` accept:

* ``"auto"`` — a ``bundled:NAME`` dataset, a DeePMD system folder (``type.raw`` +
  ``set.*/*.npy``, or ``*.raw`` files), a folder holding many of them (dpdata's
  ``MultiSystems`` layout), else any file ``ase.io.read`` understands;
* ``"ase"`` / ``"extxyz"`` — through ASE (``ase:FORMAT`` passes ASE's format name);
* ``"deepmd/npy"``, ``"deepmd/raw"`` — DeePMD-kit systems (one folder or a root of many);
* any other dpdata format name (``"vasp/outcar"``, ``"cp2k/output"``, ``"qe/pw/scf"``,
  ...), read by dpdata (the ``formats`` extra).

Units follow ASE and dpdata: Å, eV, eV/Å; DeePMD's virial :math:`W` (eV) becomes ASE's
stress :math:`\\sigma = -W / V` (eV/Å³) on reading and back on writing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ase import Atoms

from geodl.errors import InputError

__all__ = [
    "BUNDLED_DATASETS",
    "DATA_FORMATS",
    "bundled_dataset",
    "convert",
    "detect_format",
    "find_deepmd_systems",
    "read_ase_file",
    "read_frames",
    "resolve_source",
    "write_frames",
]

#: format name -> description (dpdata's own format names are accepted too).
DATA_FORMATS: dict[str, str] = {
    "auto": "detect: bundled:NAME, DeePMD folder(s), else any ase.io format",
    "ase": "anything ase.io reads/writes, format from the file name (ase:FORMAT to force one)",
    "extxyz": "extended XYZ through ASE (labels as ASE's single-point results)",
    "deepmd/npy": "DeePMD-kit system folder(s): type.raw, type_map.raw, set.*/*.npy",
    "deepmd/raw": "DeePMD-kit system folder(s): type.raw, coord.raw, energy.raw, ...",
}

BUNDLED_PREFIX = "bundled:"

#: name -> file of the bundled (shipped) datasets, package data of ``geodl.atoms.data``.
BUNDLED_DATASETS: dict[str, str] = {
    "cuau": "cuau_emt.extxyz.gz",
    "argon": "argon_lj.extxyz.gz",
    "ethanol": "ethanol_mmff94.extxyz.gz",
    "malonaldehyde": "malonaldehyde_mmff94.extxyz.gz",
    "aspirin": "aspirin_mmff94.extxyz.gz",
    "ethanol-xtb": "ethanol_gfn2xtb.extxyz.gz",
}


def bundled_dataset(name: str) -> Path:
    """Path of a bundled dataset file (``"cuau"``, ``"argon"``, ``"ethanol"``, ...),
    found with :mod:`importlib.resources` (works from a source tree and an installed
    wheel, in any working directory).

    Examples
    --------
    >>> bundled_dataset("cuau").name
    'cuau_emt.extxyz.gz'
    """
    if name not in BUNDLED_DATASETS:
        raise InputError(
            f"Unknown bundled dataset {name!r}. Valid names: {', '.join(sorted(BUNDLED_DATASETS))}."
        )
    from importlib.resources import files

    resource = files("geodl.atoms.data").joinpath("bundled").joinpath(BUNDLED_DATASETS[name])
    path = Path(str(resource))
    if not path.is_file():
        raise InputError(
            f"The bundled dataset {name!r} is missing from the installed package ({path}); "
            "reinstall geodl, or regenerate it with the recipe in the source tree's datasets/."
        )
    return path


_COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}


def read_ase_file(path: Path, index: str = ":", format: str | None = None) -> list[Atoms]:
    """``ase.io.read`` as a list; compressed extxyz is decompressed in memory first (ASE's
    own reader re-scans compressed streams and is ~50x slower). Errors name the file."""
    import importlib
    import io

    import ase.io

    inner = path.with_suffix("") if path.suffix in _COMPRESSED else path
    try:
        if path.suffix in _COMPRESSED and inner.suffix in (".xyz", ".extxyz"):
            opener = importlib.import_module(_COMPRESSED[path.suffix]).open
            with opener(path, "rt") as fh:
                text = fh.read()
            frames = ase.io.read(io.StringIO(text), index=index, format="extxyz")
        else:
            frames = ase.io.read(str(path), index=index, format=format)
    except Exception as exc:  # ASE raises many types for malformed files
        raise InputError(
            f"{path}: ASE could not read this file ({type(exc).__name__}: {exc}). Check that "
            "it is a valid extended XYZ / ASE db / trajectory file, or name its format with "
            "--data-format (ase:FORMAT, deepmd/npy, vasp/outcar, ...)."
        ) from exc
    return [frames] if isinstance(frames, Atoms) else list(frames)


def resolve_source(source: str | os.PathLike[str]) -> Path:
    """``bundled:NAME`` -> the shipped file, anything else -> ``Path(source)``.

    Examples
    --------
    >>> resolve_source("bundled:argon").name
    'argon_lj.extxyz.gz'
    """
    text = os.fspath(source)
    if text.startswith(BUNDLED_PREFIX):
        return bundled_dataset(text[len(BUNDLED_PREFIX) :])
    return Path(text)


def find_deepmd_systems(root: Path) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds a ``type.raw``, sorted."""
    if (root / "type.raw").is_file():
        return [root]
    return sorted(p.parent for p in root.rglob("type.raw"))


def detect_format(path: Path) -> str:
    """The format of an existing ``path`` for ``"auto"``.

    Examples
    --------
    >>> detect_format(resolve_source("bundled:argon"))
    'ase'
    """
    if path.is_dir():
        systems = find_deepmd_systems(path)
        if not systems:
            raise InputError(
                f"data: {str(path)!r} is a folder but holds no DeePMD system (no type.raw "
                "below it); give a file, a DeePMD system folder, or --data-format."
            )
        return "deepmd/npy" if any(systems[0].glob("set.*")) else "deepmd/raw"
    return "ase"


def _check_format(fmt: str) -> str:
    if fmt in DATA_FORMATS or fmt.startswith("ase:"):
        return fmt
    dpdata = _dpdata(f"data format {fmt!r}")
    known = {str(k) for k in dpdata.format.Format.get_formats()}
    if fmt not in known:
        raise InputError(
            f"Unknown data format {fmt!r}. Valid formats: {', '.join(DATA_FORMATS)}, "
            "ase:FORMAT, or a dpdata format such as vasp/outcar, cp2k/output, qe/pw/scf "
            f"(dpdata knows {len(known)})."
        )
    return fmt


def _dpdata(feature: str) -> Any:
    from geodl.extras import require

    require("formats", feature, ("dpdata",))
    import dpdata

    return dpdata


def _select(frames: list[Atoms], index: str) -> list[Atoms]:
    from ase.io.formats import string2index

    key = string2index(index)
    if isinstance(key, str):
        raise InputError(
            f"index {index!r} is not a frame number or slice; use ASE syntax such as ':', "
            "'0' or '-10:'."
        )
    picked = frames[key]
    return [picked] if isinstance(picked, Atoms) else list(picked)


def _read_dpdata(path: Path, fmt: str) -> list[Atoms]:
    dpdata = _dpdata(f"reading {fmt}")
    if fmt in ("deepmd/npy", "deepmd/raw"):
        paths = find_deepmd_systems(path)
        if not paths:
            raise InputError(f"data: no DeePMD system (type.raw) under {str(path)!r}.")
    else:
        paths = [path]
    frames: list[Atoms] = []
    for p in paths:
        try:
            system = dpdata.LabeledSystem(str(p), fmt=fmt)
        except Exception as exc:  # dpdata raises many types for malformed input
            raise InputError(
                f"{p}: dpdata could not read it as {fmt!r} ({type(exc).__name__}: {exc}); "
                "check the folder/file and --data-format."
            ) from exc
        frames += list(system.to("ase/structure"))
    return frames


def read_frames(
    source: str | os.PathLike[str], fmt: str = "auto", index: str = ":"
) -> tuple[list[Atoms], str]:
    """Read labelled frames (labels as ASE single-point results) and a label for messages.

    Parameters
    ----------
    source : path or ``bundled:NAME``
        File or folder.
    fmt : str
        A name of :data:`DATA_FORMATS` or a dpdata format.
    index : str
        Frames to keep, ASE syntax (``":"`` all, ``"::10"``...).

    Returns
    -------
    frames : list of ase.Atoms
    label : str
        The path, for error messages (``label[i]`` names frame ``i``).

    Examples
    --------
    >>> frames, label = read_frames("bundled:argon", index=":2")
    >>> len(frames), frames[0].calc.results["forces"].shape[1]
    (2, 3)
    """
    path = resolve_source(source)
    fmt = _check_format(fmt)
    if not path.exists():
        raise InputError(f"data: no such file or folder {str(path)!r}; check the path.")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt in ("ase", "extxyz") or fmt.startswith("ase:"):
        ase_format = fmt[4:] if fmt.startswith("ase:") else ("extxyz" if fmt == "extxyz" else None)
        return read_ase_file(path, index, ase_format), str(path)
    return _select(_read_dpdata(path, fmt), index), str(path)


def write_frames(frames: list[Atoms], dest: str | os.PathLike[str], fmt: str = "auto") -> None:
    """Write labelled frames; ``"auto"`` picks ``deepmd/npy`` for a path without a file
    suffix, ASE's format from the suffix otherwise. DeePMD output holds one system per
    composition (dpdata ``MultiSystems``) under ``dest``."""
    path = Path(dest)
    fmt = _check_format(fmt)
    if fmt == "auto":
        fmt = "ase" if path.suffix else "deepmd/npy"
    if fmt in ("ase", "extxyz") or fmt.startswith("ase:"):
        import ase.io

        ase_format = fmt[4:] if fmt.startswith("ase:") else ("extxyz" if fmt == "extxyz" else None)
        path.parent.mkdir(parents=True, exist_ok=True)
        ase.io.write(str(path), frames, format=ase_format)
        return
    dpdata = _dpdata(f"writing {fmt}")
    systems = dpdata.MultiSystems()
    for atoms in frames:
        systems.append(dpdata.LabeledSystem(atoms, fmt="ase/structure"))
    systems.to(fmt, str(path))


def convert(
    source: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    from_fmt: str = "auto",
    to_fmt: str = "auto",
    index: str = ":",
) -> int:
    """Convert labelled data between formats; returns the number of frames written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "argon.extxyz"
    >>> convert("bundled:argon", out, index=":3")
    3
    """
    frames, _ = read_frames(source, from_fmt, index)
    if not frames:
        raise InputError(f"convert: {os.fspath(source)!r} holds no frames (index {index!r}).")
    write_frames(frames, dest, to_fmt)
    return len(frames)
