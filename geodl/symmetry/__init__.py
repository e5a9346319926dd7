"""geodl.symmetry — groups, actions, representations, checks and audit.

The harness geodl tests itself with, for any PyTorch model or function:

>>> import torch
>>> from geodl.symmetry import check_invariance
>>> energy = lambda x: torch.cdist(x, x).sum()
>>> check_invariance(energy, "E3", torch.randn(5, 3, dtype=torch.float64)).verdict
'exact'

This package imports no other geodl sub-package (it is the bottom layer).
"""

from geodl.symmetry._audit import AuditReport, audit
from geodl.symmetry._calculator import check_calculator
from geodl.symmetry._check import (
    SymmetryError,
    assert_equivariant,
    assert_invariant,
    check_equivariance,
    check_invariance,
)
from geodl.symmetry._context import INPUT_KINDS, ActionContext, infer_kind, make_context
from geodl.symmetry._declaration import Declaration, assert_declarations, verify_declarations
from geodl.symmetry._element import GroupElement
from geodl.symmetry._forces import check_forces
from geodl.symmetry._groups import GROUPS, Group, get_group, groups_acting_on, product
from geodl.symmetry._lie import lie_derivative
from geodl.symmetry._localize import localize
from geodl.symmetry._outputs import BatchAxis, ModelError, OutputError
from geodl.symmetry._report import ElementError, SymmetryReport
from geodl.symmetry._reps import REPRESENTATIONS, apply_rep, validate_rep
from geodl.symmetry._sampling import haar_orthogonal, rotation_about
from geodl.symmetry._specs import InputSpec, make_inputs, parse_input_spec
from geodl.symmetry._tolerance import (
    EXACT_TOLERANCE,
    exact_tolerance,
    model_device,
    model_dtype,
)

__all__ = [
    "EXACT_TOLERANCE",
    "GROUPS",
    "INPUT_KINDS",
    "REPRESENTATIONS",
    "ActionContext",
    "BatchAxis",
    "AuditReport",
    "Declaration",
    "ElementError",
    "Group",
    "GroupElement",
    "InputSpec",
    "ModelError",
    "OutputError",
    "SymmetryError",
    "SymmetryReport",
    "apply_rep",
    "assert_declarations",
    "assert_equivariant",
    "assert_invariant",
    "audit",
    "check_calculator",
    "check_equivariance",
    "check_forces",
    "check_invariance",
    "exact_tolerance",
    "get_group",
    "groups_acting_on",
    "haar_orthogonal",
    "infer_kind",
    "lie_derivative",
    "localize",
    "make_context",
    "make_inputs",
    "model_device",
    "model_dtype",
    "parse_input_spec",
    "product",
    "rotation_about",
    "validate_rep",
    "verify_declarations",
]
