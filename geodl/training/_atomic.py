"""Files that are always complete: atomic writes, stale temporary files, safe loading.

A write goes to ``NAME.PID.tmp`` in the same folder, is flushed and ``fsync``-ed, then
renamed over ``NAME`` with ``os.replace`` (atomic on POSIX and Windows): a reader — or a
run killed at any instant — sees either the previous complete file or the new one. A
``kill -9`` during the write can leave the temporary file behind;
:func:`remove_stale_tmp` deletes such leftovers when the next run starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import torch

from geodl.errors import InputError

__all__ = [
    "atomic_save",
    "atomic_write",
    "atomic_write_text",
    "load_state_file",
    "remove_stale_tmp",
]

_TMP = re.compile(r"^(?P<name>.+)\.(?P<pid>\d+)\.tmp$")


def _tmp_path(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(fh)`` on a temporary file next to ``path``, ``fsync`` it, rename it
    onto ``path``; on any error (or ``KeyboardInterrupt``) the temporary file is removed
    and ``path`` keeps its previous content.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> atomic_write(p, lambda fh: fh.write(b"abc"))
    >>> p.read_bytes(), sorted(x.name for x in p.parent.iterdir())
    (b'abc', ['a.bin'])
    """
    path = Path(path)
    tmp = _tmp_path(path)
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """``torch.save(obj)`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda fh: torch.save(obj, fh))


def atomic_write_text(text: str, path: str | os.PathLike[str]) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers: nothing of ours is writing at start-up
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_tmp(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the ``NAME.PID.tmp`` files in ``folder`` whose writer ``PID`` is gone.

    Files of a process that is still running (another run writing there right now) are
    left alone. Returns the removed paths.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "checkpoint.pt.999999999.tmp").write_bytes(b"half")
    >>> [p.name for p in remove_stale_tmp(d)], list(d.iterdir())
    (['checkpoint.pt.999999999.tmp'], [])
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        match = _TMP.match(path.name)
        if match and path.is_file() and not _alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def read_torch_file(
    path: str | os.PathLike[str], *, what: str = "file", hint: str = "", map_location: Any = "cpu"
) -> Any:
    """``torch.load(path, weights_only=True)`` whose failures name the file and what to do.

    ``weights_only=True`` refuses pickled code: a hostile file cannot run anything.

    Parameters
    ----------
    path : path
        The file (a model, a checkpoint).
    what : str
        What the file is, for the message (``"model file"``, ``"checkpoint"``).
    hint : str
        What to do about a bad file, appended to the message.

    Raises
    ------
    InputError
        The file is missing, unreadable, truncated, corrupt or holds pickled code.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "model.pt"; _ = bad.write_bytes(b"garbage")
    >>> read_torch_file(bad, what="model file", hint="Retrain it.")
    Traceback (most recent call last):
    ...
    geodl.errors.InputError: model file '.../model.pt' is corrupt, ... Retrain it.
    """
    name = os.fspath(path)
    tail = f" {hint}" if hint else ""
    try:
        return torch.load(name, map_location=map_location, weights_only=True)
    except OSError as exc:
        raise InputError(f"cannot read {what} {name!r}: {exc.strerror or exc}.{tail}") from exc
    except Exception as exc:  # UnpicklingError, RuntimeError (bad zip), EOFError, ...
        raise InputError(
            f"{what} {name!r} is corrupt, truncated or not a file written by geodl "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}).{tail}"
        ) from exc


def load_state_file(path: str | os.PathLike[str], fmt: str, what: str, fix: str) -> dict:
    """:func:`read_torch_file` of a dict whose ``"format"`` is ``fmt``.

    Parameters
    ----------
    path : path
        The file.
    fmt : str
        The expected value of the file's ``"format"`` key.
    what : str
        What the file is, for messages (``"training checkpoint"``).
    fix : str
        What the user can do when the file is unusable (appended to the message).

    Raises
    ------
    InputError
        The file is missing, empty, truncated, corrupt, not a ``weights_only`` file, or
        of another format; the message names the file and says ``fix``.
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: the {what} file is empty (0 bytes); {fix}")
    obj = read_torch_file(path, what=what, hint=fix)
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise InputError(f"{path}: not a geodl {what} (expected format {fmt!r}); {fix}")
    return obj
