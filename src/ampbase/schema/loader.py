"""Load a schema from disk and resolve it: the one entry point the CLI and server use.

* a ``.graphql`` file, or a directory of ``.graphql`` files → Amplify SDL (:mod:`ampbase.schema.sdl`);
* a ``.py`` file → the Python DSL (``ampbase.schema.dsl.load_resource``, which returns the
  declared IR of the module's ``data`` attribute).

The declared IR is then normalised by :func:`ampbase.schema.resolve.resolve_schema`.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import SchemaDef, SourceLocation
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl_path

__all__ = ["load_declared_schema", "load_schema"]


def load_schema(path: str | Path, *, flavour: str | None = None) -> SchemaDef:
    """The resolved schema at ``path`` (``.graphql`` file or directory, or a DSL ``.py`` file)."""
    return resolve_schema(load_declared_schema(path, flavour=flavour))


def load_declared_schema(path: str | Path, *, flavour: str | None = None) -> SchemaDef:
    """The *declared* (not yet resolved) schema at ``path``."""
    p = Path(path)
    if p.is_dir() or p.suffix in (".graphql", ".gql"):
        return load_sdl_path(p, flavour=flavour or "gen1")
    if p.suffix == ".py":
        if not p.is_file():
            raise SchemaDefinitionError(
                "Schema file not found", source=SourceLocation(str(p)), hint="Check the path."
            )
        return _load_dsl(p)
    raise SchemaDefinitionError(
        f"Don't know how to load a schema from '{p.name}'",
        source=SourceLocation(str(p)),
        hint="Point at a resource.py (Python DSL), a .graphql file, or a directory of .graphql files.",
    )


def _load_dsl(path: Path) -> SchemaDef:
    try:
        dsl = importlib.import_module("ampbase.schema.dsl")
    except ImportError as exc:  # pragma: no cover - the DSL ships with ampbase
        raise SchemaDefinitionError(
            "The Python schema DSL is not available",
            source=SourceLocation(str(path)),
            hint="Use an SDL schema (.graphql) instead.",
        ) from exc
    load_resource = getattr(dsl, "load_resource", None)
    if load_resource is None:  # pragma: no cover - the DSL ships with ampbase
        raise SchemaDefinitionError(
            "The Python schema DSL has no load_resource()",
            source=SourceLocation(str(path)),
            hint="Use an SDL schema (.graphql) instead.",
        )
    result = load_resource(path)
    if not isinstance(result, SchemaDef):
        raise SchemaDefinitionError(
            f"{path.name} did not produce a schema",
            source=SourceLocation(str(path)),
            hint="Assign the result of define_data(...) to a module-level `data`.",
        )
    return result
