"""MNIST-1D, generated offline with the ``mnist1d`` package's own generator."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import torch

from geodl.data._split import Split

__all__ = ["load_mnist1d"]


def load_mnist1d(seed: int = 42, shuffle_positions: bool = False, **overrides: object) -> Split:
    r"""Generate MNIST-1D (Greydanus & Kobak) with ``mnist1d.data.make_dataset``.

    The package's default arguments are used (5000 signals of length 40, 80/20 split:
    4000 train / 1000 test, 10 classes) unless ``overrides`` change them; nothing is
    downloaded. The generator reseeds numpy/random globally; their states are restored
    afterwards.

    Parameters
    ----------
    seed : int
        The generator's seed (the package default and the published data use 42).
    shuffle_positions : bool
        Apply one fixed permutation of the 40 positions (the package's ``shuffle_seq``;
        the permutation is drawn from ``seed``), the "shuffled MNIST-1D" of the paper.
    **overrides
        Other ``mnist1d`` arguments, e.g. ``num_samples=1000``.

    Returns
    -------
    Split
        ``x_*`` float32 of shape ``(n, 1, 40)`` (one channel), ``y_*`` int64 ``(n,)``.

    Examples
    --------
    >>> data = load_mnist1d(num_samples=100)
    >>> tuple(data.x_train.shape), tuple(data.x_test.shape)
    ((80, 1, 40), (20, 1, 40))
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args(as_dict=True)
    unknown = sorted(set(overrides) - set(args))
    if unknown:
        raise ValueError(
            f"load_mnist1d: unknown argument(s) {unknown}. Valid: {', '.join(sorted(args))}."
        )
    args.update(overrides)
    args["seed"] = int(seed)
    args["shuffle_seq"] = bool(shuffle_positions)

    ns = SimpleNamespace(**args)  # the package reads attributes
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(ns)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)

    def x(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32).unsqueeze(1)

    def y(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.int64)

    return Split(x(d["x"]), y(d["y"]), x(d["x_test"]), y(d["y_test"]))
