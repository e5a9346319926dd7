"""geodl.data."""

__all__: list[str] = []
