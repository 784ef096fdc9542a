"""``ampbase schema print|introspection SCHEMA``."""

from __future__ import annotations

from pathlib import Path

import orjson

from ampbase.cli.output import echo

__all__ = ["run_schema"]


def run_schema(action: str, path: Path) -> int:
    from ampbase.schema.loader import load_schema

    schema = load_schema(path)
    if action == "print":
        from ampbase.compiler.graphql_schema import compile_sdl

        echo(compile_sdl(schema).rstrip("\n"))
    else:
        from ampbase.compiler.introspection import build_introspection

        echo(orjson.dumps(build_introspection(schema), option=orjson.OPT_INDENT_2).decode())
    return 0
