"""ampbase: self-hostable Amplify Data.

Define models with the Python DSL (``from ampbase import a, define_data``) or
Amplify GraphQL SDL, and serve a real-time, AppSync-compatible GraphQL API.
"""

from __future__ import annotations

from ampbase.schema.dsl import a, define_data

__version__ = "0.1.0"

__all__ = ["__version__", "a", "define_data"]
