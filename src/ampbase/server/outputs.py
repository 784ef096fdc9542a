"""Write ``amplify_outputs.json`` for a running server."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from ampbase.compiler.outputs import build_amplify_outputs
from ampbase.schema.ir import SchemaDef

__all__ = ["write_outputs"]


def write_outputs(path: Path, schema: SchemaDef, *, url: str, api_key: str | None, region: str) -> None:
    """Write the file atomically (readers never see half of it), pretty-printed.

    ``region`` becomes ``data.aws_region``, the region the client signs IAM requests for: the
    server's configured one (``AuthSetup.region``: ``AMPBASE_IAM_CONFIG``'s ``region``, else
    ``AMPBASE_AWS_REGION``, else ``us-east-1``).
    """
    outputs = build_amplify_outputs(schema, url=url, api_key=api_key, region=region)
    data = orjson.dumps(outputs, option=orjson.OPT_INDENT_2) + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
