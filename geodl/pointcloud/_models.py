r"""Point-cloud classifiers: a PointNet-style baseline and an invariant DeepSets model.

Both take a batch of clouds of any sizes, PyTorch Geometric style (``pos`` ``(N, 3)``
and ``batch`` ``(N,)``), or a single cloud ``(N, 3)``, and return class logits.

=============================  ==========================================================
model                          invariant (exactly, by construction) under
=============================  ==========================================================
:class:`PointNetBaseline`      permutations, translations, scaling — **not** rotations
:class:`InvariantPointClassifier`
  ``chiral=False``             permutations, translations, scaling, rotations and
                               reflections: :math:`E(3)` (tells no mirror images apart)
  ``chiral=True``              permutations, translations, scaling, rotations:
                               :math:`SE(3)` (tells mirror images apart)
=============================  ==========================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn

from geodl.geometry import SeADescriptor
from geodl.nn import DeepSets, segment_pool
from geodl.pointcloud._neighbors import NEIGHBORHOODS, neighbor_edges
from geodl.pointcloud._transforms import center_and_scale
from geodl.symmetry import Declaration

__all__ = ["PointNetBaseline", "InvariantPointClassifier", "PseudoscalarFeatures"]


def _check_cloud(owner: str, pos: Tensor, batch: Tensor | None) -> None:
    if not isinstance(pos, Tensor):
        raise TypeError(f"{owner}: expected 'pos' to be a torch.Tensor, got {type(pos).__name__}.")
    if pos.dim() != 2 or pos.shape[1] != 3:
        raise ValueError(
            f"{owner}: expected 'pos' of shape (N, 3) (one cloud, or all clouds of a batch "
            f"with a 'batch' vector), got {tuple(pos.shape)}. For a dense (B, N, 3) tensor "
            f"pass pos.reshape(-1, 3) and batch=torch.arange(B).repeat_interleave(N)."
        )
    if pos.shape[0] < 2:
        raise ValueError(f"{owner}: a cloud needs at least 2 points, got {pos.shape[0]}.")
    if batch is not None and (batch.shape != (pos.shape[0],) or batch.dtype != torch.long):
        raise ValueError(
            f"{owner}: 'batch' must be a LongTensor of shape ({pos.shape[0]},), got dtype "
            f"{batch.dtype} and shape {tuple(batch.shape)}."
        )


class PointNetBaseline(nn.Module):
    r"""PointNet-style baseline: a per-point MLP on coordinates, max pooling, an MLP head.

    .. math::
        f(X) = \phi\Big(\max_{j} h(\tilde x_j)\Big), \qquad
        \tilde x_j = \frac{x_j - \bar x}{\rho}

    (:math:`\bar x` the centroid, :math:`\rho` the RMS radius; no input or feature
    transform nets). It is DeepSets with max pooling on raw coordinates.

    Groups: invariant to permutations of the points, translations and scaling (exactly);
    **not** invariant to rotations — it sees coordinates in a fixed frame and has to learn
    every orientation from data (the z/SO3 protocol shows the collapse).

    Parameters
    ----------
    num_classes : int
        Number of classes.
    hidden : sequence of int
        Widths of the per-point network :math:`h` (PointNet: 64, 64, 64, 128, 1024).
    head : sequence of int
        Hidden widths of :math:`\phi`.
    activation : str
        Activation name.

    Shapes
    ------
    ``pos`` ``(N, 3)`` -> ``(num_classes,)``; with ``batch`` ``(N,)`` -> ``(B, num_classes)``.

    Examples
    --------
    >>> model = PointNetBaseline(num_classes=4, hidden=(16, 32), head=(16,))
    >>> model(torch.randn(50, 3)).shape
    torch.Size([4])
    """

    def __init__(
        self,
        num_classes: int,
        hidden: Sequence[int] = (64, 128, 256),
        head: Sequence[int] = (128,),
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "num_classes": int(num_classes),
            "hidden": list(hidden),
            "head": list(head),
            "activation": activation,
        }
        self.num_classes = int(num_classes)
        self.deepsets = DeepSets(3, num_classes, hidden, head, "max", activation)

    def forward(self, pos: Tensor, batch: Tensor | None = None) -> Tensor:
        _check_cloud(type(self).__name__, pos, batch)
        x, _ = center_and_scale(pos, batch)
        return self.deepsets(x, batch)

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}"

    def declared_symmetries(self) -> list[Declaration]:
        """Permutation and translation exact; rotations broken."""
        note = "coordinates in a fixed frame: rotations must be learned from data"
        return [
            Declaration("permutation", "points", "invariant", "exact", "max pooling"),
            Declaration("translation", "points", "invariant", "exact", "centred on the centroid"),
            Declaration("SO3", "points", "invariant", "broken", note),
        ]


class PseudoscalarFeatures(nn.Module):
    r"""Per-point pseudoscalars from triple products of learned neighbour vectors.

    For centre :math:`i` and neighbours :math:`j` with :math:`\mathbf r_{ij}`,
    :math:`r = \lVert \mathbf r_{ij} \rVert`:

    .. math::
        \mathbf u^{(a)}_{ik} = \sum_j \Big(\sum_m W^{(a)}_{km}\, e_m(r_{ij})\Big)
        f_c(r_{ij})\, \hat{\mathbf r}_{ij}, \quad a = 1, 2, 3, \qquad
        p_{ik} = \frac{\mathbf u^{(1)}_{ik} \cdot (\mathbf u^{(2)}_{ik} \times
        \mathbf u^{(3)}_{ik})}{\lVert\mathbf u^{(1)}_{ik}\rVert
        \lVert\mathbf u^{(2)}_{ik}\rVert \lVert\mathbf u^{(3)}_{ik}\rVert + \epsilon}

    with :math:`e_m` Gaussians of the distance on :math:`[0, r_c]`, :math:`W` learned and
    :math:`f_c(r) = \tfrac12(\cos(\pi r / r_c) + 1)` for :math:`r < r_c`. The Gaussian
    basis lets the three vectors point in different directions (with weights affine in
    :math:`r` they would all lie in one plane and :math:`p` would vanish). Under
    :math:`Q \in O(3)` every :math:`\mathbf u` turns into :math:`Q\mathbf u`, so
    :math:`p \mapsto \det(Q)\, p`: invariant under rotations (and translations,
    permutations of neighbours), **sign-flipped under reflections** — exactly what tells a
    left-handed shape from its mirror image, which the :math:`O(3)`-invariant ``se_e2_a``
    descriptor (:math:`G^\top \tilde R \tilde R^\top G`) cannot. :math:`|p| \le 1`.

    Parameters
    ----------
    num_features : int
        Number :math:`K` of pseudoscalars per point.
    r_cut : float
        Cutoff :math:`r_c`.
    num_basis : int
        Number of Gaussians :math:`e_m`.
    eps : float
        :math:`\epsilon`.

    Shapes
    ------
    ``edge_vec`` ``(E, 3)``, ``center`` ``(E,)``, ``num_points`` -> ``(N, K)``.

    Examples
    --------
    >>> feats = PseudoscalarFeatures(4, r_cut=3.0)
    >>> vec = torch.randn(6, 3)
    >>> centre = torch.tensor([0, 0, 0, 1, 1, 1])
    >>> p = feats(vec, centre, 2)
    >>> torch.allclose(feats(-vec, centre, 2), -p, atol=1e-6)  # inversion flips the sign
    True
    """

    if TYPE_CHECKING:  # for mypy only: TorchScript cannot read these string annotations
        centers: Tensor  # buffer

    def __init__(
        self, num_features: int, r_cut: float, num_basis: int = 16, eps: float = 1e-4
    ) -> None:
        super().__init__()
        if num_features < 1 or r_cut <= 0 or num_basis < 2:
            raise ValueError(
                "PseudoscalarFeatures: 'num_features' >= 1, 'r_cut' > 0 and 'num_basis' >= 2 "
                f"expected; got {num_features}, {r_cut}, {num_basis}."
            )
        self.num_features = int(num_features)
        self.r_cut = float(r_cut)
        self.eps = float(eps)
        self.register_buffer("centers", torch.linspace(0.0, self.r_cut, int(num_basis)))
        self.width = self.r_cut / (int(num_basis) - 1)
        self.weights = nn.Linear(int(num_basis), 3 * self.num_features, bias=False)

    def forward(self, edge_vec: Tensor, center: Tensor, num_points: int) -> Tensor:
        r = torch.linalg.vector_norm(edge_vec, dim=-1, keepdim=True)  # (E, 1)
        fc = torch.where(r < self.r_cut, 0.5 * (torch.cos(math.pi * r / self.r_cut) + 1), 0 * r)
        unit = edge_vec / torch.where(r > 0, r, torch.ones_like(r))
        basis = torch.exp(-(((r - self.centers) / self.width) ** 2)) * fc  # (E, M)
        # sum_j (W e(r_ij)) r_ij = W sum_j e(r_ij) r_ij: the linear map acts per point
        moments = (basis.unsqueeze(-1) * unit.unsqueeze(1)).reshape(-1, basis.shape[1] * 3)
        moments = edge_vec.new_zeros(num_points, moments.shape[1]).index_add(0, center, moments)
        moments = moments.reshape(num_points, basis.shape[1], 3)  # (N, M, 3)
        u = torch.einsum("am,nmx->nax", self.weights.weight, moments)  # (N, 3K, 3)
        k = self.num_features
        a, b, c = u[:, :k], u[:, k : 2 * k], u[:, 2 * k :]
        det = (torch.linalg.cross(a, b, dim=-1) * c).sum(-1)
        norms = u.pow(2).sum(-1).add(1e-30).sqrt()  # (N, 3K)
        scale = norms[:, :k] * norms[:, k : 2 * k] * norms[:, 2 * k :]
        return det / (scale + self.eps)

    def extra_repr(self) -> str:
        return f"num_features={self.num_features}, r_cut={self.r_cut}"


class InvariantPointClassifier(nn.Module):
    r"""Point-cloud classifier invariant by construction: ``se_e2_a`` + DeepSets.

    Every point is the centre of a local environment, described exactly like an atom in
    DeepPot-SE (:class:`geodl.atoms.SeADescriptor`; all points are of one type, and with
    ``centroid=True`` the cloud's centroid is added to every environment as one neighbour
    of a second type), and the per-point features, standardised with training statistics
    (:meth:`fit_statistics`), are pooled by :class:`geodl.nn.DeepSets`:

    .. math::
        \tilde x_i &= (x_i - \bar x)/\rho, \qquad
        \mathcal N_i = k\text{ nearest neighbours (or a cutoff ball) of } i \\
        \mathbf r_{ij} &= (\tilde x_j - \tilde x_i)/\ell, \qquad
        D_i = \operatorname{asinh}\big(T_i (T_i^{<})^\top\big), \quad
        T_i = \tfrac{1}{N_c}\textstyle\sum_{j \in \mathcal N_i} G_{ij}^\top \tilde R_{ij} \\
        h_i &= \big[\, D_i,\ \mathrm{rbf}(\lVert\tilde x_i\rVert),\ p_i \,\big], \qquad
        f(X) = \phi\Big(\textstyle\bigoplus_i g(h_i)\Big)

    :math:`\rho` is the RMS radius of the cloud and :math:`\ell` the mean neighbour
    distance (``"knn"``; :math:`\ell = 1` for ``"radius"``), so the neighbourhood scale
    follows the cloud's size and point density; both are invariant. ``rbf`` is a Gaussian
    expansion of the distance to the centroid and :math:`p_i` are the pseudoscalars of
    :class:`PseudoscalarFeatures` (``chiral=True`` only). Note: it is :math:`G^\top \tilde
    R \tilde R^\top G` that is invariant — the raw :math:`\Omega_i = R_i^\top R_i` of the
    lecture is :math:`3\times 3` and rotates as :math:`Q \Omega Q^\top`.

    Groups: permutations of the points, translations, uniform scaling and rotations
    :math:`SO(3)` exactly; reflections too when ``chiral=False`` (the group is then
    :math:`O(3)`: mirror images get the same logits), not when ``chiral=True``.

    Parameters
    ----------
    num_classes : int
        Number of classes.
    neighbors : str
        ``"knn"`` or ``"radius"`` (see :data:`geodl.pointcloud.NEIGHBORHOODS`).
    k : int
        Neighbours per point for ``"knn"``.
    r_cut, r_smooth : float
        Cutoff and switching start of the descriptor, in units of :math:`\ell` (``"knn"``)
        or of the RMS radius (``"radius"``, which also uses ``r_cut`` for the ball).
    embed_widths : sequence of int
        Embedding network widths of the descriptor (:math:`M_1` last).
    axis_neurons : int
        :math:`M_2`.
    radial_features : int
        Gaussians in the distance-to-centroid expansion (0: none).
    centroid : bool
        Add the centroid (in RMS-radius units) as a neighbour of type 1 of every point, so
        each environment also sees the direction to the centre.
    chiral : bool
        Add ``num_pseudoscalars`` pseudoscalar features (SO(3) instead of O(3)).
    num_pseudoscalars : int
        :math:`K` of :class:`PseudoscalarFeatures`.
    hidden, head : sequence of int
        Widths of DeepSets' :math:`g` and :math:`\phi`.
    pooling : str
        ``"sum"``, ``"mean"`` or ``"max"``; ``"mean"`` keeps the logits comparable across
        point counts.
    activation : str
        Activation of :math:`g` and :math:`\phi`.

    Shapes
    ------
    ``pos`` ``(N, 3)`` -> ``(num_classes,)``; with ``batch`` ``(N,)`` -> ``(B, num_classes)``.

    Examples
    --------
    >>> model = InvariantPointClassifier(3, k=8, embed_widths=(8, 16), axis_neurons=4)
    >>> pos = torch.randn(40, 3)
    >>> Q = torch.linalg.qr(torch.randn(3, 3))[0]
    >>> Q = Q * torch.linalg.det(Q)  # a rotation
    >>> torch.allclose(model(pos), model(pos @ Q.T + 1.0), atol=1e-4)
    True
    """

    if TYPE_CHECKING:  # for mypy only: TorchScript cannot read these string annotations
        # registered in __init__
        rbf_centers: Tensor  # only when radial_features > 0
        feature_mean: Tensor
        feature_std: Tensor
        pseudoscalars: PseudoscalarFeatures | None

    def __init__(
        self,
        num_classes: int,
        neighbors: Literal["knn", "radius"] = "knn",
        k: int = 16,
        r_cut: float = 4.0,
        r_smooth: float = 2.0,
        embed_widths: Sequence[int] = (16, 32),
        axis_neurons: int = 8,
        radial_features: int = 8,
        centroid: bool = True,
        chiral: bool = True,
        num_pseudoscalars: int = 8,
        hidden: Sequence[int] = (128, 128),
        head: Sequence[int] = (128,),
        pooling: str = "mean",
        activation: str = "silu",
    ) -> None:
        super().__init__()
        if neighbors not in NEIGHBORHOODS:
            raise ValueError(
                f"InvariantPointClassifier: unknown 'neighbors' {neighbors!r}. Valid: "
                f"{', '.join(NEIGHBORHOODS)}."
            )
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"InvariantPointClassifier: 'k' must be a positive int, got {k!r}.")
        self.config: dict[str, Any] = {
            "num_classes": int(num_classes),
            "neighbors": neighbors,
            "k": k,
            "r_cut": float(r_cut),
            "r_smooth": float(r_smooth),
            "embed_widths": list(embed_widths),
            "axis_neurons": int(axis_neurons),
            "radial_features": int(radial_features),
            "centroid": bool(centroid),
            "chiral": bool(chiral),
            "num_pseudoscalars": int(num_pseudoscalars),
            "hidden": list(hidden),
            "head": list(head),
            "pooling": pooling,
            "activation": activation,
        }
        self.num_classes = int(num_classes)
        self.neighbors = neighbors
        self.k = k
        self.r_cut = float(r_cut)
        self.chiral = bool(chiral)
        self.centroid = bool(centroid)
        norm = float(k) if neighbors == "knn" else None
        self.descriptor = SeADescriptor(
            num_types=2 if self.centroid else 1,
            r_cut=r_cut,
            r_smooth=r_smooth,
            embed_widths=embed_widths,
            axis_neurons=axis_neurons,
            neighbor_norm=norm,
        )
        self.radial_features = int(radial_features)
        if self.radial_features > 0:
            self.register_buffer("rbf_centers", torch.linspace(0.0, 2.5, self.radial_features))
        self.pseudoscalars = PseudoscalarFeatures(num_pseudoscalars, r_cut) if self.chiral else None
        width = self.descriptor.out_features + self.radial_features
        width += num_pseudoscalars if self.chiral else 0
        self.register_buffer("feature_mean", torch.zeros(width))
        self.register_buffer("feature_std", torch.ones(width))
        self.deepsets = DeepSets(width, num_classes, hidden, head, pooling, activation, norm=True)

    def point_features(
        self, pos: Tensor, batch: Tensor | None = None, edge_index: Tensor | None = None
    ) -> Tensor:
        """Invariant per-point features ``h_i`` ``(N, F)`` (before the DeepSets pooling).

        ``edge_index`` ``(2, E)`` may be given to reuse a neighbour graph built once per
        cloud (it is the same in every orientation); otherwise it is built here.
        """
        _check_cloud(type(self).__name__, pos, batch)
        x, _ = center_and_scale(pos, batch)
        param = self.k if self.neighbors == "knn" else self.r_cut
        if edge_index is None:
            edge_index = neighbor_edges(x, self.neighbors, param, batch)
        i, j = edge_index[0], edge_index[1]
        vec = x.index_select(0, j) - x.index_select(0, i)
        n = x.shape[0]
        if self.neighbors == "knn":
            # mean neighbour distance of each cloud: an invariant length unit
            length = torch.linalg.vector_norm(vec, dim=-1, keepdim=True)
            if batch is None:
                vec = vec / length.mean().clamp_min(1e-9)
            else:
                edge_batch = batch.index_select(0, i)
                ell = segment_pool(length, edge_batch, int(batch.max()) + 1, "mean")
                vec = vec / ell.index_select(0, edge_batch).clamp_min(1e-9)
        centre, ntype = i, torch.zeros(vec.shape[0], dtype=torch.long, device=pos.device)
        if self.centroid:
            # one extra neighbour of type 1 per point: the centroid, in RMS-radius units
            centre = torch.cat([i, torch.arange(n, device=pos.device)])
            ntype = torch.cat([ntype, torch.ones(n, dtype=torch.long, device=pos.device)])
            desc_vec = torch.cat([vec, -x])
        else:
            desc_vec = vec
        ctype = torch.zeros(n, dtype=torch.long, device=pos.device)
        feats = [torch.asinh(self.descriptor(desc_vec, centre, ntype, ctype))]
        if self.radial_features > 0:
            dist = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
            width = (
                float(self.rbf_centers[1] - self.rbf_centers[0])
                if self.radial_features > 1
                else 1.0
            )
            feats.append(torch.exp(-(((dist - self.rbf_centers) / width) ** 2)))
        if self.pseudoscalars is not None:
            feats.append(self.pseudoscalars(vec, i, n))
        h = torch.cat(feats, dim=-1)
        return (h - self.feature_mean) / self.feature_std

    @torch.no_grad()
    def fit_statistics(self, data: Sequence[Any], batch_size: int = 64) -> None:
        """Set the per-feature standardisation of :meth:`point_features` from training
        clouds (mean and standard deviation over all their points).

        Statistics of invariant features are themselves invariant, so this never breaks
        a symmetry; it only makes the features well scaled for the DeepSets network.
        """
        from torch_geometric.loader import DataLoader

        if len(data) == 0:
            raise ValueError("InvariantPointClassifier.fit_statistics: 'data' is empty.")
        self.feature_mean.zero_()
        self.feature_std.fill_(1.0)
        s1 = torch.zeros(self.feature_mean.shape, dtype=torch.float64)
        s2 = torch.zeros_like(s1)
        count = 0
        for batch in DataLoader(list(data), batch_size=batch_size):
            h = self.point_features(batch.pos.to(self.feature_mean.dtype), batch.batch)
            h = h.double()
            s1 = s1.to(h.device) + h.sum(0)
            s2 = s2.to(h.device) + (h * h).sum(0)
            count += h.shape[0]
        mean = s1 / count
        std = (s2 / count - mean * mean).clamp_min(0).sqrt().clamp_min(1e-3)
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(std)

    def forward(
        self, pos: Tensor, batch: Tensor | None = None, edge_index: Tensor | None = None
    ) -> Tensor:
        return self.deepsets(self.point_features(pos, batch, edge_index), batch)

    def extra_repr(self) -> str:
        group = "SO3" if self.chiral else "O3"
        return (
            f"num_classes={self.num_classes}, neighbors={self.neighbors!r}, k={self.k}, "
            f"r_cut={self.r_cut}, chiral={self.chiral} (invariant under {group})"
        )

    @property
    def group(self) -> str:
        """The rotation group the model is invariant to: ``"SO3"`` (chiral) or ``"O3"``."""
        return "SO3" if self.chiral else "O3"

    def declared_symmetries(self) -> list[Declaration]:
        """Permutation, translation, SO(3), SE(3) exact; O(3)/E(3) exact unless chiral."""
        decls = [
            Declaration("permutation", "points", "invariant", "exact", "DeepSets pooling"),
            Declaration("translation", "points", "invariant", "exact", "relative vectors"),
            Declaration("SO3", "points", "invariant", "exact", "se_e2_a descriptor"),
            Declaration("SE3", "points", "invariant", "exact", "se_e2_a descriptor"),
        ]
        if self.chiral:
            note = "pseudoscalar (triple-product) features flip sign under reflections"
            decls += [
                Declaration("O3", "points", "invariant", "broken", note),
                Declaration("E3", "points", "invariant", "broken", note),
            ]
        else:
            note = "se_e2_a is O(3) invariant: mirror images are not told apart"
            decls += [
                Declaration("O3", "points", "invariant", "exact", note),
                Declaration("E3", "points", "invariant", "exact", note),
            ]
        return decls
