"""Load a schema from disk and resolve it: the one entry point the CLI and server use.

* a ``.graphql`` file, or a directory of ``.graphql`` files → Amplify SDL (:mod:`ampbase.schema.sdl`);
* a ``.py`` file → the Python DSL (``ampbase.schema.dsl.load_resource``, which returns the
  declared IR of the module's ``data`` attribute);
* an Amplify Gen 2 project root (a directory with ``amplify/data/resource.ts``) or a
  ``resource.ts``/``.mts``/``.mjs`` file → :mod:`ampbase.schema.gen2_ts` (runs ``node``).

The declared IR is then normalised by :func:`ampbase.schema.resolve.resolve_schema`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import SchemaDef, SourceLocation
from ampbase.schema.resolve import resolve_schema
from ampbase.schema.sdl import load_sdl_path

__all__ = ["load_declared_schema", "load_schema"]


def load_schema(
    path: str | Path,
    *,
    flavour: str | None = None,
    warn: Callable[[str], None] | None = None,
    handlers: str | Path | None = None,
) -> SchemaDef:
    """The resolved schema at ``path`` (``.graphql`` file or directory, DSL ``.py`` file, or a
    Gen 2 project). ``warn`` receives what the schema declares but ampbase cannot serve (Gen 2
    Lambda / JS handlers); by default it is logged on the ``ampbase.schema`` logger.

    Custom operations get their Python functions from ``handlers.py`` next to the schema and
    from the ``handlers`` file (:mod:`ampbase.schema.handlers`); ``backend.py`` next to the
    schema, in its parent folder or the schema module's own ``backend`` customises the
    generated resources (:mod:`ampbase.schema.backend`)."""
    return resolve_schema(load_declared_schema(path, flavour=flavour, warn=warn, handlers=handlers))


def load_declared_schema(
    path: str | Path,
    *,
    flavour: str | None = None,
    warn: Callable[[str], None] | None = None,
    handlers: str | Path | None = None,
) -> SchemaDef:
    """The *declared* (not yet resolved) schema at ``path``."""
    from ampbase.schema.customise import customise_schema

    p = Path(path)
    report = warn or _log_warning
    schema = _load_declared(p, flavour, report)
    return customise_schema(p, schema, Path(handlers) if handlers is not None else None, report)


def _load_declared(p: Path, flavour: str | None, warn: Callable[[str], None]) -> SchemaDef:
    if p.suffix in (".ts", ".mts", ".mjs") or p.name == "resource.js" or (p.is_dir() and _is_gen2_project(p)):
        return _load_gen2(p, warn)
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
        hint="Point at a resource.py (Python DSL), a .graphql file, a directory of .graphql files, "
        "or an Amplify Gen 2 project (amplify/data/resource.ts).",
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


def _is_gen2_project(path: Path) -> bool:
    from ampbase.schema.gen2_ts import is_gen2_project

    return is_gen2_project(path)


def _log_warning(message: str) -> None:
    logging.getLogger("ampbase.schema").warning("%s", message)


def _load_gen2(path: Path, warn: Callable[[str], None]) -> SchemaDef:
    """A Gen 2 project root or resource file; what cannot run locally goes to ``warn``."""
    from ampbase.schema.gen2_ts import gen2_project_root, load_gen2_project

    if path.is_dir():
        project = load_gen2_project(path)
    else:
        project = load_gen2_project(gen2_project_root(path), resource=path)
    for warning in project.warnings:
        warn(warning)
    return project.schema
