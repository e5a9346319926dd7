from __future__ import annotations

import pytest
import torch

from geodl.atoms import AtomicFitting


def test_fitting_routes_atoms_to_their_species_net() -> None:
    fit = AtomicFitting(3, 4, (6,))
    desc = torch.randn(5, 4)
    species = torch.tensor([2, 0, 1, 2, 0])
    out = fit(desc, species)
    for i, t in enumerate(species.tolist()):
        assert out[i].item() == pytest.approx(fit.nets[t](desc[i : i + 1]).item(), rel=1e-6)
    assert "num_types=3, in_features=4, widths=(6,)" in repr(fit)


def test_fitting_gradient_flows_per_species() -> None:
    fit = AtomicFitting(2, 3, (4,))
    desc = torch.randn(4, 3, requires_grad=True)
    fit(desc, torch.tensor([0, 0, 0, 0])).sum().backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in fit.nets[1].parameters())
    assert desc.grad is not None and desc.grad.abs().sum() > 0
