"""Where the user wrote a DSL call: the first stack frame outside the ampbase package.

Every builder records a :class:`~ampbase.schema.ir.SourceLocation` when it is created so
errors (ours and the resolver's) can point at the user's ``resource.py`` line.
"""

from __future__ import annotations

import os
import sys
from types import FrameType

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import SourceLocation

__all__ = ["caller_location", "definition_error", "is_internal_file", "is_list", "is_text"]

# .../src/ampbase — every frame whose file lives below it is ours.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep


def is_internal_file(filename: str) -> bool:
    """True for files of the ampbase package itself (not the user's schema)."""
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


def caller_location() -> SourceLocation:
    """The file and line of the innermost frame that is not ampbase code."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and is_internal_file(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - only when called with no user frame at all
        return SourceLocation("<unknown>")
    return SourceLocation(frame.f_code.co_filename, frame.f_lineno)


def definition_error(
    message: str, *, source: SourceLocation | None = None, hint: str | None = None
) -> SchemaDefinitionError:
    """A :class:`SchemaDefinitionError` located at ``source`` (default: the caller's line)."""
    return SchemaDefinitionError(message, source=source or caller_location(), hint=hint)


def is_text(value: object) -> bool:
    """A non-empty string (user input is checked at run time whatever its annotation says)."""
    return isinstance(value, str) and bool(value)


def is_list(value: object, *, of_text: bool = False) -> bool:
    """A non-empty list or tuple (not a string); with ``of_text`` every item is a non-empty string."""
    if not isinstance(value, list | tuple) or not value:
        return False
    return not of_text or all(is_text(v) for v in value)
