"""geodl.data — generated or bundled data sets (nothing is downloaded)."""

from geodl.data._adding import adding_problem
from geodl.data._digits import load_digits
from geodl.data._mnist1d import load_mnist1d
from geodl.data._split import Split

__all__ = ["Split", "adding_problem", "load_digits", "load_mnist1d"]
