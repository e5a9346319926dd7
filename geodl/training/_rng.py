"""The global random states (torch, NumPy, Python) as ``weights_only``-safe values, so a
checkpoint can hold them and a resumed run continue the same random sequence."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

__all__ = ["get_rng_state", "set_rng_state"]


def get_rng_state() -> dict[str, Any]:
    """The states of torch's CPU generator, NumPy's global one and Python's ``random``
    (tensors, lists and numbers only: loadable with ``torch.load(weights_only=True)``).

    Examples
    --------
    >>> state = get_rng_state()
    >>> a = torch.rand(1); set_rng_state(state); bool(torch.rand(1) == a)
    True
    """
    np_state: Any = np.random.get_state()
    py_state = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "numpy": [
            np_state[0],
            torch.from_numpy(np.asarray(np_state[1]).astype(np.int64)),
            *np_state[2:],
        ],
        "python": [py_state[0], torch.tensor(py_state[1], dtype=torch.int64), py_state[2]],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore states written by :func:`get_rng_state`."""
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state((np_state[0], np.asarray(np_state[1], dtype=np.uint32), *np_state[2:]))
    py_state = state["python"]
    random.setstate((py_state[0], tuple(int(x) for x in py_state[1].tolist()), py_state[2]))
