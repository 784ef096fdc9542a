"""Python functions for operations that name their function (``a.handler.function("shouter")``)."""

from __future__ import annotations

from typing import Any


async def shout(event: dict[str, Any]) -> str:
    return str(event["arguments"]["text"]).upper() + "!"


handlers = {"shouter": shout}
