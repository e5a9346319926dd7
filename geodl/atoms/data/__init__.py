"""geodl.atoms.data — labelled structures: formats (ASE, DeePMD, dpdata), readers,
splits, graphs for the models and their batches, the bundled datasets."""

from geodl.atoms.data._batch import collate, iter_batches
from geodl.atoms.data._dataset import AtomsDataset, read_structures
from geodl.atoms.data._formats import (
    BUNDLED_DATASETS,
    DATA_FORMATS,
    bundled_dataset,
    convert,
    detect_format,
    find_deepmd_systems,
    read_frames,
    resolve_source,
    write_frames,
)
from geodl.atoms.data._graph import atoms_to_graph

__all__ = [
    "BUNDLED_DATASETS",
    "DATA_FORMATS",
    "AtomsDataset",
    "atoms_to_graph",
    "bundled_dataset",
    "collate",
    "convert",
    "detect_format",
    "find_deepmd_systems",
    "iter_batches",
    "read_frames",
    "read_structures",
    "resolve_source",
    "write_frames",
]
