"""What the loader adds to a declared schema: Python handlers and ``backend.py`` customisations.

* ``handlers.py`` next to an SDL or DSL schema (``handlers = {"echofunction": echo}``) and the
  file given with ``--handlers`` (``AMPBASE_HANDLERS``) attach Python functions to custom operations
  (:mod:`ampbase.schema.handlers`); Gen 2 projects read ``amplify/data/handlers.py`` themselves.
  Queries and mutations left without a function are reported to ``warn``.
* a ``backend`` (:func:`ampbase.schema.backend.find_backend`) becomes the schema's
  :class:`~ampbase.schema.ir.ResourceConfig`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ampbase.schema.backend import apply_backend, find_backend
from ampbase.schema.handlers import HANDLERS_FILE, bind_handlers, load_handlers_file, unserved_operations
from ampbase.schema.ir import SchemaDef

__all__ = ["customise_schema"]

_GEN2_SUFFIXES = (".ts", ".mts", ".mjs")


def customise_schema(
    path: Path, schema: SchemaDef, extra_handlers: Path | None, warn: Callable[[str], None]
) -> SchemaDef:
    if extra_handlers is None and os.environ.get("AMPBASE_HANDLERS"):
        extra_handlers = Path(os.environ["AMPBASE_HANDLERS"])
    gen2 = path.suffix in _GEN2_SUFFIXES or path.name == "resource.js" or _is_gen2_dir(path)
    folder = path if path.is_dir() else path.parent
    files: list[Path] = []
    if not gen2 and (folder / HANDLERS_FILE).is_file():
        files.append(folder / HANDLERS_FILE)
    if extra_handlers is not None:
        files.append(extra_handlers)
    for file in files:
        handlers = load_handlers_file(file)
        schema, used = bind_handlers(schema, handlers)
        unused = sorted(set(handlers) - used)
        if unused:
            warn(
                f"{file}: no custom operation or function is named "
                + ", ".join(repr(name) for name in unused)
            )
    if not gen2:
        for message in unserved_operations(schema, str(files[-1]) if files else HANDLERS_FILE):
            warn(message)
    backend = find_backend(path / "amplify" if gen2 and path.is_dir() else path)
    if backend is not None:
        schema = apply_backend(schema, backend)
    return schema


def _is_gen2_dir(path: Path) -> bool:
    if not path.is_dir():
        return False
    from ampbase.schema.gen2_ts import is_gen2_project

    return is_gen2_project(path)
