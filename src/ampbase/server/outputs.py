"""Write ``amplify_outputs.json`` for a running server."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from ampbase.compiler.outputs import build_amplify_outputs
from ampbase.schema.ir import SchemaDef

__all__ = ["write_outputs"]


def write_outputs(path: Path, schema: SchemaDef, *, url: str, api_key: str | None) -> None:
    """Write the file atomically (readers never see half of it), pretty-printed."""
    outputs = build_amplify_outputs(schema, url=url, api_key=api_key)
    data = orjson.dumps(outputs, option=orjson.OPT_INDENT_2) + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
