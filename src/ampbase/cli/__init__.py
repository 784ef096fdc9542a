"""ampbase.cli."""
