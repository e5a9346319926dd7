r"""Rotations of batched point clouds and invariant normalisation.

Clouds are batched the PyTorch Geometric way: ``pos`` ``(N, 3)`` holds the points of all
clouds, ``batch`` ``(N,)`` the cloud of each point.

* :func:`random_rotations` draws rotation matrices from one registry of orientation
  protocols (:data:`ORIENTATIONS`): ``"none"``, ``"z"`` (about the vertical axis),
  ``"SO3"`` (uniform, Haar measure) and ``"O3"`` (uniform rotation times a random sign,
  i.e. possibly a reflection).
* :func:`rotate` applies one matrix per cloud without a Python loop.
* :func:`center_and_scale` removes the centroid and divides by the RMS radius — both are
  invariant under rotations, translations and permutations, so the result transforms
  like the input under rotations and permutations and does not change under translations
  and rescaling.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from geodl.nn import segment_pool

__all__ = [
    "ORIENTATIONS",
    "random_rotations",
    "rotation_about_z",
    "rotate",
    "center_and_scale",
]


def _identity(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> Tensor:
    return torch.eye(3, dtype=dtype).expand(n, 3, 3).clone()


def rotation_about_z(angle: Tensor) -> Tensor:
    r"""Rotation matrices about the :math:`z` axis.

    .. math::
        R_z(\theta) = \begin{pmatrix} \cos\theta & -\sin\theta & 0 \\
        \sin\theta & \cos\theta & 0 \\ 0 & 0 & 1 \end{pmatrix}

    Shapes
    ------
    ``angle`` ``(n,)`` -> ``(n, 3, 3)``.

    Examples
    --------
    >>> R = rotation_about_z(torch.tensor([math.pi / 2]))
    >>> torch.allclose(R[0] @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0]),
    ...                atol=1e-6)
    True
    """
    c, s = torch.cos(angle), torch.sin(angle)
    zero, one = torch.zeros_like(angle), torch.ones_like(angle)
    rows = [
        torch.stack([c, -s, zero], -1),
        torch.stack([s, c, zero], -1),
        torch.stack([zero, zero, one], -1),
    ]
    return torch.stack(rows, -2)


def _z(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> Tensor:
    angle = torch.rand(n, generator=generator, dtype=torch.float64) * (2 * math.pi)
    return rotation_about_z(angle).to(dtype)


def _so3(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> Tensor:
    # a normalised Gaussian quaternion is uniform on S^3, hence Haar-uniform on SO(3)
    q = torch.randn(n, 4, generator=generator, dtype=torch.float64)
    q = q / q.norm(dim=1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    R = torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )
    return R.to(dtype)


def _o3(n: int, generator: torch.Generator | None, dtype: torch.dtype) -> Tensor:
    R = _so3(n, generator, torch.float64)
    sign = torch.where(torch.rand(n, generator=generator, dtype=torch.float64) < 0.5, -1.0, 1.0)
    return (R * sign[:, None, None]).to(dtype)


#: orientation protocol -> ``sample(n, generator, dtype) -> (n, 3, 3)``.
ORIENTATIONS: dict[str, Callable[[int, torch.Generator | None, torch.dtype], Tensor]] = {
    "none": _identity,
    "z": _z,
    "SO3": _so3,
    "O3": _o3,
}


def random_rotations(
    n: int,
    kind: str = "SO3",
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    r"""Draw ``n`` random orthogonal matrices of the orientation protocol ``kind``.

    ``"z"``: :math:`R_z(\theta)`, :math:`\theta \sim U[0, 2\pi)`; ``"SO3"``: Haar-uniform
    rotations (normalised Gaussian quaternions); ``"O3"``: an ``"SO3"`` rotation times
    :math:`\pm 1` (a reflection half of the time); ``"none"``: identities.

    Parameters
    ----------
    n : int
        Number of matrices.
    kind : str
        A key of :data:`ORIENTATIONS`.
    generator : torch.Generator, optional
        Source of randomness (reproducible draws).
    dtype : torch.dtype, optional
        Default: torch's default dtype.

    Shapes
    ------
    ``(n, 3, 3)``.

    Raises
    ------
    ValueError
        If ``kind`` is unknown (the message lists the valid kinds).

    Examples
    --------
    >>> R = random_rotations(4, "SO3", torch.Generator().manual_seed(0))
    >>> torch.allclose(R @ R.transpose(1, 2), torch.eye(3).expand(4, 3, 3), atol=1e-5)
    True
    """
    if kind not in ORIENTATIONS:
        raise ValueError(
            f"random_rotations: unknown orientation 'kind' {kind!r}. Valid kinds: "
            f"{', '.join(ORIENTATIONS)}."
        )
    return ORIENTATIONS[kind](n, generator, dtype or torch.get_default_dtype())


def rotate(pos: Tensor, rotations: Tensor, batch: Tensor | None = None) -> Tensor:
    r"""Apply one matrix per cloud: :math:`x_i \mapsto R_{b(i)} x_i`.

    Shapes
    ------
    ``pos`` ``(N, 3)``, ``rotations`` ``(B, 3, 3)`` (or ``(3, 3)``), ``batch`` ``(N,)``
    -> ``(N, 3)``.

    Examples
    --------
    >>> pos = torch.randn(5, 3)
    >>> torch.allclose(rotate(pos, torch.eye(3)), pos)
    True
    """
    rotations = rotations.to(pos.dtype)
    if rotations.dim() == 2:
        return pos @ rotations.T
    if batch is None:
        if rotations.shape[0] != 1:
            raise ValueError(
                f"rotate: got {rotations.shape[0]} matrices but no 'batch' vector; pass "
                f"'batch' (N,) or a single (3, 3) matrix."
            )
        return pos @ rotations[0].T
    return torch.einsum("nij,nj->ni", rotations[batch], pos)


def center_and_scale(
    pos: Tensor, batch: Tensor | None = None, eps: float = 1e-9
) -> tuple[Tensor, Tensor]:
    r"""Centre each cloud on its centroid and divide by its RMS radius.

    .. math::
        \tilde x_i = \frac{x_i - \bar x}{\rho}, \qquad
        \bar x = \frac1n \sum_j x_j, \qquad
        \rho = \Big(\frac1n \sum_j \lVert x_j - \bar x \rVert^2\Big)^{1/2}

    :math:`\rho` is invariant under rotations, reflections, translations and
    permutations, and :math:`\tilde x` is equivariant under rotations/reflections and
    permutations, invariant under translations and rescaling.

    Returns
    -------
    (Tensor, Tensor)
        ``pos`` normalised ``(N, 3)`` and the RMS radius per cloud ``(B,)`` (``(1,)`` when
        ``batch`` is None).

    Examples
    --------
    >>> pos = torch.randn(10, 3) * 5 + 2
    >>> out, rho = center_and_scale(pos)
    >>> round(float(out.pow(2).sum(1).mean()), 4)
    1.0
    """
    centroid = segment_pool(pos, batch, reduce="mean")
    if batch is None:
        centered = pos - centroid
        rho = centered.pow(2).sum(-1).mean().sqrt().reshape(1)
        return centered / (rho + eps), rho
    centered = pos - centroid[batch]
    rho = segment_pool(centered.pow(2).sum(-1, keepdim=True), batch, reduce="mean").sqrt()[:, 0]
    return centered / (rho[batch, None] + eps), rho
