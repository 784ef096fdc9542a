"""ampbase.engine."""
