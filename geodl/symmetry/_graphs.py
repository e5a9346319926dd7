r"""Graph inputs: ``(x, edge_index)``, ``(x, edge_index, pos)`` or a PyG ``Data`` / ``Batch``.

Inside the harness every graph is the canonical tuple
``(x (N, F), edge_index (2, E), pos (N, d), edge_attr (E, D), batch (N,))`` — missing
parts are empty (``(N, 0)``, ``(E, 0)``) or zeros (``batch``) — so that one action serves
every form; :func:`pack_graph` rebuilds the form the model takes. PyG is not imported:
a ``Data`` is recognised by its ``edge_index`` attribute and rebuilt with ``clone()``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

#: The fields of a canonical graph, in order.
GRAPH_FIELDS = ("x", "edge_index", "pos", "edge_attr", "batch")


def is_pyg(obj: Any) -> bool:
    """Whether ``obj`` looks like a PyG ``Data`` / ``Batch`` (has a tensor ``edge_index``)."""
    return (
        not isinstance(obj, (Tensor, tuple, list))
        and isinstance(getattr(obj, "edge_index", None), Tensor)
        and hasattr(obj, "clone")
    )


def _edges_ok(edge_index: Tensor, n: int) -> bool:
    return (
        not edge_index.is_floating_point()
        and edge_index.ndim == 2
        and edge_index.shape[0] == 2
        and (edge_index.numel() == 0 or 0 <= int(edge_index.min()) <= int(edge_index.max()) < n)
    )


def _canonical_ok(items: tuple[Tensor, ...]) -> bool:
    x, ei, pos, ea, batch = items
    n = x.shape[0]
    return (
        x.ndim == 2
        and _edges_ok(ei, n)
        and pos.ndim == 2
        and pos.shape[0] == n
        and ea.shape[0] == ei.shape[1]
        and batch.shape == (n,)
        and not batch.is_floating_point()
    )


def graph_items(inputs: Any) -> tuple[Tensor, ...] | None:
    """The canonical 5-tuple of a graph input, or ``None`` if ``inputs`` is not a graph."""
    if is_pyg(inputs):
        ei = inputs.edge_index
        x, pos = getattr(inputs, "x", None), getattr(inputs, "pos", None)
        n = int(inputs.num_nodes)
        ea, batch = getattr(inputs, "edge_attr", None), getattr(inputs, "batch", None)
        dt = next((t.dtype for t in (x, pos) if isinstance(t, Tensor)), torch.float64)
        return (
            x if isinstance(x, Tensor) else torch.zeros(n, 0, dtype=dt),
            ei,
            pos if isinstance(pos, Tensor) else torch.zeros(n, 0, dtype=dt),
            ea.reshape(ei.shape[1], -1) if isinstance(ea, Tensor) else torch.zeros(ei.shape[1], 0),
            batch if isinstance(batch, Tensor) else torch.zeros(n, dtype=torch.long),
        )
    items = tuple(inputs) if isinstance(inputs, (tuple, list)) else ()
    if not all(isinstance(t, Tensor) for t in items):
        return None
    if len(items) == 5 and _canonical_ok(items):
        return items
    if len(items) not in (2, 3):
        return None
    x, ei = items[0], items[1]
    if not (x.is_floating_point() and x.ndim == 2 and _edges_ok(ei, x.shape[0])):
        return None
    n = x.shape[0]
    pos = items[2] if len(items) == 3 else torch.zeros(n, 0, dtype=x.dtype)
    if not (pos.is_floating_point() and pos.ndim == 2 and pos.shape[0] == n):
        return None
    ea = torch.zeros(ei.shape[1], 0, dtype=x.dtype)
    return (x, ei, pos, ea, torch.zeros(n, dtype=torch.long))


def pack_graph(original: Any, items: tuple[Tensor, ...]) -> tuple[Any, ...]:
    """The model's arguments for canonical ``items``, in the form of ``original``."""
    if is_pyg(original):
        data = original.clone()
        for name, t in zip(GRAPH_FIELDS, items, strict=False):
            if isinstance(getattr(original, name, None), Tensor):
                setattr(data, name, t.reshape(getattr(original, name).shape))
        return (data,)
    if isinstance(original, (tuple, list)) and len(original) in (2, 3):
        return tuple(items[: len(original)])
    return tuple(items)
