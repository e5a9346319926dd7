"""Localisation on TorchScript modules and inside e3nn networks."""

from __future__ import annotations

import torch
from e3nn import o3
from torch import nn

from geodl.symmetry import check_equivariance, check_invariance


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(1, 8)  # on distances: invariant
        self.mix = nn.Linear(3, 8)  # on raw coordinates: breaks rotations

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = torch.cdist(x, x).sum(1, keepdim=True)
        return self.embed(d) + 0.1 * self.mix(x)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = _Block()
        self.head = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.block(x))).sum()


def test_torchscript_module_is_walked_to_the_first_breaking_submodule() -> None:
    torch.manual_seed(0)
    scripted = torch.jit.script(_Net())
    x = torch.randn(6, 3)
    r = check_invariance(scripted, "SO3", x)
    assert r.verdict == "broken" and r.culprit == "block.mix", r.trace
    names = [t["module"] for t in r.trace]
    assert names.index("block.embed") < names.index("block.mix") < names.index("block")
    assert check_invariance(scripted, "permutation", x).verdict == "exact"


class _E3Net(nn.Module):
    def __init__(self, wrong: bool) -> None:
        super().__init__()
        self.lin1 = o3.Linear("1x1o + 2x0e", "1x1o + 2x0e")
        # reads the features in the wrong layout: breaks O(3)
        self.lin2 = o3.Linear("2x0e + 1x1o" if wrong else "1x1o + 2x0e", "1x0e")

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return self.lin2(self.lin1(f))


def test_first_breaking_e3nn_module_is_named() -> None:
    torch.manual_seed(0)
    f = torch.randn(4, 5)
    ok = check_equivariance(_E3Net(False), "O3", f, in_rep="1x1o + 2x0e", out_rep="1x0e")
    assert ok.verdict == "exact"
    r = check_equivariance(_E3Net(True), "O3", f, in_rep="1x1o + 2x0e", out_rep="1x0e")
    assert r.verdict == "broken" and r.culprit == "lin2"
    assert r.trace[0]["module"] == "lin1" and r.trace[0]["ok"]
    assert all("_compiled" not in t["module"] for t in r.trace)
