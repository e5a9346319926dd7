"""geodl.symmetry — groups, actions, representations, checks and audit."""

from geodl.symmetry._declaration import Declaration

__all__ = ["Declaration"]
