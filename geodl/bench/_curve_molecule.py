r"""The molecule task of ``geodl bench symmetry-curve`` (private): energies of ethanol
(MMFF94, Langevin MD at 300/600/1000 K, made with
:func:`geodl.atoms.make_molecule_mmff94`) presented in arbitrary position, orientation and
atom order, and four energy models that differ in the symmetry they respect.

Every structure (training pool and test set) is centred, turned by a Haar-random rotation
:math:`Q`, moved by a random :math:`\mathbf t \in [-2, 2]^3` Å and its like atoms are
shuffled by a random :math:`\pi \in S_{n_C} \times S_{n_O} \times S_{n_H}`:
:math:`x_i \mapsto Q x_{\pi(i)} + \mathbf t`. The energy does not change, so the data are
a sample of an :math:`E(3) \times S_n`-invariant distribution.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from geodl.atoms import (
    AtomicFitting,
    EnergyModel,
    EnergyModelConfig,
    ResidualMLP,
    environment_matrix,
    make_molecule_mmff94,
)
from geodl.bench._curves import Batch, CurveData, ModelSpec, TrainRule
from geodl.nn import MLP
from geodl.symmetry import haar_orthogonal

MOLECULE = "ethanol"
#: cutoff / switching start (Å): every pair of ethanol (largest distance ~3.7 Å) is inside
R_CUT, R_SMOOTH = 6.0, 0.5
METRIC = (
    "test energy MAE per atom, meV/atom (MMFF94 ethanol, 9 atoms; models trained on "
    "energies and forces)"
)
RULE = TrainRule(min_steps=1000, epochs=100, batch_size=32, lr=5e-3, weight_decay=1e-4)
QUICK_RULE = TrainRule(min_steps=100, epochs=1, batch_size=16, lr=2e-3, weight_decay=1e-4)


def cache_dir() -> Path:
    """Where generated molecule sets are kept: ``$GEODL_CACHE_DIR/symmetry-curve``, by
    default ``~/.cache/geodl/symmetry-curve`` (deterministic, so safe to delete)."""
    root = os.environ.get("GEODL_CACHE_DIR") or os.path.join("~", ".cache", "geodl")
    return Path(root).expanduser() / "symmetry-curve"


def _frames(n: int, seed: int) -> dict[str, np.ndarray]:
    """Positions, forces, energies and symbols of ``n`` MD frames (cached ``.npz``)."""
    path = cache_dir() / f"{MOLECULE}-mmff94-n{n}-seed{seed}.npz"
    if path.exists():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    frames = make_molecule_mmff94(MOLECULE, n_structures=n, seed=seed)
    data = {
        "positions": np.stack([a.positions for a in frames]),
        "forces": np.stack([a.get_forces() for a in frames]),
        "energies": np.array([a.get_potential_energy() for a in frames]),
        "symbols": np.array(frames[0].get_chemical_symbols()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **data)  # type: ignore[arg-type]  # numpy's stub: allow_pickle
    tmp.replace(path)
    return data


def random_presentation(
    pos: Tensor, species: Tensor, gen: torch.Generator, forces: Tensor | None = None
) -> tuple[Tensor, Tensor | None]:
    r"""Each structure of ``pos (B, N, 3)`` turned, moved and its like atoms shuffled
    (:math:`x_i \mapsto Q x_{\pi(i)} + t`, forces :math:`f_i \mapsto Q f_{\pi(i)}`).
    ``species (N,)`` must list like atoms contiguously (then it is unchanged by
    :math:`\pi`)."""
    b, n, _ = pos.shape
    q = haar_orthogonal(b, 3, gen).to(pos.dtype)
    shift = (torch.rand(b, 1, 3, generator=gen, dtype=pos.dtype) * 4.0 - 2.0).to(pos.dtype)
    key = species.to(torch.float64) * 2.0 + torch.rand(b, n, generator=gen, dtype=torch.float64)
    perm = torch.argsort(key, dim=1)  # within each species block: a random order
    centred = pos - pos.mean(1, keepdim=True)
    moved = torch.gather(centred, 1, perm.unsqueeze(-1).expand(b, n, 3)) @ q.transpose(1, 2)
    if forces is not None:
        forces = torch.gather(forces, 1, perm.unsqueeze(-1).expand(b, n, 3)) @ q.transpose(1, 2)
    return moved + shift, forces


def load(seed: int, pool: int, test: int) -> CurveData:
    """Training pool and test set from independent MD runs (seeds derived from ``seed``),
    each structure in a random presentation; energies in eV."""
    train_raw, test_raw = _frames(pool, 1000 + seed), _frames(test, 2000 + seed)
    symbols = [str(s) for s in train_raw["symbols"]]
    type_map = list(dict.fromkeys(symbols))  # C, O, H: order of first appearance
    order = np.argsort([type_map.index(s) for s in symbols], kind="stable")
    species = torch.tensor([type_map.index(symbols[i]) for i in order])
    gen = torch.Generator().manual_seed(int(seed) + 31337)
    out = []
    for raw in (train_raw, test_raw):
        pos = torch.as_tensor(raw["positions"][:, order], dtype=torch.float32)
        forces = torch.as_tensor(raw["forces"][:, order], dtype=torch.float32)
        pos, moved = random_presentation(pos, species, gen, forces)
        assert moved is not None
        out.append((pos, torch.as_tensor(raw["energies"], dtype=torch.float32), moved))
    (x_pool, y_pool, f_pool), (x_test, y_test, f_test) = out
    info = {
        "molecule": MOLECULE,
        "type_map": type_map,
        "species": species.tolist(),
        "reference": "MMFF94 (RDKit), Langevin MD at 300/600/1000 K, one frame per 10 fs",
        "presentation": "random rotation (Haar SO3), translation in [-2, 2]^3 A, and "
        "permutation of like atoms, for every structure of the pool and the test set",
        "pool": pool,
        "test": test,
        "energy_std_eV": float(y_pool.std()),
    }
    extra = {"forces": f_test, "species": species}
    return CurveData(x_pool, y_pool, x_test, y_test, False, info, extra, (f_pool,))


def _dense_pairs(n: int) -> Tensor:
    """All ordered pairs ``(i, j)``, ``i != j``, of ``n`` atoms: ``(2, n (n - 1))``."""
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    keep = i != j
    return torch.stack([i[keep], j[keep]])


class NormalisedEnergy(nn.Module):
    """Base of the molecule models: ``forward(pos (B, N, 3)) -> (B,)`` predicts the
    standardised energy :math:`(E - \\mu) / \\sigma`; :meth:`fit_statistics` sets
    :math:`\\mu, \\sigma` and the RMS force from the training set."""

    mu: Tensor
    sigma: Tensor
    force_rms: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mu", torch.zeros(()))
        self.register_buffer("sigma", torch.ones(()))
        self.register_buffer("force_rms", torch.ones(()))

    @torch.no_grad()
    def fit_statistics(self, x: Tensor, y: Tensor, forces: Tensor) -> None:
        self.mu.fill_(float(y.mean()))
        self.sigma.fill_(float(y.std()) if len(y) > 1 else 1.0)
        self.force_rms.fill_(float(forces.pow(2).mean().sqrt()))

    def standardise(self, y: Tensor) -> Tensor:
        """Training targets :math:`(E - \\mu) / \\sigma`."""
        return (y - self.mu) / self.sigma


class SeAEnergy(NormalisedEnergy):
    r"""geodl's DeepPot-SE :class:`~geodl.atoms.EnergyModel` (``se_e2_a``) on the dense
    pair list of one molecule,
    :math:`E = \sum_i \alpha\, h_{t_i}(T_i T_i^{<\top}) + e_{t_i}`.

    Shapes
    ------
    ``pos (B, N, 3)`` -> ``(B,)`` standardised energies.

    Symmetry
    --------
    :math:`E(3) \times S_n`: distances and angles only, sums over like atoms.

    Examples
    --------
    >>> model = SeAEnergy(torch.tensor([0, 1, 1]), ["O", "H"], (8,))
    >>> model(torch.randn(2, 3, 3)).shape
    torch.Size([2])
    """

    species: Tensor
    pairs: Tensor

    def __init__(self, species: Tensor, type_map: list[str], fitting: tuple[int, ...]) -> None:
        super().__init__()
        config = EnergyModelConfig(
            type_map=type_map,
            r_cut=R_CUT,
            r_smooth=R_SMOOTH,
            embed_widths=(16, 32),
            axis_neurons=8,
            fitting_widths=fitting,
            min_distance=0.0,
        )
        self.model = EnergyModel(config)
        self.register_buffer("species", species.clone())
        self.register_buffer("pairs", _dense_pairs(len(species)))

    def _batch(self, b: int) -> tuple[Tensor, Tensor, Tensor]:
        n = len(self.species)
        offsets = (torch.arange(b) * n).repeat_interleave(self.pairs.shape[1])
        edge_index = self.pairs.repeat(1, b) + offsets
        return self.species.repeat(b), edge_index, torch.arange(b).repeat_interleave(n)

    @torch.no_grad()
    def fit_statistics(self, x: Tensor, y: Tensor, forces: Tensor) -> None:
        from torch_geometric.data import Batch, Data

        super().fit_statistics(x, y, forces)
        graphs = [
            Data(species=self.species, pos=p, edge_index=self.pairs, energy=e.reshape(1))
            for p, e in zip(x, y, strict=True)
        ]
        self.model.fit_statistics([Batch.from_data_list(graphs)])
        self.model.energy_scale.fill_(float(self.sigma) / math.sqrt(len(self.species)))

    def forward(self, pos: Tensor) -> Tensor:
        b = pos.shape[0]
        species, edge_index, batch = self._batch(b)
        flat = pos.reshape(-1, 3)
        out = self.model.compute(
            species,
            flat,
            edge_index,
            flat.new_zeros(edge_index.shape[1], 3),
            flat.new_zeros(b, 3, 3),
            batch,
            b,
            compute_forces=False,
        )
        return (out["energy"] - self.mu) / self.sigma


class VectorEnvironmentEnergy(NormalisedEnergy):
    r"""``se_e2_a`` without its rotation-invariant contraction: the per-atom features are
    the raw matrix :math:`T_i = \frac1{N_c}\sum_j \tilde R_{ij}^\top G_{ij}` (flattened)
    instead of :math:`D_i = T_i T_i^{<\top}`. Relative vectors and sums over neighbours
    and atoms keep translations and permutations; the fitting networks see
    orientation-dependent features, so rotations must be learned.

    Shapes
    ------
    ``pos (B, N, 3)`` -> ``(B,)`` standardised energies.

    Symmetry
    --------
    :math:`T(3) \times S_n` (translations, permutations of like atoms); rotations are
    broken: :math:`T_i \to T_i\,\mathrm{diag}(1, Q^\top)` reaches the fitting networks.

    Examples
    --------
    >>> model = VectorEnvironmentEnergy(torch.tensor([0, 1, 1]), (8,))
    >>> model(torch.randn(2, 3, 3)).shape
    torch.Size([2])
    """

    species: Tensor
    pairs: Tensor
    neighbor_type: Tensor
    s_stats: Tensor
    env_scale: Tensor

    def __init__(self, species: Tensor, fitting: tuple[int, ...]) -> None:
        super().__init__()
        num_types = int(species.max()) + 1
        n = len(species)
        self.embeddings = nn.ModuleList(
            ResidualMLP(1, (16, 32), None, "tanh", True) for _ in range(num_types)
        )
        self.fitting = AtomicFitting(num_types, 4 * 32, fitting, "tanh", True)
        self.register_buffer("species", species.clone())
        pairs = _dense_pairs(n)
        self.register_buffer("pairs", pairs)
        self.register_buffer("neighbor_type", species[pairs[1]])
        self.register_buffer("s_stats", torch.tensor([0.0, 1.0]))
        self.register_buffer("env_scale", torch.ones(4))

    def _environment(self, pos: Tensor) -> tuple[Tensor, Tensor]:
        vec = pos[:, self.pairs[1]] - pos[:, self.pairs[0]]  # (B, P, 3)
        s, env = environment_matrix(vec.reshape(-1, 3), R_SMOOTH, R_CUT)
        return s.view(vec.shape[:2]), env.view(*vec.shape[:2], 4)

    @torch.no_grad()
    def fit_statistics(self, x: Tensor, y: Tensor, forces: Tensor) -> None:
        super().fit_statistics(x, y, forces)
        s, env = self._environment(x)
        self.s_stats.copy_(torch.stack([s.mean(), s.std().clamp_min(1e-6)]))
        rms = env.pow(2).mean(dim=(0, 1)).sqrt()
        ang = rms[1:].pow(2).mean().sqrt()
        self.env_scale.copy_(torch.stack([rms[0], ang, ang, ang]).clamp_min(1e-6))

    def forward(self, pos: Tensor) -> Tensor:
        b, n = pos.shape[:2]
        s, env = self._environment(pos)
        x = ((s - self.s_stats[0]) / self.s_stats[1]).unsqueeze(-1)  # (B, P, 1)
        g = x.new_zeros(*x.shape[:2], 32)
        for t, net in enumerate(self.embeddings):
            idx = torch.nonzero(self.neighbor_type == t).flatten()
            g = g.index_copy(1, idx, net(x.index_select(1, idx)))
        outer = (env / self.env_scale).unsqueeze(-1) * g.unsqueeze(-2)  # (B, P, 4, 32)
        t_mat = outer.new_zeros(b, n, 4, 32).index_add(1, self.pairs[0], outer) / (n - 1)
        atomic = self.fitting(t_mat.reshape(b * n, -1), self.species.repeat(b))
        return atomic.view(b, n).sum(1) / math.sqrt(n)


class CartesianMLP(NormalisedEnergy):
    """An MLP on the raw Cartesian coordinates, flattened to ``(B, 3N)``.

    Shapes
    ------
    ``pos (B, N, 3)`` -> ``(B,)`` standardised energies.

    Symmetry
    --------
    None (the trivial group).

    Examples
    --------
    >>> CartesianMLP(3, (8,))(torch.randn(2, 3, 3)).shape
    torch.Size([2])
    """

    def __init__(self, n_atoms: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.mlp = MLP(3 * n_atoms, hidden, 1, activation="silu")

    def forward(self, pos: Tensor) -> Tensor:
        return self.mlp(pos.flatten(1)).squeeze(-1)


def models(data: CurveData, quick: bool) -> dict[str, ModelSpec]:
    """The four molecule models (capacities within ~15 % of each other at full size)."""
    species = data.extra["species"]
    type_map = data.info["type_map"]
    n = len(species)
    fit_inv = (16,) if quick else (64, 64)
    fit_vec = (16,) if quick else (96, 96)
    mlp = (32,) if quick else (256, 256)

    def augment(batch: Batch, gen: torch.Generator) -> Batch:
        x, energy, forces = batch
        x, moved = random_presentation(x, species, gen, forces)
        assert moved is not None
        return x, energy, moved

    return {
        "se_e2_a": ModelSpec(
            lambda: SeAEnergy(species, type_map, fit_inv),
            "E3 x S_n",
            ("E3 x permutation",),
            "geodl.atoms.EnergyModel (DeepPot-SE se_e2_a): distances and angles only",
        ),
        "se_e2_a-vector": ModelSpec(
            lambda: VectorEnvironmentEnergy(species, fit_vec),
            "T3 x S_n",
            ("translation x permutation",),
            "se_e2_a embedding without the invariant contraction: relative vectors, "
            "sums over atoms, orientation-dependent features",
        ),
        "mlp": ModelSpec(
            lambda: CartesianMLP(n, mlp),
            "trivial",
            (),
            "MLP on the raw Cartesian coordinates",
        ),
        "mlp+augment": ModelSpec(
            lambda: CartesianMLP(n, mlp),
            "trivial",
            (),
            "the same MLP trained on a fresh random rotation, translation and permutation "
            "of like atoms of every structure of every batch",
            augment,
        ),
    }


def loss(model: nn.Module, batch: Batch) -> Tensor:
    r"""Energy and force matching in standardised units,
    :math:`\big((\hat E - E)/\sigma\big)^2 + \tfrac{1}{3N}\lVert(\hat F - F)/F_{\rm rms}\rVert^2`
    (batch means), with :math:`\hat F = -\partial \hat E / \partial x` by autograd."""
    if not isinstance(model, NormalisedEnergy):
        raise TypeError(f"loss: model must be a NormalisedEnergy, got {type(model).__name__}.")
    x, energy, forces = batch
    x = x.detach().requires_grad_(True)
    pred = model(x)
    (grad,) = torch.autograd.grad(pred.sum(), x, create_graph=True)
    e_loss = (pred - model.standardise(energy)).pow(2).mean()
    f_loss = ((-grad * model.sigma - forces) / model.force_rms).pow(2).mean()
    return e_loss + f_loss


def test_errors(model: nn.Module, data: CurveData) -> dict[str, float]:
    """Energy MAE per atom (meV/atom) and force MAE (meV/Å, forces ``-dE/dx`` of the
    energy-trained model) on the test set."""
    n_atoms = data.x_test.shape[1]
    model.eval()
    e_err, f_err = [], []
    for i in range(0, len(data.x_test), 256):
        x = data.x_test[i : i + 256].clone().requires_grad_(True)
        energy = model(x) * model.sigma + model.mu
        (grad,) = torch.autograd.grad(energy.sum(), x)
        e_err.append((energy.detach() - data.y_test[i : i + 256]).abs())
        f_err.append((-grad - data.extra["forces"][i : i + 256]).abs().flatten(1).mean(1))
    return {
        "error": 1e3 * float(torch.cat(e_err).mean()) / n_atoms,
        "force_mae_meV_A": 1e3 * float(torch.cat(f_err).mean()),
    }
