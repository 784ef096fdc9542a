"""ampbase: self-hostable Amplify Data.

Define models with the Python DSL (``from ampbase import a, define_data``) or
Amplify GraphQL SDL, and serve a real-time, AppSync-compatible GraphQL API.
Custom operations are served by Python functions (``a.handler.function(fn)``;
raise :class:`HandlerError` to fail a call); ``define_backend`` customises the
generated resources (time to live, point-in-time recovery, throughput, tracing).
"""

from __future__ import annotations

from ampbase.engine.custom import HandlerContext
from ampbase.errors import HandlerError
from ampbase.schema.backend import define_backend
from ampbase.schema.dsl import a, define_data

__version__ = "0.1.0"

__all__ = ["HandlerContext", "HandlerError", "__version__", "a", "define_backend", "define_data"]
