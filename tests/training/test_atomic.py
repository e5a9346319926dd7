"""Atomic files: a failed or killed write never damages the previous file; leftovers of
dead writers are removed; unusable state files give errors that name them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from geodl.errors import InputError
from geodl.training import atomic_save, atomic_write_text, load_state_file, remove_stale_tmp


def test_a_failed_write_keeps_the_old_file_and_leaves_no_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.pt"
    atomic_save({"format": "x", "epoch": 1}, path)

    def broken_save(obj: object, fh: object) -> None:
        fh.write(b"partial garbage")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"format": "x", "epoch": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]


def test_kill_9_during_a_write_keeps_the_old_file_and_the_next_start_cleans_up(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.pt"
    atomic_write_text("old", path)
    script = f"""
import os, signal
from geodl.training import atomic_write
def write(fh):
    fh.write(b"half of the new")
    fh.flush()
    os.kill(os.getpid(), signal.SIGKILL)
atomic_write({str(path)!r}, write)
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == -9
    assert path.read_text() == "old"
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].read_bytes() == b"half of the new"
    assert remove_stale_tmp(tmp_path) == leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.pt"]


def test_tmp_files_of_a_live_writer_are_kept(tmp_path: Path) -> None:
    live = tmp_path / f"a.pt.{os.getppid()}.tmp"  # the parent process is alive
    live.write_bytes(b"being written")
    assert remove_stale_tmp(tmp_path) == []
    assert live.exists()


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"not a zip file at all", "is corrupt, truncated"),
        (None, "is corrupt, truncated"),  # a real file cut in half
        ("other-format", "not a geodl checkpoint"),
    ],
)
def test_unusable_state_files_name_the_file(tmp_path: Path, content: object, match: str) -> None:
    path = tmp_path / "checkpoint.pt"
    if content is None:
        torch.save({"format": "f", "w": torch.zeros(1000)}, path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif isinstance(content, str):
        torch.save({"format": content}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=match) as info:
        load_state_file(path, "f", "checkpoint", "use --force.")
    assert str(path) in str(info.value) and "use --force." in str(info.value)


def test_files_with_pickled_code_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"format": "f", "payload": Path("x")}, path)  # a pickled object, not data
    with pytest.raises(InputError, match="is corrupt, truncated or not a file written by geodl"):
        load_state_file(path, "f", "checkpoint", "fix it.")
