"""Native kernels built at first use (g++ + OpenMP, loaded with ctypes), with a fallback.

The compressed ``se_e2_a`` embedding has one hot loop that PyTorch cannot express without
materialising an ``(edges, M1)`` matrix: the table lookup fused with the contraction
:math:`T_i = \\sum_j \\tilde R_{ij}^T G_{ij}`; and a half neighbour list expands into the
full list sorted by centre in one counting-sort pass (``csrc/kernels.cpp``). It is compiled
once per machine into a cache folder (``$GEODL_KERNEL_CACHE``, default
``~/.cache/geodl/kernels``) named by a hash of the source, the flags and the CPU, so
concurrent processes and different machines never share a stale build. Without a C++
compiler, or with ``GEODL_NO_KERNELS=1``, :func:`table_kernel` returns ``None`` and the
callers use their pure-torch path (same results).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

__all__ = ["kernel_status", "table_kernel"]

_SOURCE = Path(__file__).parent / "csrc" / "kernels.cpp"
_BASE_FLAGS = ["-O3", "-std=c++17", "-shared", "-fPIC", "-fopenmp", "-fno-math-errno"]
_lock = threading.Lock()
_cache: dict[str, ctypes.CDLL | None] = {}
_errors: dict[str, str] = {}


def _cpu_signature() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return os.uname().machine
    for line in text.splitlines():
        if line.startswith("flags"):
            return os.uname().machine + line
    return os.uname().machine


def _compile(source: Path, target: Path) -> None:
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise RuntimeError("no C++ compiler (g++/c++) on PATH and $CXX not set")
    target.parent.mkdir(parents=True, exist_ok=True)
    last = ""
    for extra in (["-march=native"], []):
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".so", delete=False) as tmp:
            tmp_path = Path(tmp.name)
        cmd = [compiler, *_BASE_FLAGS, *extra, str(source), "-o", str(tmp_path)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode == 0:
            os.replace(tmp_path, target)  # atomic: concurrent builders never see half a file
            return
        tmp_path.unlink(missing_ok=True)
        last = (proc.stderr or proc.stdout).strip()[-500:]
    raise RuntimeError(f"compiling {source.name} failed: {last}")


def _load(name: str, source: Path, abi: str) -> ctypes.CDLL | None:
    with _lock:
        if name in _cache:
            return _cache[name]
        lib = None
        if os.environ.get("GEODL_NO_KERNELS", "") not in ("", "0"):
            _errors[name] = "disabled by GEODL_NO_KERNELS"
        else:
            try:
                key = hashlib.sha256(
                    source.read_bytes() + " ".join(_BASE_FLAGS).encode() + _cpu_signature().encode()
                ).hexdigest()[:16]
                root = os.environ.get("GEODL_KERNEL_CACHE") or Path.home() / ".cache/geodl/kernels"
                target = Path(root) / f"{name}-{key}.so"
                if not target.is_file():
                    _compile(source, target)
                lib = ctypes.CDLL(str(target))
                if getattr(lib, abi)() != 2:
                    raise RuntimeError(f"{target} has an unexpected ABI version")
            except (OSError, RuntimeError, AttributeError) as exc:
                _errors[name] = str(exc)
                warnings.warn(
                    f"geodl: native kernel {name!r} unavailable ({exc}); using the pure-torch "
                    "path (same results, slower).",
                    RuntimeWarning,
                    stacklevel=3,
                )
                lib = None
        _cache[name] = lib
        return lib


def table_kernel() -> ctypes.CDLL | None:
    """The fused table-lookup + contraction kernel, compiled on first call; ``None`` when
    it cannot be built (no compiler) or ``GEODL_NO_KERNELS=1``.

    Examples
    --------
    >>> lib = table_kernel()
    >>> lib is None or hasattr(lib, "geodl_se_a_table_forward_f32")
    True
    """
    return _load("geodl_kernels", _SOURCE, "geodl_se_a_table_abi")


def kernel_status() -> dict[str, str]:
    """``name -> "native"`` or the reason the pure-torch fallback is used (for reports).

    Examples
    --------
    >>> sorted(kernel_status())
    ['se_a_table']
    """
    lib = table_kernel()
    return {"se_a_table": "native" if lib is not None else _errors.get("geodl_kernels", "?")}
