r"""A procedural 3-D shape dataset: points sampled on the surfaces of parametric shapes.

Every sample is built as a triangle mesh with random proportions, scaled by a random size,
then points are drawn uniformly *by area* on its surface (the same construction as
PyTorch Geometric's ``SamplePoints`` for ModelNet meshes) and Gaussian noise is added.
Shapes are generated upright (their symmetry axis, if any, along :math:`z`), which is the
"aligned" orientation of the z/z, z/SO3 and SO3/SO3 protocols.

Nothing is downloaded; a dataset is a deterministic function of its seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "SHAPE_CLASSES",
    "shape_mesh",
    "sample_surface",
    "make_shapes",
    "shape_splits",
]

Mesh = tuple[Tensor, Tensor]  # vertices (V, 3) float64, faces (F, 3) long


def _uniform(g: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=g, dtype=torch.float64))


def _grid(
    fn: Callable[[Tensor, Tensor], Tensor], nu: int, nv: int, wrap_u: bool, wrap_v: bool
) -> Mesh:
    """Triangulate the parametric surface ``fn(u, v)`` on a ``nu x nv`` grid of [0, 1]^2."""
    u = torch.linspace(0, 1, nu + (0 if wrap_u else 1), dtype=torch.float64)
    if wrap_u:
        u = torch.arange(nu, dtype=torch.float64) / nu
    v = torch.linspace(0, 1, nv + (0 if wrap_v else 1), dtype=torch.float64)
    if wrap_v:
        v = torch.arange(nv, dtype=torch.float64) / nv
    U, V = torch.meshgrid(u, v, indexing="ij")
    verts = fn(U, V).reshape(-1, 3)
    mu, mv = len(u), len(v)  # grid points; there are nu x nv cells either way
    i = torch.arange(nu)[:, None].expand(nu, nv)
    j = torch.arange(nv)[None, :].expand(nu, nv)
    i1, j1 = (i + 1) % mu, (j + 1) % mv
    a, b, c, d = i * mv + j, i1 * mv + j, i1 * mv + j1, i * mv + j1
    faces = torch.cat([torch.stack([a, b, c], -1), torch.stack([a, c, d], -1)]).reshape(-1, 3)
    return verts, faces


def _merge(*meshes: Mesh) -> Mesh:
    verts, faces, offset = [], [], 0
    for v, f in meshes:
        verts.append(v)
        faces.append(f + offset)
        offset += v.shape[0]
    return torch.cat(verts), torch.cat(faces)


def _polyhedron(verts: Sequence[Sequence[float]], faces: Sequence[Sequence[int]]) -> Mesh:
    return torch.tensor(verts, dtype=torch.float64), torch.tensor(faces, dtype=torch.long)


def _disk(radius: float, z: float, n: int = 32) -> Mesh:
    def fn(u: Tensor, v: Tensor) -> Tensor:
        r = radius * v
        return torch.stack(
            [r * torch.cos(2 * math.pi * u), r * torch.sin(2 * math.pi * u), torch.full_like(u, z)],
            -1,
        )

    return _grid(fn, n, 4, wrap_u=True, wrap_v=False)


def _ellipsoid_fn(a: float, b: float, c: float) -> Callable[[Tensor, Tensor], Tensor]:
    def fn(u: Tensor, v: Tensor) -> Tensor:
        phi, theta = 2 * math.pi * u, math.pi * v
        return torch.stack(
            [
                a * torch.sin(theta) * torch.cos(phi),
                b * torch.sin(theta) * torch.sin(phi),
                c * torch.cos(theta),
            ],
            -1,
        )

    return fn


def _sphere(g: torch.Generator) -> Mesh:
    return _grid(_ellipsoid_fn(1.0, 1.0, 1.0), 40, 20, wrap_u=True, wrap_v=False)


def _ellipsoid(g: torch.Generator) -> Mesh:
    a, b = _uniform(g, 0.65, 0.8), _uniform(g, 0.3, 0.5)
    return _grid(_ellipsoid_fn(a, b, 1.0), 40, 20, wrap_u=True, wrap_v=False)


def _box(sx: float, sy: float, sz: float) -> Mesh:
    v = [[x * sx, y * sy, z * sz] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
    f = [
        [0, 1, 3],
        [0, 3, 2],
        [4, 6, 7],
        [4, 7, 5],
        [0, 4, 5],
        [0, 5, 1],
        [2, 3, 7],
        [2, 7, 6],
        [0, 2, 6],
        [0, 6, 4],
        [1, 5, 7],
        [1, 7, 3],
    ]
    return _polyhedron(v, f)


def _cube(g: torch.Generator) -> Mesh:
    return _box(*(_uniform(g, 0.9, 1.1) for _ in range(3)))


def _slab(g: torch.Generator) -> Mesh:
    return _box(1.0, _uniform(g, 0.6, 0.8), _uniform(g, 0.08, 0.15))


def _cylinder(g: torch.Generator) -> Mesh:
    h = _uniform(g, 0.8, 1.5)

    def side(u: Tensor, v: Tensor) -> Tensor:
        return torch.stack(
            [torch.cos(2 * math.pi * u), torch.sin(2 * math.pi * u), h * (2 * v - 1)], -1
        )

    return _merge(_grid(side, 40, 8, True, False), _disk(1.0, -h), _disk(1.0, h))


def _cone(g: torch.Generator) -> Mesh:
    h = _uniform(g, 1.5, 2.5)

    def side(u: Tensor, v: Tensor) -> Tensor:
        r = 1 - v
        return torch.stack(
            [r * torch.cos(2 * math.pi * u), r * torch.sin(2 * math.pi * u), h * v], -1
        )

    return _merge(_grid(side, 40, 8, True, False), _disk(1.0, 0.0))


def _torus(g: torch.Generator) -> Mesh:
    r = _uniform(g, 0.25, 0.45)

    def fn(u: Tensor, v: Tensor) -> Tensor:
        phi, theta = 2 * math.pi * u, 2 * math.pi * v
        rho = 1 + r * torch.cos(theta)
        return torch.stack([rho * torch.cos(phi), rho * torch.sin(phi), r * torch.sin(theta)], -1)

    return _grid(fn, 48, 16, True, True)


def _helix(g: torch.Generator) -> Mesh:
    turns, pitch, tube = _uniform(g, 2.0, 3.0), _uniform(g, 0.6, 0.9), _uniform(g, 0.12, 0.2)

    def fn(u: Tensor, v: Tensor) -> Tensor:
        t, theta = 2 * math.pi * turns * u, 2 * math.pi * v
        centre = torch.stack([torch.cos(t), torch.sin(t), pitch * t / (2 * math.pi)], -1)
        tangent = torch.stack(
            [-torch.sin(t), torch.cos(t), torch.full_like(t, pitch / (2 * math.pi))], -1
        )
        tangent = tangent / tangent.norm(dim=-1, keepdim=True)
        normal = torch.stack([-torch.cos(t), -torch.sin(t), torch.zeros_like(t)], -1)
        binormal = torch.cross(tangent, normal, dim=-1)
        offset = torch.cos(theta)[..., None] * normal + torch.sin(theta)[..., None] * binormal
        return centre + tube * offset

    return _grid(fn, 96, 10, False, True)


def _pyramid(g: torch.Generator) -> Mesh:
    h = _uniform(g, 1.2, 2.0)
    v = [[-1.0, -1.0, 0.0], [1.0, -1.0, 0.0], [1.0, 1.0, 0.0], [-1.0, 1.0, 0.0], [0.0, 0.0, h]]
    f = [[0, 2, 1], [0, 3, 2], [0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]]
    return _polyhedron(v, f)


def _tetrahedron(g: torch.Generator) -> Mesh:
    base = torch.tensor([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=torch.float64)
    jitter = 1 + 0.1 * (2 * torch.rand(4, 3, generator=g, dtype=torch.float64) - 1)
    f = [[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]]
    return base * jitter, torch.tensor(f, dtype=torch.long)


def _octahedron(g: torch.Generator) -> Mesh:
    s = [_uniform(g, 0.9, 1.1) for _ in range(3)]
    v = [[s[0], 0, 0], [-s[0], 0, 0], [0, s[1], 0], [0, -s[1], 0], [0, 0, s[2]], [0, 0, -s[2]]]
    f = [[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4], [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]]
    return _polyhedron(v, f)


def _capsule(g: torch.Generator) -> Mesh:
    h = _uniform(g, 0.8, 1.6)

    def fn(u: Tensor, v: Tensor) -> Tensor:
        # v in [0, 1]: lower hemisphere, cylinder, upper hemisphere, by arc length
        phi = 2 * math.pi * u
        total = math.pi + 2 * h
        s = v * total
        lower = s < math.pi / 2
        upper = s > math.pi / 2 + 2 * h
        theta = torch.where(
            lower, s, torch.where(upper, s - 2 * h, torch.full_like(s, math.pi / 2))
        )
        z = torch.where(
            lower,
            -h - torch.cos(theta),
            torch.where(upper, h - torch.cos(theta), s - math.pi / 2 - h),
        )
        r = torch.sin(theta)
        return torch.stack([r * torch.cos(phi), r * torch.sin(phi), z], -1)

    return _grid(fn, 40, 40, True, False)


#: class name -> ``mesh(generator) -> (vertices (V, 3), faces (F, 3))`` with random
#: proportions; the class index is the position in this dict.
SHAPE_CLASSES: dict[str, Callable[[torch.Generator], Mesh]] = {
    "sphere": _sphere,
    "ellipsoid": _ellipsoid,
    "cube": _cube,
    "slab": _slab,
    "cylinder": _cylinder,
    "cone": _cone,
    "torus": _torus,
    "helix": _helix,
    "pyramid": _pyramid,
    "tetrahedron": _tetrahedron,
    "octahedron": _octahedron,
    "capsule": _capsule,
}


def shape_mesh(name: str, generator: torch.Generator | None = None) -> Mesh:
    """Triangle mesh of one random instance of the shape class ``name``.

    Returns
    -------
    (Tensor, Tensor)
        Vertices ``(V, 3)`` float64 and faces ``(F, 3)`` long (indices into vertices).

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`SHAPE_CLASSES` (the message lists the classes).

    Examples
    --------
    >>> verts, faces = shape_mesh("cube", torch.Generator().manual_seed(0))
    >>> verts.shape, faces.shape
    (torch.Size([8, 3]), torch.Size([12, 3]))
    """
    if name not in SHAPE_CLASSES:
        raise ValueError(
            f"shape_mesh: unknown shape class {name!r}. Valid classes: {', '.join(SHAPE_CLASSES)}."
        )
    return SHAPE_CLASSES[name](generator or torch.Generator().manual_seed(0))


def sample_surface(
    verts: Tensor, faces: Tensor, num: int, generator: torch.Generator | None = None
) -> Tensor:
    r"""Sample ``num`` points uniformly on a triangle mesh (by area).

    A face is chosen with probability proportional to its area
    :math:`A_f = \tfrac12 \lVert (v_1 - v_0) \times (v_2 - v_0) \rVert`, then a point
    :math:`v_0 + a (v_1 - v_0) + b (v_2 - v_0)` with :math:`(a, b)` uniform on the unit
    triangle (the square folded along its diagonal).

    Shapes
    ------
    ``verts`` ``(V, 3)``, ``faces`` ``(F, 3)`` -> ``(num, 3)`` in the dtype of ``verts``.

    Examples
    --------
    >>> verts, faces = shape_mesh("sphere")
    >>> pts = sample_surface(verts, faces, 100, torch.Generator().manual_seed(0))
    >>> bool(((pts.norm(dim=1) - 1).abs() < 0.02).all())
    True
    """
    if faces.dim() != 2 or faces.shape[1] != 3:
        raise ValueError(
            f"sample_surface: 'faces' must have shape (F, 3) (triangles), got {tuple(faces.shape)}."
        )
    v0, v1, v2 = verts[faces[:, 0]], verts[faces[:, 1]], verts[faces[:, 2]]
    area = torch.linalg.cross(v1 - v0, v2 - v0).norm(dim=1)
    if not bool(area.sum() > 0):
        raise ValueError("sample_surface: the mesh has zero total area; check its faces.")
    choice = torch.multinomial(area / area.sum(), num, replacement=True, generator=generator)
    ab = torch.rand(num, 2, generator=generator, dtype=verts.dtype)
    fold = ab.sum(-1) > 1
    ab[fold] = 1 - ab[fold]
    e1, e2 = (v1 - v0)[choice], (v2 - v0)[choice]
    return v0[choice] + ab[:, :1] * e1 + ab[:, 1:] * e2


def _generator(*keys: int) -> torch.Generator:
    seed = int(np.random.SeedSequence([abs(int(k)) for k in keys]).generate_state(1)[0])
    return torch.Generator().manual_seed(seed)


def make_shapes(
    num_per_class: int,
    seed: int = 0,
    num_points: int | tuple[int, int] = (128, 256),
    scale: tuple[float, float] = (0.5, 2.0),
    noise: tuple[float, float] = (0.0, 0.02),
    classes: Sequence[str] | None = None,
    dtype: torch.dtype = torch.float32,
) -> list:
    r"""Generate ``num_per_class`` random point clouds of every shape class.

    Each cloud: a random instance of the class (:func:`shape_mesh`), scaled by
    :math:`s \sim U[\mathrm{scale}]`, :math:`n \sim U\{\mathrm{num\_points}\}` points
    sampled by area (:func:`sample_surface`), plus Gaussian noise of standard deviation
    :math:`\sigma s` with :math:`\sigma \sim U[\mathrm{noise}]`. Upright orientation.

    Parameters
    ----------
    num_per_class : int
        Clouds per class.
    seed : int
        Everything is a deterministic function of the seed.
    num_points : int or (int, int)
        Points per cloud, or an inclusive range to draw from.
    scale, noise : (float, float)
        Ranges of the size factor and of the relative noise level.
    classes : sequence of str, optional
        Subset of :data:`SHAPE_CLASSES` (labels are positions in this sequence).
    dtype : torch.dtype
        Dtype of the positions.

    Returns
    -------
    list of torch_geometric.data.Data
        Each with ``pos`` ``(n, 3)``, ``y`` ``(1,)`` long (the class index) and
        ``num_nodes``; batch them with :class:`torch_geometric.loader.DataLoader`.

    Examples
    --------
    >>> data = make_shapes(2, seed=0, num_points=(50, 60))
    >>> len(data), data[0].pos.shape[1], int(data[-1].y)
    (24, 3, 11)
    """
    from torch_geometric.data import Data

    names = list(SHAPE_CLASSES) if classes is None else list(classes)
    unknown = [c for c in names if c not in SHAPE_CLASSES]
    if unknown or not names:
        raise ValueError(
            f"make_shapes: unknown 'classes' {unknown or names!r}. Valid classes: "
            f"{', '.join(SHAPE_CLASSES)}."
        )
    if isinstance(num_per_class, bool) or not isinstance(num_per_class, int) or num_per_class < 1:
        raise ValueError(
            f"make_shapes: 'num_per_class' must be a positive integer, got {num_per_class!r}."
        )
    lo, hi = (num_points, num_points) if isinstance(num_points, int) else num_points
    if not 1 <= lo <= hi:
        raise ValueError(
            f"make_shapes: 'num_points' must be a positive int or a range (lo, hi) with "
            f"1 <= lo <= hi, got {num_points!r}."
        )
    g = _generator(seed, 7)
    out = []
    for label, name in enumerate(names):
        for _ in range(num_per_class):
            verts, faces = SHAPE_CLASSES[name](g)
            size = _uniform(g, *scale)
            n = int(torch.randint(lo, hi + 1, (), generator=g))
            pts = sample_surface(verts, faces, n, g) * size
            sigma = _uniform(g, *noise) * size
            pts = pts + sigma * torch.randn(n, 3, generator=g, dtype=torch.float64)
            out.append(Data(pos=pts.to(dtype), y=torch.tensor([label]), num_nodes=n))
    return out


def shape_splits(
    seed: int = 0,
    train_per_class: int = 40,
    val_per_class: int = 10,
    test_per_class: int = 20,
    **kwargs: object,
) -> dict[str, list]:
    """Independent train / val / test sets of :func:`make_shapes`, drawn from ``seed``.

    Each split uses its own seed derived from ``(seed, split)``, so the splits never share
    a cloud and a larger training set does not change the test set. ``kwargs`` go to
    :func:`make_shapes`.

    Returns
    -------
    dict
        ``{"train": [...], "val": [...], "test": [...]}`` (an empty list for a size of 0).

    Examples
    --------
    >>> splits = shape_splits(0, 1, 0, 1, num_points=32)
    >>> [len(splits[k]) for k in ("train", "val", "test")]
    [12, 0, 12]
    """
    sizes = {"train": train_per_class, "val": val_per_class, "test": test_per_class}
    out: dict[str, list] = {}
    for k, (name, size) in enumerate(sizes.items()):
        split_seed = int(np.random.SeedSequence([abs(int(seed)), 1000 + k]).generate_state(1)[0])
        out[name] = make_shapes(size, seed=split_seed, **kwargs) if size > 0 else []  # type: ignore[arg-type]
    return out
