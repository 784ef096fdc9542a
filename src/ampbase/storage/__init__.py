"""ampbase.storage."""
