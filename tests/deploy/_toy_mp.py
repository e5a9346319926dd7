"""Tiny message-passing families, registered only inside tests: ``toy_mp`` exercises the
plugin's ghost-shell mode (receptive field = layers * r_cut > r_cut, no per-layer path),
``toy_mp_layered`` the per-layer path of ``geodl deploy`` (and, with ``hops=2``, a
family whose layers break it)."""

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

    def forward(self, h: Tensor, basis: Tensor, edge_index: Tensor, n_out: int = -1) -> Tensor:
        n = h.shape[0] if n_out < 0 else n_out
        msg = self.radial(basis) * h.index_select(0, edge_index[1])
        agg = torch.zeros(n, h.shape[1], dtype=h.dtype).index_add(0, edge_index[0], msg)
        return h[:n] + torch.tanh(self.update(agg))


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


@dataclass
class ToyLayeredConfig(ToyMPConfig):
    """``toy_mp`` with its layers exposed; ``hops=2`` applies each layer's update twice
    (two edges deep: a per-layer path that an exchange of features cannot reproduce)."""

    type: str = field(default="toy_mp_layered", kw_only=True)
    hops: int = 1


class ToyLayered(nn.Module):
    """``toy_mp`` with ``embed``, ``layer`` and ``layer_widths`` and a readout per layer."""

    def __init__(self, config: ToyLayeredConfig) -> None:
        super().__init__()
        self.r_cut = float(config.r_cut)
        self.receptive_field = float(config.layers * config.r_cut)
        self.hops = int(config.hops)
        self.register_buffer("centers", torch.linspace(0.8, self.r_cut, 6))
        self.species_embed = nn.Embedding(len(config.type_map), config.width)
        self.layers = nn.ModuleList([_Layer(config.width, 6) for _ in range(config.layers)])
        self.out = nn.Linear(config.width, 1)
        self.layer_widths = [int(config.width)] * (config.layers + 1)

    def _basis(self, edge_vec: Tensor) -> Tensor:
        r = torch.sqrt((edge_vec * edge_vec).sum(-1))
        fc = 0.5 * (torch.cos(math.pi * r / self.r_cut) + 1.0) * (r < self.r_cut)
        return torch.exp(-((r.unsqueeze(-1) - self.centers) ** 2)) * fc.unsqueeze(-1)

    def forward(self, species: Tensor, edge_vec: Tensor, edge_index: Tensor) -> Tensor:
        h = self.embed(species)
        energy = torch.zeros(h.shape[0], dtype=h.dtype)
        for t in range(len(self.layers)):
            h, e = self.layer(t, h, species, edge_vec, edge_index, h.shape[0])
            energy = energy + e
        return energy

    @torch.jit.export
    def embed(self, species: Tensor) -> Tensor:
        return self.species_embed(species)

    @torch.jit.export
    def layer(
        self, t: int, h: Tensor, species: Tensor, edge_vec: Tensor, edge_index: Tensor, n_out: int
    ) -> tuple[Tensor, Tensor]:
        basis = self._basis(edge_vec)
        out = h
        for i, block in enumerate(self.layers):
            if i == t:
                for _ in range(self.hops - 1):
                    out = block(out, basis, edge_index)
                out = block(out, basis, edge_index, n_out)
        return out, self.out(out).squeeze(-1)

    def fit_statistics(self, samples: Any) -> dict[str, Any]:
        return {}


@contextmanager
def toy_mp_registered() -> Iterator[None]:
    """Register ``toy_mp`` and ``toy_mp_layered`` in :data:`MODEL_TYPES` for the block."""
    register_model_type(ModelFamily("toy_mp", ToyMPConfig, ToyMP, "test-only message passing"))
    register_model_type(
        ModelFamily("toy_mp_layered", ToyLayeredConfig, ToyLayered, "test-only, layers exposed")
    )
    try:
        yield
    finally:
        MODEL_TYPES.pop("toy_mp", None)
        MODEL_TYPES.pop("toy_mp_layered", None)
