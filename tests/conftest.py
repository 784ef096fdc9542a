"""Suite-wide test configuration.

Hypothesis profile ``long`` (``pytest tests/fuzz --hypothesis-profile=long``) runs the fuzz
tests with thousands of examples instead of the modest default that keeps ``make test`` fast.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("long", max_examples=3000, deadline=None)
