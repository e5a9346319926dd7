"""Times DeePMD-kit's ``DeepPot.eval`` on one structure; runs in DeePMD-kit's own Python.

Standalone on purpose (numpy + deepmd only, no geodl import): ``geodl bench md-speed``
runs ``PEER_PYTHON _deepmd_worker.py ARGS_JSON`` with ``{"model", "npz", "repeats",
"threads"}``; the structure file holds ``positions (N, 3)``, ``cell (3, 3)`` and
``symbols``. One step = ``DeepPot.eval`` of energy, forces and virial (its neighbour
list included) after a tiny displacement, as an MD code calls it. Prints one line
``RESULT {json}``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss survives exec on Linux, so
    it would report the parent's peak)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    threads = str(int(args["threads"]))
    for key in (
        "OMP_NUM_THREADS",
        "DP_INTRA_OP_PARALLELISM_THREADS",
        "TF_INTRA_OP_PARALLELISM_THREADS",
    ):
        os.environ[key] = threads
    for key in ("DP_INTER_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS"):
        os.environ[key] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    from deepmd.infer import DeepPot  # type: ignore[import-not-found,unused-ignore]

    try:
        import torch

        torch.set_num_threads(int(threads))
    except ImportError:
        pass
    data = np.load(args["npz"])
    dp = DeepPot(args["model"])
    type_map = list(dp.get_type_map())
    atype = np.array([type_map.index(str(s)) for s in data["symbols"]], dtype=np.int32)
    coord = np.array(data["positions"], dtype=np.float64)
    cell = np.array(data["cell"], dtype=np.float64).reshape(1, 9)
    base_rss = _peak_rss_mb()
    rng = np.random.default_rng(0)
    wall, cpu = [], []
    for step in range(int(args["repeats"]) + 1):
        coord += rng.normal(scale=1e-4, size=coord.shape)
        c0, t0 = time.process_time(), time.perf_counter()
        e, f, v = dp.eval(coord.reshape(1, -1), cell, atype)
        float(np.asarray(f).sum())
        if step > 0:  # the first call builds the graph / loads kernels
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    n = len(atype)
    w, c = statistics.median(wall), statistics.median(cpu)
    result = {
        "atoms": n,
        "ms_per_step": 1000 * w,
        "atoms_per_s": n / w,
        "atoms_per_cpu_s": n / c,
        "peak_rss_mb": _peak_rss_mb(),
        "base_rss_mb": base_rss,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
