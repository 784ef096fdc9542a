"""Terminal output for the CLI (plain text; no colours, so logs stay readable)."""

from __future__ import annotations

import sys

__all__ = ["echo"]


def echo(message: str = "", *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(message + "\n")
    stream.flush()
