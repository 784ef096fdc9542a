"""Fuzz test settings: a modest example count by default, more on request.

``pytest tests/fuzz --hypothesis-profile=long`` (3000 examples, see ``tests/conftest.py``) or
``AMPBASE_FUZZ_EXAMPLES=20000 pytest tests/fuzz`` runs a deeper, randomised search; by default
the examples are derandomised so ``make test`` is repeatable and fast.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["FUZZ_TIMEOUT", "fuzz_settings"]

FUZZ_TIMEOUT = 3600  # seconds; every wait inside the fuzz tests is bounded on its own


def fuzz_settings(default: int) -> settings:
    """Settings for one fuzz test: ``default`` examples unless the environment asks for more."""
    requested = os.environ.get("AMPBASE_FUZZ_EXAMPLES")
    current = settings()  # the loaded profile
    deep = bool(requested) or current.max_examples >= 1000
    examples = int(requested) if requested else (current.max_examples if deep else default)
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not deep,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
