"""geodl.atoms.data — labelled structures: readers, splits, graphs and their batches."""

from geodl.atoms.data._batch import collate, iter_batches
from geodl.atoms.data._dataset import AtomsDataset, bundled_dataset, read_structures
from geodl.atoms.data._graph import atoms_to_graph

__all__ = [
    "AtomsDataset",
    "atoms_to_graph",
    "bundled_dataset",
    "collate",
    "iter_batches",
    "read_structures",
]
