"""geodl.pointcloud."""

__all__: list[str] = []
