"""``load_resource(path)``: import a user's ``amplify/data/resource.py`` and return its schema.

The file is imported as a module of a throw-away package whose path is the file's directory,
so both ``import sibling`` and ``from .sibling import x`` work; the modules it added are
removed from ``sys.modules`` afterwards. Any exception the module raises becomes a
:class:`SchemaDefinitionError` located at the user's line.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import traceback
import types
from pathlib import Path
from typing import Any

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.dsl.data import DataDefinition, default_auth_config, inferred_auth_config
from ampbase.schema.dsl.schema import SchemaBuilder
from ampbase.schema.dsl.source import is_internal_file
from ampbase.schema.ir import SchemaDef, SourceLocation

__all__ = ["load_resource", "load_resource_module"]


def load_resource(path: str | os.PathLike[str]) -> SchemaDef:
    """The declared :class:`SchemaDef` of a ``resource.py`` (its ``data``, else its ``schema``)."""
    file = Path(path).resolve()
    module = load_resource_module(file)
    data = getattr(module, "data", None)
    if isinstance(data, DataDefinition):
        backend = getattr(module, "backend", None)
        if backend is not None:  # define_backend(data=data) in the same module
            from ampbase.schema.backend import Backend, apply_backend

            if isinstance(backend, Backend):
                return apply_backend(data.schema, backend)
        return data.schema
    if isinstance(data, SchemaDef):
        return data
    if data is None:
        schema = getattr(module, "schema", None)
        if isinstance(schema, SchemaBuilder):
            return schema.to_schema_def(inferred_auth_config(schema.to_schema_def(default_auth_config())))
        if isinstance(schema, SchemaDef):
            return schema
    found = "data" if data is not None else "schema"
    value = data if data is not None else getattr(module, "schema", None)
    raise SchemaDefinitionError(
        f"{file.name} defines no data resource"
        + (f" ('{found}' is {type(value).__name__})" if value is not None else ""),
        source=SourceLocation(str(file)),
        hint="end the file with: data = define_data(schema=schema, authorization_modes={...})",
    )


def load_resource_module(path: str | os.PathLike[str]) -> types.ModuleType:
    """Execute a ``resource.py`` and return the module (not left in ``sys.modules``)."""
    file = Path(path).resolve()
    if not file.is_file():
        raise SchemaDefinitionError(
            "Schema file not found",
            source=SourceLocation(str(file)),
            hint="pass the path of your amplify/data/resource.py",
        )
    directory = str(file.parent)
    package_name = "_ampbase_resource_" + hashlib.sha1(directory.encode()).hexdigest()[:12]
    module_name = f"{package_name}.{file.stem}"
    before = set(sys.modules)
    package = types.ModuleType(package_name)
    package.__path__ = [directory]
    package.__package__ = package_name
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None:  # pragma: no cover - only for odd file names
        raise SchemaDefinitionError("Cannot import the schema file", source=SourceLocation(str(file)))
    module = importlib.util.module_from_spec(spec)
    sys.modules[package_name] = package
    sys.modules[module_name] = module
    sys.path.insert(0, directory)
    try:
        # compiled here rather than by the import system: no stale or stray __pycache__ for the
        # file a development server re-reads on every change
        code = compile(file.read_bytes(), str(file), "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except SchemaDefinitionError as exc:
        if exc.source is None:
            exc.source = _user_location(exc, file)
        raise
    except SyntaxError as exc:
        raise SchemaDefinitionError(
            f"SyntaxError: {exc.msg}",
            source=SourceLocation(exc.filename or str(file), exc.lineno, exc.offset),
            hint="fix the Python syntax of your schema module",
        ) from None
    except Exception as exc:
        raise SchemaDefinitionError(
            f"{type(exc).__name__}: {exc}",
            source=_user_location(exc, file),
            hint="the schema module raised an exception while it was being imported",
        ) from exc
    finally:
        with contextlib.suppress(ValueError):  # the module may have removed it itself
            sys.path.remove(directory)
        _forget_modules(before, directory, package_name)
    return module


def _forget_modules(before: set[str], directory: str, package_name: str) -> None:
    prefix = directory + os.sep
    for name in set(sys.modules) - before:
        mod = sys.modules.get(name)
        mod_file: Any = getattr(mod, "__file__", None)
        ours = name == package_name or name.startswith(package_name + ".")
        if ours or (isinstance(mod_file, str) and os.path.abspath(mod_file).startswith(prefix)):
            del sys.modules[name]


def _user_location(exc: BaseException, file: Path) -> SourceLocation:
    """The innermost traceback frame outside ampbase (preferably in the schema's directory)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not is_internal_file(f.filename)]
    frames = [f for f in frames if "importlib" not in f.filename and not f.filename.startswith("<frozen")]
    directory = str(file.parent) + os.sep
    local = [f for f in frames if os.path.abspath(f.filename).startswith(directory)]
    candidates = local or frames
    if not candidates:
        return SourceLocation(str(file))
    return SourceLocation(candidates[-1].filename, candidates[-1].lineno)
