"""geodl.atoms."""

__all__: list[str] = []
