"""ampbase.protocol."""
