"""geodl.geometry — what atoms and point clouds share.

Neighbour lists (vesin, periodic cells of any size), edge vectors, the smooth switching
function, the DeepPot-SE environment matrix and ``se_e2_a`` descriptor (and its compressed
table, with a native kernel built at first use), and the input
checks at the boundary (positions, cells, species, minimum distances). Nothing here knows
of atoms' training, point-cloud classifiers or the CLI.
"""

from geodl.geometry._descriptor import (
    AGGREGATIONS,
    SeADescriptor,
    default_neighbor_norm,
    padding_slots,
    segment_outer_sum,
)
from geodl.geometry._edges import edge_vectors
from geodl.geometry._environment import environment_matrix
from geodl.geometry._fused import fused_descriptor, fused_descriptor_available
from geodl.geometry._harmonics import EdgeHarmonics, spherical_harmonics_irreps
from geodl.geometry._kernels import kernel_status, table_kernel
from geodl.geometry._neighbors import neighbor_list
from geodl.geometry._radial import BesselBasis, PolynomialEnvelope, polynomial_envelope
from geodl.geometry._switching import smooth_switch
from geodl.geometry._table import (
    hermite_table,
    table_contract,
    table_contract_reference,
    table_derivative,
    table_lookup,
)
from geodl.geometry._validation import (
    check_cell,
    check_min_distance,
    check_positions,
    check_species,
    complete_cell,
    normalise_pbc,
)

__all__ = [
    "AGGREGATIONS",
    "BesselBasis",
    "EdgeHarmonics",
    "PolynomialEnvelope",
    "SeADescriptor",
    "check_cell",
    "check_min_distance",
    "check_positions",
    "check_species",
    "complete_cell",
    "default_neighbor_norm",
    "edge_vectors",
    "environment_matrix",
    "fused_descriptor",
    "fused_descriptor_available",
    "hermite_table",
    "kernel_status",
    "neighbor_list",
    "normalise_pbc",
    "padding_slots",
    "polynomial_envelope",
    "segment_outer_sum",
    "smooth_switch",
    "spherical_harmonics_irreps",
    "table_contract",
    "table_contract_reference",
    "table_derivative",
    "table_kernel",
    "table_lookup",
]
