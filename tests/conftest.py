"""Shared test configuration.

* hypothesis: a ``ci`` profile (no deadline, derandomised) is loaded by default; set
  ``HYPOTHESIS_PROFILE=dev`` for randomised local exploration.
* RNGs: every test starts from a fixed torch / numpy / random seed.
* ``float64``: a fixture that switches torch's default dtype to float64 for one test.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Two cores, two xdist workers: one intra-op thread each avoids oversubscription.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)


@pytest.fixture
def float64() -> Iterator[None]:
    """Run the test with ``torch.float64`` as the default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)
