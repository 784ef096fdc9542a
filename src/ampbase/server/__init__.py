"""ampbase.server."""
