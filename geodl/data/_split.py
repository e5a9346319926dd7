"""A train/test split of tensors (private)."""

from __future__ import annotations

from typing import NamedTuple

import torch


class Split(NamedTuple):
    """Train and test tensors of a supervised data set.

    Attributes
    ----------
    x_train, y_train, x_test, y_test : Tensor
        Inputs (float32) and targets (int64 class labels or float32 values).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
