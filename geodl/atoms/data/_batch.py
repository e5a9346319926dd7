"""Graph batches: PyG ``Batch`` objects collated one at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["collate", "iter_batches"]


def collate(graphs: Sequence[Any]) -> Any:
    """One ``torch_geometric.data.Batch`` of ``graphs`` (disjoint union, ``batch`` vector).

    Shapes
    ------
    ``B`` graphs of ``N_b`` atoms and ``E_b`` edges -> one graph of ``sum N_b`` atoms and
    ``sum E_b`` edges (edge indices shifted), ``batch (sum N_b,)``.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from geodl.atoms.data import atoms_to_graph
    >>> g = atoms_to_graph(bulk("Cu", cubic=True), ["Cu"], 3.0)
    >>> collate([g, g]).num_graphs
    2
    """
    from torch_geometric.data import Batch

    return Batch.from_data_list(list(graphs))


def iter_batches(graphs: Sequence[Any], batch_size: int) -> Iterator[Any]:
    """Consecutive batches of ``batch_size`` graphs (the last may be smaller), collated
    one at a time so that never all batches are in memory at once.

    Examples
    --------
    >>> from ase.build import bulk
    >>> from geodl.atoms.data import atoms_to_graph
    >>> g = atoms_to_graph(bulk("Cu", cubic=True), ["Cu"], 3.0)
    >>> [b.num_graphs for b in iter_batches([g] * 5, 2)]
    [2, 2, 1]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"iter_batches: 'batch_size' must be an integer >= 1, got {batch_size!r}.")
    for i in range(0, len(graphs), batch_size):
        yield collate(graphs[i : i + batch_size])
