"""Which e3nn the suite runs against (``make test`` runs the e3nn tests twice: with the
installed e3nn and with the oldest supported one, 0.4.4, the version mace-torch pins)."""

from __future__ import annotations

import os

import e3nn
import torch
from e3nn import o3


def test_the_expected_e3nn_is_imported() -> None:
    expected = os.environ.get("GEODL_EXPECT_E3NN")
    if expected is not None:  # set by `make test-e3nn-compat`
        assert e3nn.__version__ == expected, (e3nn.__version__, e3nn.__file__)
    major, minor = (int(x) for x in e3nn.__version__.split(".")[:2])
    assert (major, minor) >= (0, 4)


def test_wigner_matrices_work_with_this_torch() -> None:
    """e3nn 0.4.x loads its constants with torch.load (geodl allow-lists ``slice``)."""
    import geodl  # noqa: F401  (applies the compatibility shim)

    irreps = o3.Irreps("0e + 1o + 2e")
    a, b = o3.rand_matrix(dtype=torch.float64), o3.rand_matrix(dtype=torch.float64)
    product = irreps.D_from_matrix(a) @ irreps.D_from_matrix(b)
    assert torch.allclose(irreps.D_from_matrix(a @ b), product, atol=1e-6)
