"""A tiny message-passing family, registered only inside tests: it exercises the
plugin's ghost-shell mode (receptive field = layers * r_cut > r_cut) before a real
message-passing family is on main."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from geodl.atoms.model import MODEL_TYPES, ModelConfig, ModelFamily, register_model_type


@dataclass
class ToyMPConfig(ModelConfig):
    """Invariant message passing: ``layers`` rounds over edges shorter than ``r_cut``."""

    type: str = field(default="toy_mp", kw_only=True)
    layers: int = 2
    width: int = 8


class _Layer(nn.Module):
    def __init__(self, width: int, n_basis: int) -> None:
        super().__init__()
        self.radial = nn.Linear(n_basis, width)
        self.update = nn.Linear(width, width)

    def forward(self, h: Tensor, basis: Tensor, edge_index: Tensor) -> Tensor:
        msg = self.radial(basis) * h.index_select(0, edge_index[1])
        agg = torch.zeros_like(h).index_add(0, edge_index[0], msg)
        return h + torch.tanh(self.update(agg))


class ToyMP(nn.Module):
    """``species, edge_vec, edge_index -> (N,)``; smooth at ``r_cut``."""

    def __init__(self, config: ToyMPConfig) -> None:
        super().__init__()
        self.r_cut = float(config.r_cut)
        self.receptive_field = float(config.layers * config.r_cut)
        n_basis = 6
        self.register_buffer("centers", torch.linspace(0.8, self.r_cut, n_basis))
        self.embed = nn.Embedding(len(config.type_map), config.width)
        self.layers = nn.ModuleList([_Layer(config.width, n_basis) for _ in range(config.layers)])
        self.out = nn.Linear(config.width, 1)

    def forward(self, species: Tensor, edge_vec: Tensor, edge_index: Tensor) -> Tensor:
        r = torch.sqrt((edge_vec * edge_vec).sum(-1))
        fc = 0.5 * (torch.cos(math.pi * r / self.r_cut) + 1.0) * (r < self.r_cut)
        basis = torch.exp(-((r.unsqueeze(-1) - self.centers) ** 2)) * fc.unsqueeze(-1)
        h = self.embed(species)
        for layer in self.layers:
            h = layer(h, basis, edge_index)
        return self.out(h).squeeze(-1)

    def fit_statistics(self, samples: Any) -> dict[str, Any]:
        return {}


@contextmanager
def toy_mp_registered() -> Iterator[None]:
    """Register ``toy_mp`` in :data:`MODEL_TYPES` for the duration of the block."""
    register_model_type(ModelFamily("toy_mp", ToyMPConfig, ToyMP, "test-only message passing"))
    try:
        yield
    finally:
        MODEL_TYPES.pop("toy_mp", None)
