"""ampbase.compiler."""
