"""Atomic writes of the run's files (a kill leaves the old file or the new one, never half)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ase import Atoms

__all__ = ["read_frames_file", "write_frames", "write_json"]


def write_json(obj: Any, path: Path) -> None:
    """``json.dump`` to a temporary file, then ``os.replace``."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=float) + "\n")
    os.replace(tmp, path)


def write_frames(frames: Sequence[Atoms], path: Path) -> None:
    """Extended XYZ to a temporary file, then ``os.replace`` (an empty file for no frames)."""
    import ase.io

    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    if frames:
        ase.io.write(str(tmp), list(frames), format="extxyz")
    else:
        tmp.write_text("")
    os.replace(tmp, path)


def read_frames_file(path: Path) -> list[Atoms]:
    """Every frame of ``path``; none for a missing or empty file."""
    import ase.io

    if not path.is_file() or path.stat().st_size == 0:
        return []
    return list(ase.io.read(str(path), index=":"))
