"""pytest plugin of geodl (registered through the ``pytest11`` entry point)."""
