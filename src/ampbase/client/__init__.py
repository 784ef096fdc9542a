"""ampbase.client."""
