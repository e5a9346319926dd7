"""Input kinds and the facts about an input that a group needs to act on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch
from torch import Tensor

from geodl.symmetry._graphs import graph_items, is_pyg, pack_graph
from geodl.symmetry._wigner import irreps_dim, looks_like_irreps

#: Input kinds understood by the harness, with the layout of one unbatched input.
INPUT_KINDS: dict[str, str] = {
    "points": "Tensor (N, d), d = 2 or 3: coordinates of N points",
    "set": "Tensor (N, F): N unordered feature vectors",
    "image": "Tensor (C, H, W): a C-channel image",
    "signal": "Tensor (C, L): a C-channel 1D signal",
    "sequence": "Tensor (T, F): T time steps of F features",
    "atoms": "tuple (species LongTensor (N,), positions (N, 3)[, cell (3, 3)[, pbc (3,)]])",
    "voxels": "Tensor (C, D, H, W): a C-channel 3-D voxel grid",
    "graph": "tuple (x (N, F), edge_index LongTensor (2, E)[, pos (N, d)]) or a PyG Data/Batch",
    "irreps": "Tensor (..., dim): features of the e3nn irreps in_rep=... on the last axis",
}

Inputs = Tensor | tuple[Tensor, ...]

#: The names of :data:`INPUT_KINDS` as a type.
Kind = Literal["points", "set", "image", "signal", "sequence", "atoms", "graph", "irreps", "voxels"]


class HasKinds(Protocol):
    """What :func:`infer_kind` needs of a group: its name and the kinds it acts on."""

    @property
    def name(self) -> str: ...

    @property
    def kinds(self) -> tuple[str, ...]: ...


def check_kind(kind: str) -> str:
    """Return ``kind`` if it is a registered input kind, else raise a ValueError listing them."""
    if kind not in INPUT_KINDS:
        raise ValueError(
            f"input kind: expected one of {sorted(INPUT_KINDS)}, got {kind!r}. "
            "Pass kind=... with one of these names."
        )
    return kind


@dataclass(frozen=True)
class ActionContext:
    """What a group needs to know about an input to sample elements and act on it.

    Attributes
    ----------
    kind : str
        Input kind (see :data:`INPUT_KINDS`).
    n : int or None
        Number of points / set elements / atoms (``None`` for grids).
    dim : int or None
        Spatial dimension of coordinates (2 or 3) for ``points`` and ``atoms``.
    grid : tuple of int or None
        Sizes of the axes acted on by shifts: ``(H, W)`` for images, ``(L,)`` for signals,
        ``(T,)`` for sequences.
    species : Tensor or None
        Species of atoms (permutations only swap atoms of equal species).
    scale : float
        Typical size of the coordinates, used to scale sampled translations.
    pbc : tuple of bool or None
        Periodic directions of atoms with a cell (lattice translations act along them).
    in_irreps : str or None
        e3nn irreps of the features (``"irreps"`` inputs, graph node features).
    """

    kind: str
    n: int | None = None
    dim: int | None = None
    grid: tuple[int, ...] | None = None
    species: Tensor | None = None
    scale: float = 1.0
    pbc: tuple[bool, ...] | None = None
    in_irreps: str | None = None


def to_items(inputs: Any) -> tuple[Any, ...]:
    """Inputs as a tuple of tensors: a graph becomes its canonical 5-tuple (see
    :mod:`geodl.symmetry._graphs`), a single Tensor a 1-tuple."""
    g = graph_items(inputs)
    return g if g is not None else as_tuple(inputs)


def pack_like(original: Any, items: tuple[Tensor, ...]) -> Any:
    """``items`` in the form of ``original`` (a Tensor, a tuple, a PyG Data)."""
    if graph_items(original) is not None:
        packed = pack_graph(original, items)
        return packed[0] if is_pyg(original) else packed
    return items if isinstance(original, (tuple, list)) else items[0]


def model_args(original: Any, items: tuple[Tensor, ...]) -> tuple[Any, ...]:
    """The arguments the model takes for ``items`` (a PyG Data is passed as one)."""
    if graph_items(original) is not None:
        return pack_graph(original, items)
    return tuple(items)


def as_tuple(inputs: Any) -> tuple[Any, ...]:
    """Inputs as a tuple (a single Tensor becomes a 1-tuple)."""
    if isinstance(inputs, tuple):
        return inputs
    if isinstance(inputs, list):
        return tuple(inputs)
    return (inputs,)


def _shape_error(kind: str, got: str) -> ValueError:
    return ValueError(
        f"inputs: for kind {kind!r} expected {INPUT_KINDS[kind]}, got {got}. "
        "Pass one unbatched input (no batch dimension) or choose another kind=."
    )


def _describe(inputs: Any) -> str:
    parts = []
    for x in as_tuple(inputs):
        if isinstance(x, Tensor):
            parts.append(f"Tensor{tuple(x.shape)} {str(x.dtype).replace('torch.', '')}")
        else:
            parts.append(type(x).__name__)
    return "(" + ", ".join(parts) + ")" if len(parts) != 1 else parts[0]


def _is_atoms(items: tuple[Any, ...]) -> bool:
    sp, pos = items[0], items[1]
    ok = (
        not sp.is_floating_point()
        and sp.ndim == 1
        and pos.ndim == 2
        and pos.shape == (sp.shape[0], 3)
    )
    if len(items) >= 3:
        ok = ok and tuple(items[2].shape) == (3, 3)
    if len(items) == 4:
        ok = ok and tuple(items[3].shape) == (3,) and not items[3].is_floating_point()
    return ok


def compatible_kinds(inputs: Any) -> list[str]:
    """Input kinds whose layout matches ``inputs`` (in order of preference)."""
    if graph_items(inputs) is not None:
        return ["graph"]
    items = as_tuple(inputs)
    if not items or not all(isinstance(x, Tensor) for x in items):
        return []
    if len(items) in (2, 3, 4):
        return ["atoms"] if _is_atoms(items) else []
    if len(items) != 1:
        return []
    x = items[0]
    if x.ndim == 4:
        return ["voxels"]
    if x.ndim == 3:
        return ["image"]
    if x.ndim == 2:
        kinds = ["points"] if x.shape[1] in (2, 3) else []
        return kinds + ["set", "signal", "sequence"]
    return []


def _scale(x: Tensor) -> float:
    return (float(x.detach().double().std()) if x.numel() > 1 else 1.0) or 1.0


def make_context(kind: str, inputs: Any, in_rep: str | None = None) -> ActionContext:
    """Validate ``inputs`` against ``kind`` and collect what a group action needs."""
    check_kind(kind)
    if kind == "irreps":
        return _irreps_context(inputs, in_rep)
    items = to_items(inputs)
    if kind not in compatible_kinds(inputs):
        raise _shape_error(kind, _describe(inputs))
    if kind == "atoms":
        species, pos = items[0], items[1]
        pbc = None
        if len(items) >= 3:
            pbc = tuple(bool(b) for b in items[3]) if len(items) == 4 else (True, True, True)
        return ActionContext(
            kind, n=int(pos.shape[0]), dim=3, species=species.detach().cpu(), scale=_scale(pos),
            pbc=pbc,
        )  # fmt: skip
    if kind == "graph":
        x, _, pos, _, batch = items
        dim = int(pos.shape[1]) if pos.shape[1] else None
        if in_rep is not None and x.shape[-1] != irreps_dim(in_rep):
            raise ValueError(
                f"in_rep: {in_rep!r} has dimension {irreps_dim(in_rep)}, but the node features "
                f"x have {x.shape[-1]}."
            )
        return ActionContext(
            kind, n=int(x.shape[0]), dim=dim, species=batch.detach().cpu(),
            scale=_scale(pos) if dim else 1.0, in_irreps=in_rep,
        )  # fmt: skip
    x = items[0]
    if kind == "points":
        return ActionContext(kind, n=int(x.shape[0]), dim=int(x.shape[1]), scale=_scale(x))
    if kind == "set":
        return ActionContext(kind, n=int(x.shape[0]))
    if kind == "image":
        return ActionContext(kind, grid=(int(x.shape[1]), int(x.shape[2])))
    if kind == "voxels":
        return ActionContext(kind, grid=tuple(int(s) for s in x.shape[1:]))
    if kind == "signal":
        return ActionContext(kind, grid=(int(x.shape[1]),))
    return ActionContext(kind, grid=(int(x.shape[0]),))  # sequence


def _irreps_context(inputs: Any, in_rep: str | None) -> ActionContext:
    items = as_tuple(inputs)
    if in_rep is None or not looks_like_irreps(in_rep):
        raise ValueError(
            "inputs of kind 'irreps' need in_rep=<e3nn irreps string>, e.g. "
            f"in_rep='2x0e + 1x1o'; got in_rep={in_rep!r}."
        )
    if len(items) != 1 or not isinstance(items[0], Tensor) or items[0].ndim == 0:
        raise _shape_error("irreps", _describe(inputs))
    x = items[0]
    if x.shape[-1] != irreps_dim(in_rep):
        raise ValueError(
            f"in_rep: {in_rep!r} has dimension {irreps_dim(in_rep)}, but the input's last "
            f"axis has {x.shape[-1]}: expected shape (..., {irreps_dim(in_rep)})."
        )
    n = int(x.shape[0]) if x.ndim >= 2 else None
    return ActionContext("irreps", n=n, dim=3, in_irreps=in_rep)


def to_float64(inputs: Any) -> tuple[Tensor, ...]:
    """Detached CPU copies with floating tensors in float64 (integer tensors unchanged):
    the group acts there."""
    return tuple(
        x.detach().to("cpu", torch.float64) if x.is_floating_point() else x.detach().cpu()
        for x in to_items(inputs)
    )


def cast(
    inputs: Sequence[Tensor], dtype: torch.dtype, device: torch.device | None = None
) -> tuple[Tensor, ...]:
    """Cast floating tensors to ``dtype`` (integer tensors keep theirs), on ``device``."""
    return tuple(
        x.to(device=device, dtype=dtype) if x.is_floating_point() else x.to(device=device)
        for x in inputs
    )


def infer_kind(group: HasKinds, inputs: Any) -> str:
    """The input kind ``group`` acts on that matches the layout of ``inputs``.

    Raises a ValueError naming the valid kinds when none or several (with different
    actions) match.

    Examples
    --------
    >>> from geodl.symmetry import get_group
    >>> infer_kind(get_group("SO3"), torch.zeros(4, 3))
    'points'
    """
    shape_kinds = compatible_kinds(inputs)
    if not shape_kinds:
        raise ValueError(
            "inputs: expected a Tensor or a tuple of Tensors laid out as one of the input "
            "kinds (points (N, d), set (N, F), image (C, H, W), signal (C, L), sequence "
            "(T, F), atoms (species, positions[, cell])); got "
            f"{[type(x).__name__ for x in as_tuple(inputs)]}. Pass kind=... explicitly."
        )
    candidates = [k for k in shape_kinds if k in group.kinds]
    if "points" in candidates and "set" in candidates:
        candidates.remove("set")  # rows are permuted the same way
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise ValueError(
            f"group {group.name!r} acts on {list(group.kinds)}, but the inputs look like "
            f"{shape_kinds}. Pass kind=... or choose a group acting on that input."
        )
    raise ValueError(
        f"inputs: ambiguous input kind for group {group.name!r}: {candidates}. Pass kind=..."
    )
