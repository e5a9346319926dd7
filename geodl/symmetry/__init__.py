"""geodl.symmetry."""

__all__: list[str] = []
