"""geodl.atoms.data — labelled structures: readers, splits, graphs for the models."""

from geodl.atoms.data._dataset import AtomsDataset, bundled_dataset, read_structures
from geodl.atoms.data._graph import atoms_to_graph

__all__ = ["AtomsDataset", "atoms_to_graph", "bundled_dataset", "read_structures"]
