"""A battery of reference models whose symmetries are known, for ``geodl check`` / ``audit``.

Each factory returns an ``nn.Module`` called on one unbatched input; :data:`BATTERY` says
which input SPEC and output representation to audit it with and what verdict every group
must get. Use any factory as a CLI TARGET::

    geodl audit examples/reference_models.py:literal_omega --input points:8
    geodl check examples/reference_models.py:chiral --group O3 --input points:8

The models are small, self-contained (torch only) and deterministic (seeded weights).
Negative examples included on purpose:

* ``literal_omega`` -- the lecture's descriptor Omega_i = R_i^T R_i (d x d, from
  neighbour vectors) fed to an MLP: translation and permutation invariant, but
  Omega -> U Omega U^T under a rotation, so NOT rotation invariant.
* ``gram_matrix`` -- R_i R_i^T: rotation invariant, but it depends on the order of the
  neighbours, so permutations break it.
* ``deeppot_se`` -- G^T R~ R~^T G' (DeepPot-SE): invariant under both.
* ``cnn_zero_pad`` (approximately shift invariant), ``cnn_circular`` (exact),
  ``cnn_c4_averaged`` (C4 exact, D4 broken), ``chiral`` (SO(3) exact, O(3) broken),
  ``mlp_flat`` (broken for everything), ``injected_break`` (a 1e-4 relative break in
  float64) and float32 models that must never raise a false alarm.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "BATTERY",
    "bag_of_steps",
    "chiral",
    "cnn_c4_averaged",
    "cnn_circular",
    "cnn_d4_averaged",
    "cnn_zero_pad",
    "conv1d_circular",
    "conv1d_zero_pad",
    "deeppot_se",
    "deeppot_se_float32",
    "deepsets",
    "deepsets_equivariant",
    "dipole",
    "egnn_layer",
    "fcn_zero_pad",
    "gram_matrix",
    "gru_last",
    "gyration_tensor",
    "index_weighted_energy",
    "injected_break",
    "literal_omega",
    "mlp_flat",
    "pair_energy",
    "planar_chiral",
    "planar_distances",
    "scalar_and_dipole",
    "set_mlp_flat",
    "torque",
]


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=False):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def _lazy_call(net: nn.Module, x: Tensor) -> Tensor:
    """Call a net with lazy layers, initialising them from a fixed seed on first use."""
    if any(isinstance(p, nn.parameter.UninitializedParameter) for p in net.parameters()):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return net(x)
    return net(x)


def _build(cls: type[nn.Module], seed: int = 0, **kw: Any) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls(**kw)


def pair_vectors(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """r_ij = x_j - x_i (N, N, d), |r_ij| (N, N) and a mask of j != i (N, N)."""
    r = x.unsqueeze(0) - x.unsqueeze(1)
    n = x.shape[0]
    off = ~torch.eye(n, dtype=torch.bool, device=x.device)
    d2 = (r * r).sum(-1)
    dist = torch.where(off, d2, torch.ones_like(d2)).sqrt()
    return r, dist, off


def smooth_weight(dist: Tensor, off: Tensor, width: float = 2.0) -> Tensor:
    """exp(-r^2 / width^2) for j != i, 0 on the diagonal."""
    return torch.exp(-((dist / width) ** 2)) * off


# ----------------------------------------------------------------------- point clouds
class OmegaDescriptor(nn.Module):
    """Omega_i = R_i^T R_i = sum_j s(r_ij) r_ij r_ij^T, a (d, d) matrix per point."""

    def forward(self, x: Tensor) -> Tensor:
        r, dist, off = pair_vectors(x)
        s = smooth_weight(dist, off)
        return torch.einsum("ij,ija,ijb->iab", s, r, r)


class LiteralOmega(nn.Module):
    """MLP on the entries of Omega_i, summed over points: invariant under permutations
    and translations; NOT under rotations (Omega -> U Omega U^T)."""

    def __init__(self) -> None:
        super().__init__()
        self.descriptor = OmegaDescriptor()
        self.head = _mlp([9, 16, 1])

    def forward(self, x: Tensor) -> Tensor:
        omega = self.descriptor(x)
        return self.head(omega.flatten(1)).sum()


class GramDescriptor(nn.Module):
    """G_i = R_i R_i^T with R_i the vectors to the next ``k`` points *by index*."""

    def __init__(self, k: int = 4) -> None:
        super().__init__()
        self.k = k

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        idx = (torch.arange(n).unsqueeze(1) + torch.arange(1, self.k + 1)) % n
        R = x[idx] - x.unsqueeze(1)  # (N, k, 3)
        return (R @ R.transpose(1, 2)).flatten(1)


class GramMatrix(nn.Module):
    """MLP on the Gram matrix of ordered neighbour vectors: rotation (and reflection,
    translation) invariant, but permuting the points changes the neighbour order."""

    def __init__(self, k: int = 4) -> None:
        super().__init__()
        self.descriptor = GramDescriptor(k)
        self.head = _mlp([k * k, 16, 1])

    def forward(self, x: Tensor) -> Tensor:
        return self.head(torch.tanh(self.descriptor(x) / 4)).sum()


class SEDescriptor(nn.Module):
    r"""DeepPot-SE: D_i = T_i T_i'^T with T_i = G_i^T \tilde R_i (M x 4), rows of
    \tilde R_i = s(r_ij) (1, r_ij / |r_ij|) and G_i = g(s(r_ij)) an embedding net."""

    def __init__(self, m1: int = 8, m2: int = 4) -> None:
        super().__init__()
        self.embed = _mlp([1, 16, m1])
        self.m2 = m2

    def forward(self, x: Tensor) -> Tensor:
        r, dist, off = pair_vectors(x)
        s = smooth_weight(dist, off)
        rt = torch.cat([s.unsqueeze(-1), s.unsqueeze(-1) * r / dist.unsqueeze(-1)], -1)
        g = self.embed(s.unsqueeze(-1)) * off.unsqueeze(-1)  # (N, N, M1)
        t = torch.einsum("ijm,ijc->imc", g, rt)  # (N, M1, 4)
        return (t @ t[:, : self.m2].transpose(1, 2)).flatten(1)


class DeepPotSE(nn.Module):
    """Sum over atoms of a fitting net on the SE descriptor: E(3) x S_N invariant."""

    def __init__(self, m1: int = 8, m2: int = 4) -> None:
        super().__init__()
        self.descriptor = SEDescriptor(m1, m2)
        self.fitting = _mlp([m1 * m2, 32, 32, 1])

    def forward(self, x: Tensor) -> Tensor:
        return self.fitting(self.descriptor(x)).sum()


class MLPFlat(nn.Module):
    """MLP on the flattened coordinates: respects no symmetry at all."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.LazyLinear(32), nn.Tanh(), nn.Linear(32, 1))

    def forward(self, x: Tensor) -> Tensor:
        return _lazy_call(self.net, x.flatten()).squeeze(-1)


class Chiral(nn.Module):
    """Uses the pseudoscalar v1 . (v2 x v3) of three radially weighted neighbour sums:
    invariant under proper rotations, translations and permutations; a mirror image
    changes its sign, so O(3) / E(3) are broken."""

    def __init__(self) -> None:
        super().__init__()
        self.head = _mlp([4, 16, 2])

    def forward(self, x: Tensor) -> Tensor:
        r, dist, off = pair_vectors(x)
        v = [torch.einsum("ij,ija->ia", smooth_weight(dist, off, w), r) for w in (1.0, 2.0, 3.0)]
        p = (v[0] * torch.cross(v[1], v[2], dim=-1)).sum(-1)
        feats = torch.stack([p, p**3, (v[0] ** 2).sum(-1), (v[1] ** 2).sum(-1)], -1)
        return self.head(feats).sum(0)


class EGNNLayer(nn.Module):
    """x_i' = x_i + sum_j (x_i - x_j) phi(|r_ij|^2): E(3) and permutation equivariant."""

    def __init__(self) -> None:
        super().__init__()
        self.phi = _mlp([1, 16, 1])

    def forward(self, x: Tensor) -> Tensor:
        r, dist, off = pair_vectors(x)
        w = self.phi((dist**2).unsqueeze(-1)).squeeze(-1) * off
        return x - torch.einsum("ij,ija->ia", w, r) / x.shape[0]


class Charges(nn.Module):
    """Invariant per-point scalars q_i from the local density."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _mlp([2, 16, 1])

    def forward(self, x: Tensor) -> Tensor:
        r, dist, off = pair_vectors(x)
        dens = torch.stack(
            [smooth_weight(dist, off, 1.5).sum(1), smooth_weight(dist, off).sum(1)], -1
        )
        return self.net(dens).squeeze(-1)


class Dipole(nn.Module):
    """mu = sum_i q_i (x_i - centroid): a (proper) vector, E(3) x S_N equivariant."""

    def __init__(self) -> None:
        super().__init__()
        self.charges = Charges()

    def forward(self, x: Tensor) -> Tensor:
        q = self.charges(x)
        return (q.unsqueeze(-1) * (x - x.mean(0))).sum(0)


class Torque(nn.Module):
    """L = sum_i (x_i - c) x u_i, u_i = sum_j q_j s(r_ij) r_ij: a pseudovector (a mirror
    image does not flip it), so it is "pseudovector"-equivariant under O(3)."""

    def __init__(self) -> None:
        super().__init__()
        self.charges = Charges()

    def forward(self, x: Tensor) -> Tensor:
        q = self.charges(x)
        r, dist, off = pair_vectors(x)
        u = torch.einsum("ij,j,ija->ia", smooth_weight(dist, off), q, r)
        return torch.cross(x - x.mean(0), u, dim=-1).sum(0)


class ScalarAndDipole(nn.Module):
    """Concatenation (sum q, mu): irreps ``1x0e + 1x1o``."""

    def __init__(self) -> None:
        super().__init__()
        self.dipole = Dipole()

    def forward(self, x: Tensor) -> Tensor:
        q = self.dipole.charges(x)
        mu = (q.unsqueeze(-1) * (x - x.mean(0))).sum(0)
        return torch.cat([q.sum().unsqueeze(0), mu])


class Gyration(nn.Module):
    """S = sum_i w_i (x_i - c)(x_i - c)^T: a rank-2 tensor, S -> R S R^T."""

    def __init__(self) -> None:
        super().__init__()
        self.charges = Charges()

    def forward(self, x: Tensor) -> Tensor:
        w = self.charges(x)
        d = x - x.mean(0)
        return torch.einsum("i,ia,ib->ab", w, d, d)


class PlanarDistances(nn.Module):
    """2D: MLP on pair distances summed: E(2) x S_N invariant."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _mlp([1, 16, 1])

    def forward(self, x: Tensor) -> Tensor:
        r, dist, off = pair_vectors(x)
        return (self.net(dist.unsqueeze(-1)).squeeze(-1) * off).sum()


class PlanarChiral(nn.Module):
    """2D: uses the signed area r_ij x r_ik (a pseudoscalar in 2D): SO(2) invariant,
    broken by mirror images (O(2))."""

    def __init__(self) -> None:
        super().__init__()
        self.head = _mlp([2, 16, 1])

    def forward(self, x: Tensor) -> Tensor:
        r, dist, off = pair_vectors(x)
        v1 = torch.einsum("ij,ija->ia", smooth_weight(dist, off, 1.0), r)
        v2 = torch.einsum("ij,ija->ia", smooth_weight(dist, off, 3.0), r)
        area = v1[:, 0] * v2[:, 1] - v1[:, 1] * v2[:, 0]
        return self.head(torch.stack([area, (v1**2).sum(-1)], -1)).sum()


class InjectedBreak(nn.Module):
    """An exactly invariant float64 energy times (1 + 1e-4 u . x_0): every Euclidean
    and permutation symmetry is broken at the 1e-4 relative level."""

    def __init__(self, size: float = 1e-4) -> None:
        super().__init__()
        self.energy = PlanarDistances()
        self.size = size
        self.register_buffer("u", torch.tensor([0.6, -0.8, 0.0]))

    def forward(self, x: Tensor) -> Tensor:
        e = self.energy(x)
        return e * (1 + self.size * (self.u[: x.shape[1]] * x[0]).sum())


# ---------------------------------------------------------------------------- atoms
class PairEnergy(nn.Module):
    """E = sum_{i<j} A_{s_i s_j} exp(-|r_ij|) - B_{s_i s_j} exp(-|r_ij|^2 / 4): E(3) and
    (species-preserving) permutation invariant; forces are equivariant. The cell, if
    given, is ignored (free boundary)."""

    def __init__(self, num_species: int = 2) -> None:
        super().__init__()
        a = torch.rand(num_species, num_species) + 0.5
        b = torch.rand(num_species, num_species) + 0.5
        self.a = nn.Parameter((a + a.T) / 2)
        self.b = nn.Parameter((b + b.T) / 2)

    def forward(self, species: Tensor, positions: Tensor, cell: Tensor | None = None) -> Tensor:
        r, dist, off = pair_vectors(positions)
        si, sj = species.unsqueeze(1), species.unsqueeze(0)
        e = self.a[si, sj] * torch.exp(-dist) - self.b[si, sj] * torch.exp(-(dist**2) / 4)
        return 0.5 * (e * off).sum()


class IndexWeightedEnergy(nn.Module):
    """E = sum_i w_i |x_i - c|^2 with a weight per *index*: E(3) invariant, permutations
    of atoms (even of equal species) change it."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.linspace(0.5, 1.5, 64))

    def forward(self, species: Tensor, positions: Tensor, cell: Tensor | None = None) -> Tensor:
        d = positions - positions.mean(0)
        return (self.w[: positions.shape[0]] * (d * d).sum(-1)).sum()


# ------------------------------------------------------------------------------ sets
class DeepSets(nn.Module):
    """rho(sum_i phi(x_i)): permutation invariant."""

    def __init__(self, features: int = 4) -> None:
        super().__init__()
        self.phi = _mlp([features, 16, 16])
        self.rho = _mlp([16, 16, 2])

    def forward(self, x: Tensor) -> Tensor:
        return self.rho(self.phi(x).sum(0))


class DeepSetsEquivariant(nn.Module):
    """phi(x_i) + psi(mean_j x_j): permutation equivariant (rows permuted)."""

    def __init__(self, features: int = 4) -> None:
        super().__init__()
        self.phi = _mlp([features, 16, 3])
        self.psi = _mlp([features, 16, 3])

    def forward(self, x: Tensor) -> Tensor:
        return self.phi(x) + self.psi(x.mean(0, keepdim=True))


# ---------------------------------------------------------------------------- images
class SmallCNN(nn.Module):
    """conv-ReLU-conv-ReLU, global mean pooling, linear head."""

    def __init__(self, padding_mode: str = "zeros", channels: int = 1) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, 3, padding=1, padding_mode=padding_mode),
            nn.ReLU(),
            nn.Conv2d(6, 6, 3, padding=1, padding_mode=padding_mode),
            nn.ReLU(),
        )
        self.head = nn.Linear(6, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean(dim=(-2, -1)))


class GroupAveraged(nn.Module):
    """f(x) = mean over a finite group of model(g x): invariant under that group."""

    def __init__(self, flips: bool = False) -> None:
        super().__init__()
        self.cnn = SmallCNN("circular")
        self.flips = flips

    def forward(self, x: Tensor) -> Tensor:
        views = [torch.rot90(x, k, dims=(-2, -1)) for k in range(4)]
        if self.flips:
            views += [torch.flip(v, dims=(-1,)) for v in views]
        return self.cnn(torch.stack(views)).mean(0)


class FCN(nn.Module):
    """Fully convolutional image -> feature map, zero padding: approximately shift
    equivariant (the error sits at the edges and at the seam of the cyclic shift)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 3, padding=1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class Conv1dNet(nn.Module):
    """Conv1d-ReLU-Conv1d, mean over the signal, linear head."""

    def __init__(self, padding_mode: str = "zeros") -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(2, 8, 5, padding=2, padding_mode=padding_mode),
            nn.ReLU(),
            nn.Conv1d(8, 8, 5, padding=2, padding_mode=padding_mode),
            nn.ReLU(),
        )
        self.head = nn.Linear(8, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean(-1))


class GRULast(nn.Module):
    """Last hidden state of a GRU: depends on the order of time steps."""

    def __init__(self, features: int = 3) -> None:
        super().__init__()
        self.rnn = nn.GRU(features, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.head(out[-1])


class BagOfSteps(nn.Module):
    """Mean over time of an MLP per step: invariant under (cyclic) time shifts."""

    def __init__(self, features: int = 3) -> None:
        super().__init__()
        self.step = _mlp([features, 16, 2])

    def forward(self, x: Tensor) -> Tensor:
        return self.step(x).mean(0)


class SetMLPFlat(nn.Module):
    """MLP on the flattened set: order-dependent."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.LazyLinear(16), nn.Tanh(), nn.Linear(16, 1))

    def forward(self, x: Tensor) -> Tensor:
        return _lazy_call(self.net, x.flatten())


# ------------------------------------------------------------------------- factories
def literal_omega() -> nn.Module:
    """Omega_i = R_i^T R_i + MLP (float64): perm/translation exact, rotations broken."""
    return _build(LiteralOmega).double()


def gram_matrix() -> nn.Module:
    """R_i R_i^T of index-ordered neighbours (float64): rotations exact, permutation broken."""
    return _build(GramMatrix).double()


def deeppot_se() -> nn.Module:
    """DeepPot-SE-like G^T R~ R~^T G' (float64): E(3) x S_N exact."""
    return _build(DeepPotSE).double()


def deeppot_se_float32() -> nn.Module:
    """The same model in float32: must be exact (no false alarm from round-off)."""
    return _build(DeepPotSE)


def mlp_flat() -> nn.Module:
    """MLP on flattened coordinates (float64): broken for every group."""
    return _build(MLPFlat).double()


def chiral() -> nn.Module:
    """Pseudoscalar features (float64): SO(3)/SE(3) exact, O(3)/E(3) broken."""
    return _build(Chiral).double()


def egnn_layer() -> nn.Module:
    """Coordinates -> coordinates (float64), ``--output equivariant``: all exact."""
    return _build(EGNNLayer).double()


def dipole() -> nn.Module:
    """A vector output (float64), ``--output vector``."""
    return _build(Dipole).double()


def torque() -> nn.Module:
    """A pseudovector output (float64), ``--output pseudovector``."""
    return _build(Torque).double()


def scalar_and_dipole() -> nn.Module:
    """``--output '1x0e + 1x1o'`` (float64)."""
    return _build(ScalarAndDipole).double()


def gyration_tensor() -> nn.Module:
    """A rank-2 output (float64), ``--output rank2``."""
    return _build(Gyration).double()


def planar_distances() -> nn.Module:
    """2D points (float64): E(2) x S_N invariant."""
    return _build(PlanarDistances).double()


def planar_chiral() -> nn.Module:
    """2D points (float64): SO(2) exact, O(2) broken."""
    return _build(PlanarChiral).double()


def injected_break() -> nn.Module:
    """Exact float64 invariant with a deliberate 1e-4 relative break."""
    return _build(InjectedBreak).double()


def pair_energy() -> nn.Module:
    """Atoms (float64): E(3) and permutation invariant energy."""
    return _build(PairEnergy).double()


def index_weighted_energy() -> nn.Module:
    """Atoms (float64): E(3) exact, permutation broken."""
    return _build(IndexWeightedEnergy).double()


def deepsets() -> nn.Module:
    """Sets ``set:N,4`` (float32): permutation exact."""
    return _build(DeepSets)


def deepsets_equivariant() -> nn.Module:
    """Sets ``set:N,4`` (float32), ``--output equivariant``: permutation exact."""
    return _build(DeepSetsEquivariant)


def set_mlp_flat() -> nn.Module:
    """Sets (float32): permutation broken."""
    return _build(SetMLPFlat)


def cnn_zero_pad() -> nn.Module:
    """Image CNN with zero padding (float32): shift approximate, C4/D4 broken."""
    return _build(SmallCNN, padding_mode="zeros")


def cnn_circular() -> nn.Module:
    """Image CNN with circular padding (float32): shift exact, C4/D4 broken."""
    return _build(SmallCNN, padding_mode="circular")


def cnn_c4_averaged() -> nn.Module:
    """Circular CNN averaged over C4 (float32): shift and C4 exact, D4 broken."""
    return _build(GroupAveraged, flips=False)


def cnn_d4_averaged() -> nn.Module:
    """Circular CNN averaged over D4 (float32): shift, C4 and D4 exact."""
    return _build(GroupAveraged, flips=True)


def fcn_zero_pad() -> nn.Module:
    """Image -> feature map, zero padding (float32), ``--output equivariant``."""
    return _build(FCN)


def conv1d_circular() -> nn.Module:
    """Signal CNN with circular padding (float32): shift exact."""
    return _build(Conv1dNet, padding_mode="circular")


def conv1d_zero_pad() -> nn.Module:
    """Signal CNN with zero padding (float32): shift approximate."""
    return _build(Conv1dNet, padding_mode="zeros")


def gru_last() -> nn.Module:
    """GRU on a sequence (float32): time-shift broken."""
    return _build(GRULast)


def bag_of_steps() -> nn.Module:
    """Mean of per-step MLP (float32): time-shift exact."""
    return _build(BagOfSteps)


_EUCLID = ("permutation", "translation", "SO3", "O3", "SE3", "E3")
_DIHEDRAL = ("C4", "D4", "C2", "flips")


def _all(verdict: str, groups: tuple[str, ...] = _EUCLID) -> dict[str, str]:
    return {g: verdict for g in groups}


E, A, B = "exact", "approximate", "broken"

#: name -> (input SPEC, output representation, expected verdict per group).
BATTERY: dict[str, tuple[str, str, dict[str, str]]] = {
    "literal_omega": (
        "points:8",
        "invariant",
        {"permutation": E, "translation": E, "SO3": B, "O3": B, "SE3": B, "E3": B},
    ),
    "gram_matrix": ("points:8", "invariant", {**_all(E), "permutation": B}),
    "deeppot_se": ("points:8", "invariant", _all(E)),
    "deeppot_se_float32": ("points:8", "invariant", _all(E)),
    "mlp_flat": ("points:8", "invariant", _all(B)),
    "chiral": (
        "points:8",
        "invariant",
        {"permutation": E, "translation": E, "SO3": E, "O3": B, "SE3": E, "E3": B},
    ),
    "egnn_layer": ("points:8", "equivariant", _all(E)),
    "dipole": ("points:8", "vector", _all(E)),
    "torque": ("points:8", "pseudovector", _all(E)),
    "scalar_and_dipole": ("points:8", "1x0e + 1x1o", _all(E)),
    "gyration_tensor": ("points:8", "rank2", _all(E)),
    "planar_distances": (
        "points:8,2",
        "invariant",
        _all(E, ("permutation", "translation", "SO2", "O2", "SE2", "E2")),
    ),
    "planar_chiral": (
        "points:8,2",
        "invariant",
        {"permutation": E, "translation": E, "SO2": E, "O2": B, "SE2": E, "E2": B},
    ),
    "injected_break": ("points:8", "invariant", _all(B)),
    "pair_energy": ("atoms:8", "invariant", _all(E)),
    "index_weighted_energy": ("atoms:8", "invariant", {**_all(E), "permutation": B}),
    "deepsets": ("set:8,4", "invariant", {"permutation": E}),
    "deepsets_equivariant": ("set:8,4", "equivariant", {"permutation": E}),
    "set_mlp_flat": ("set:8,4", "invariant", {"permutation": B}),
    "cnn_zero_pad": ("image:1,16,16", "invariant", {"shift": A, **_all(B, _DIHEDRAL)}),
    "cnn_circular": ("image:1,16,16", "invariant", {"shift": E, **_all(B, _DIHEDRAL)}),
    "cnn_c4_averaged": (
        "image:1,16,16",
        "invariant",
        {"shift": E, "C4": E, "D4": B, "C2": E, "flips": B},
    ),
    "cnn_d4_averaged": ("image:1,16,16", "invariant", {"shift": E, **_all(E, _DIHEDRAL)}),
    "fcn_zero_pad": ("image:1,16,16", "equivariant", {"shift": A, **_all(B, _DIHEDRAL)}),
    "conv1d_circular": ("signal:2,32", "invariant", {"shift": E}),
    "conv1d_zero_pad": ("signal:2,32", "invariant", {"shift": A}),
    "gru_last": ("sequence:12,3", "invariant", {"time-shift": B}),
    "bag_of_steps": ("sequence:12,3", "invariant", {"time-shift": E}),
}


def main() -> int:
    """Audit the whole battery; print one line per model and return the number of misses."""
    from geodl.symmetry import audit

    misses = 0
    for name, (spec, rep, expected) in BATTERY.items():
        result = audit(globals()[name](), spec, rep)
        ok = result.verdicts == expected
        misses += not ok
        cells = ", ".join(f"{r.group} {r.verdict} ({r.max_rel_error:.0e})" for r in result)
        print(f"{'ok  ' if ok else 'MISS'} {name:24s} {spec:14s} {rep:12s} {cells}")
    print(f"{len(BATTERY) - misses}/{len(BATTERY)} reference models classified as expected")
    return misses


if __name__ == "__main__":
    raise SystemExit(main())
