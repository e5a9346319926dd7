r"""Which explored frames to label: the trust window and a farthest-point pick.

* :func:`trust_window` — :math:`[\sigma_\text{lo}, \sigma_\text{hi}]` of the committee's
  max force deviation. The automatic rule: :math:`\sigma_\text{lo}` is the
  ``quantile`` of :math:`\sigma_\text{max}` over the frames the committee was trained and
  validated on (a frame no more uncertain than the labelled ones is *accurate*);
  :math:`\sigma_\text{hi} = r\,\sigma_\text{lo}` (beyond it the frame is *failed*: the
  committee is too far off for the frame to be a likely configuration of the potential
  being learned).
* :func:`candidate_pool` — the frames the pick chooses from: the window's candidates,
  topped up with the most uncertain frames below :math:`\sigma_\text{lo}` to a share
  ``rate`` of the explored frames (the *adaptive lower level* of DP-GEN2: a committee
  that is still poorly trained disagrees as much on its own data as elsewhere, its
  window holds nothing, and without the top-up the loop would starve).
* :func:`structure_fingerprints` — a fixed, model-independent descriptor of each frame:
  per centre species, the mean over its atoms of Gaussian-smeared radial distribution
  functions per neighbour species, plus the composition. Invariant under E(3) and
  permutations of like atoms.
* :func:`farthest_point_sampling` — greedy max-min pick in that space, starting from the
  frames already labelled, so new labels are far from the data and from each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from ase import Atoms

from geodl.geometry import neighbor_list, smooth_switch

__all__ = [
    "candidate_pool",
    "classify",
    "farthest_point_sampling",
    "structure_fingerprints",
    "trust_window",
]

ACCURATE, CANDIDATE, FAILED = 0, 1, 2


def trust_window(
    labelled_deviation: np.ndarray,
    *,
    quantile: float = 0.95,
    ratio: float = 3.0,
    lo: float | str = "auto",
    hi: float | str = "auto",
) -> tuple[float, float]:
    r"""The trust window :math:`[\sigma_\text{lo}, \sigma_\text{hi}]` in eV/Å.

    Parameters
    ----------
    labelled_deviation : ndarray
        ``(S,)`` max force deviation of the committee on its training + validation frames.
    quantile, ratio : float
        The automatic rule: :math:`\sigma_\text{lo} = Q_q(\sigma)`,
        :math:`\sigma_\text{hi} = r\,\sigma_\text{lo}`.
    lo, hi : float or "auto"
        Given bounds are kept; an automatic ``hi`` follows a given ``lo`` and vice versa.

    Examples
    --------
    >>> trust_window(np.array([0.01, 0.02, 0.03, 0.04]), quantile=1.0)
    (0.04, 0.12)
    >>> trust_window(np.array([0.01]), lo=0.05, hi=0.15)
    (0.05, 0.15)
    """
    dev = np.asarray(labelled_deviation, dtype=float)
    dev = dev[np.isfinite(dev)]
    if lo == "auto" and hi == "auto":
        if dev.size == 0:
            raise ValueError("trust_window: no finite deviations of labelled frames.")
        low = float(np.quantile(dev, quantile))
        low = max(low, 1e-6)
        return low, ratio * low
    if lo == "auto":
        return float(hi) / ratio, float(hi)
    if hi == "auto":
        return float(lo), ratio * float(lo)
    return float(lo), float(hi)


def classify(deviation: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``0`` accurate (:math:`\\sigma \\le lo`), ``1`` candidate (:math:`lo < \\sigma \\le
    hi`), ``2`` failed (:math:`\\sigma > hi` or not finite), per frame.

    Examples
    --------
    >>> classify(np.array([0.01, 0.1, 0.5, np.nan]), 0.05, 0.15).tolist()
    [0, 1, 2, 2]
    """
    d = np.asarray(deviation, dtype=float)
    out = np.full(d.shape, FAILED, dtype=int)
    ok = np.isfinite(d)
    out[ok & (d <= lo)] = ACCURATE
    out[ok & (d > lo) & (d <= hi)] = CANDIDATE
    return out


def candidate_pool(
    deviation: np.ndarray, classes: np.ndarray, rate: float, minimum: int = 0
) -> np.ndarray:
    r"""Indices of the frames to pick from.

    The candidates of the window (``classes == CANDIDATE``); when they are fewer than
    :math:`k = \max(\lceil \rho\, n \rceil, m)` (:math:`n` explored frames,
    :math:`\rho` = ``rate``, :math:`m` = ``minimum``), the most uncertain *accurate*
    frames join them until there are :math:`k` (or no accurate frame is left):

    .. math::

        \sigma'_\text{lo} = \min\big(\sigma_\text{lo},\; \sigma_{(k)}\big)

    over the frames that did not fail (:math:`\sigma_{(k)}` the :math:`k`-th largest;
    the window's own candidates all lie above :math:`\sigma_\text{lo}`).
    ``rate = 0`` and ``minimum = 0`` keep the window as it is. Failed frames never join.
    (DP-GEN2's ``adaptive-lower`` level takes the same two knobs, a share and a number.)

    Shapes
    ------
    ``deviation (n,)``, ``classes (n,)`` -> ``(m,)`` indices (ascending).

    Examples
    --------
    >>> dev = np.array([0.01, 0.02, 0.03, 0.04, 0.5])
    >>> classes = classify(dev, 0.035, 0.1)
    >>> candidate_pool(dev, classes, 0.0).tolist()
    [3]
    >>> candidate_pool(dev, classes, 0.6).tolist()
    [1, 2, 3]
    >>> candidate_pool(dev, classes, 0.0, minimum=2).tolist()
    [2, 3]
    """
    dev = np.asarray(deviation, dtype=float)
    cls = np.asarray(classes)
    pool = np.flatnonzero(cls == CANDIDATE)
    want = max(int(math.ceil(rate * dev.size)), int(minimum))
    if pool.size < want:
        accurate = np.flatnonzero(cls == ACCURATE)
        extra = accurate[np.argsort(-dev[accurate], kind="stable")][: want - pool.size]
        pool = np.sort(np.concatenate([pool, extra]))
    return pool


def structure_fingerprints(
    frames: Sequence[Atoms], type_map: Sequence[str], cutoff: float, n_radial: int = 12
) -> np.ndarray:
    r"""Model-independent descriptor ``(S, T·T·n_radial + T)`` of each frame.

    .. math::

        d_{t u b} = \frac{1}{N_t} \sum_{i: t_i = t} \sum_{j \ne i: t_j = u}
            f_c(r_{ij})\, e^{-(r_{ij}-\mu_b)^2 / 2w^2},\qquad
        \mu_b = \tfrac{b}{n-1} r_c,\; w = r_c / n ,

    followed by the composition :math:`N_t/N`.

    Shapes
    ------
    ``S`` frames -> ``(S, T*T*n_radial + T)``.

    Symmetry
    --------
    Invariant under rotations, translations and permutations of like atoms.

    Examples
    --------
    >>> from ase.build import bulk
    >>> a = bulk("Cu", cubic=True); b = a.copy(); b.rotate(30, "z", rotate_cell=True)
    >>> fp = structure_fingerprints([a, b], ["Cu"], 4.0)
    >>> fp.shape, bool(np.allclose(fp[0], fp[1]))
    ((2, 13), True)
    """
    t = len(type_map)
    index = {s: k for k, s in enumerate(type_map)}
    mu = torch.linspace(0.0, cutoff, n_radial, dtype=torch.float64)
    width = cutoff / n_radial
    rows = []
    for atoms in frames:
        species = torch.tensor([index[s] for s in atoms.get_chemical_symbols()])
        pos = torch.as_tensor(atoms.positions, dtype=torch.float64)
        cell = torch.as_tensor(atoms.cell.array, dtype=torch.float64)
        pbc = tuple(bool(p) for p in atoms.pbc)
        edge_index, shifts = neighbor_list(pos, cutoff, cell if any(pbc) else None, pbc)[:2]
        src, dst = edge_index
        r = (pos[dst] - pos[src] + shifts.to(torch.float64) @ cell).norm(dim=-1)
        g = torch.exp(-((r[:, None] - mu) ** 2) / (2 * width**2))
        g = g * (r * smooth_switch(r, 0.0, cutoff))[:, None]  # s(r) carries a 1/r
        n = len(atoms)
        per_atom = torch.zeros(n * t, n_radial, dtype=torch.float64)
        per_atom.index_add_(0, src * t + species[dst], g)
        per_atom = per_atom.reshape(n, t * n_radial)
        counts = torch.bincount(species, minlength=t).to(torch.float64)
        by_type = torch.zeros(t, t * n_radial, dtype=torch.float64)
        by_type.index_add_(0, species, per_atom)
        by_type = by_type / counts.clamp(min=1.0)[:, None]
        rows.append(torch.cat([by_type.reshape(-1), counts / n]))
    return torch.stack(rows).numpy() if rows else np.zeros((0, t * t * n_radial + t))


def farthest_point_sampling(
    points: np.ndarray,
    k: int,
    reference: np.ndarray | None = None,
    groups: np.ndarray | None = None,
) -> list[int]:
    r"""Greedy max-min pick of ``k`` rows of ``points``: each pick maximises the distance
    to the nearest row already picked or in ``reference`` (the labelled frames). With
    ``groups`` (a label per row) the picks take turns over the groups, each turn the
    farthest row of that group (a group with nothing left is skipped).

    .. math::

        p_{m+1} = \arg\max_{c} \min\Big(\min_{r} \lVert x_c - y_r \rVert,\;
                  \min_{j \le m} \lVert x_c - x_{p_j} \rVert\Big)

    Without ``reference`` the first pick is the point farthest from the mean.

    Shapes
    ------
    ``points (C, D)``, ``reference (M, D)`` -> ``min(k, C)`` indices.

    Examples
    --------
    >>> pts = np.array([[0.0], [0.1], [1.0], [2.0]])
    >>> farthest_point_sampling(pts, 2, reference=np.array([[0.0]]))
    [3, 2]
    >>> ref, groups = np.array([[0.0]]), np.array([0, 0, 1, 1])
    >>> farthest_point_sampling(pts, 2, reference=ref, groups=groups)
    [1, 3]
    """
    x = torch.as_tensor(np.asarray(points, dtype=float))
    if x.shape[0] == 0 or k <= 0:
        return []
    if reference is not None and len(reference) > 0:
        y = torch.as_tensor(np.asarray(reference, dtype=float))
        nearest = torch.cdist(x, y).min(dim=1).values
    else:
        nearest = (x - x.mean(0)).norm(dim=1) + 1e-12  # start far from the centre
    labels = np.zeros(x.shape[0], dtype=int) if groups is None else np.asarray(groups)
    gid = torch.as_tensor(np.unique(labels, return_inverse=True)[1].reshape(-1))
    n_groups = int(gid.max()) + 1
    free = torch.ones(x.shape[0], dtype=torch.bool)
    picked: list[int] = []
    turn = 0
    while len(picked) < min(k, x.shape[0]):
        mask = free & (gid == turn % n_groups)
        turn += 1
        if not bool(mask.any()):
            continue
        j = int(torch.argmax(torch.where(mask, nearest, torch.full_like(nearest, -1.0))))
        picked.append(j)
        free[j] = False
        nearest = torch.minimum(nearest, (x - x[j]).norm(dim=1))
    return picked
