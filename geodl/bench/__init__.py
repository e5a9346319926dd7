"""geodl.bench — one module per ``geodl bench NAME``."""

from geodl.bench._registry import BENCHMARKS, resolve_benchmark

__all__ = ["BENCHMARKS", "resolve_benchmark"]
