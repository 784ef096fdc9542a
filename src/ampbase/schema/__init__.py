"""ampbase.schema."""
