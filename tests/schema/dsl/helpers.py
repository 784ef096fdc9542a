"""Helpers for asserting that DSL errors point at the user's line."""

from __future__ import annotations

import sys

from ampbase.errors import SchemaDefinitionError

__all__ = ["assert_located", "line_of", "lineno"]


def lineno(offset: int = 0) -> int:
    """The caller's current line number plus ``offset``."""
    return sys._getframe(1).f_lineno + offset


def assert_located(error: SchemaDefinitionError, line: int, *, hint: str | None = None) -> None:
    """``error`` is located at ``line`` of the calling test file, and says so in its message."""
    file = sys._getframe(1).f_code.co_filename
    assert error.source is not None
    assert (error.source.file, error.source.line) == (file, line)
    assert str(error).startswith(f"{file}:{line}: ")
    if hint is not None:
        assert error.hint is not None and hint in error.hint


def line_of(text: str) -> int:
    """The number of the only line of the calling file that contains ``text``."""
    file = sys._getframe(1).f_code.co_filename
    with open(file, encoding="utf-8") as fh:
        hits = [i for i, line in enumerate(fh, start=1) if text in line and "line_of(" not in line]
    assert len(hits) == 1, f"{text!r} occurs on lines {hits}"
    return hits[0]
