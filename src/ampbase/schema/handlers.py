"""Python functions for custom operations declared by name.

A custom operation names the function that serves it: Gen 1 ``@function(name:
"echofunction-${env}")``, Gen 2 ``a.handler.function("echo")``. ampbase serves it with
the Python callable registered under one of these keys (first match wins):

1. the function name as written (``echofunction-${env}``);
2. the function name without the Gen 1 ``-${env}`` suffix (``echofunction``);
3. the operation's name (``echo``) — this also serves a custom operation that
   declares no handler at all, and replaces a JS resolver (``a.handler.custom``).

Callables come from a ``handlers`` mapping: ``define_data(..., handlers={...})``, a
``handlers.py`` next to the schema (``handlers = {"echofunction": echo}``), or the file
given to ``ampbase serve/sandbox --handlers``. Callables given directly in the DSL
(``a.handler.function(echo)``) need no registration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import CustomOperationDef, HandlerDef, OperationKind, SchemaDef, SourceLocation

__all__ = [
    "HANDLERS_FILE",
    "bind_handlers",
    "check_handlers",
    "handler_keys",
    "load_handlers_file",
    "unserved_operations",
]

HANDLERS_FILE = "handlers.py"
_ENV_SUFFIX = "-${env}"


def handler_keys(op: CustomOperationDef, handler: HandlerDef | None) -> tuple[str, ...]:
    """The registry keys that serve ``handler`` of ``op``, most specific first."""
    keys: list[str] = []
    name = handler.function_name if handler is not None else None
    if name:
        keys.append(name)
        if name.endswith(_ENV_SUFFIX):
            keys.append(name[: -len(_ENV_SUFFIX)])
    keys.append(op.name)
    return tuple(dict.fromkeys(keys))


def check_handlers(handlers: Mapping[str, Any], where: str) -> dict[str, Callable[..., Any]]:
    """``handlers`` as a plain dict, or a :class:`SchemaDefinitionError` naming the bad entry."""
    if not isinstance(handlers, Mapping):
        raise SchemaDefinitionError(
            f"{where}: handlers must be a dict of function name to Python function, got "
            f"{type(handlers).__name__}",
            hint='handlers = {"echofunction": echo}',
        )
    result: dict[str, Callable[..., Any]] = {}
    items: list[tuple[object, object]] = list(handlers.items())
    for key, fn in items:
        if not isinstance(key, str) or not key or not callable(fn):
            raise SchemaDefinitionError(
                f"{where}: handlers[{key!r}] must map a function name to a callable, got {fn!r}",
                hint='handlers = {"echofunction": echo}',
            )
        result[key] = fn
    return result


def bind_handlers(
    schema: SchemaDef, handlers: Mapping[str, Callable[..., Any]]
) -> tuple[SchemaDef, frozenset[str]]:
    """``schema`` with the callables of ``handlers`` attached; also the keys that were used."""
    if not handlers:
        return schema, frozenset()
    used: set[str] = set()
    operations: list[CustomOperationDef] = []
    for op in schema.operations:
        if op.kind is OperationKind.SUBSCRIPTION:
            operations.append(op)
            continue
        if not any(h.kind == "function" for h in op.handlers):
            # no handler, or only JS resolvers: the operation's name serves it
            if op.name in handlers:
                used.add(op.name)
                python = HandlerDef("python", function_name=op.name, callable=handlers[op.name])
                op = dataclasses.replace(op, handlers=(python,))
            operations.append(op)
            continue
        new: list[HandlerDef] = []
        for h in op.handlers:
            if h.kind == "function" and h.callable is None:
                key = next((k for k in handler_keys(op, h) if k in handlers), None)
                if key is not None:
                    used.add(key)
                    h = dataclasses.replace(h, callable=handlers[key])
            new.append(h)
        operations.append(dataclasses.replace(op, handlers=tuple(new)))
    return dataclasses.replace(schema, operations=tuple(operations)), frozenset(used)


def unserved_operations(schema: SchemaDef, handlers_file: str = HANDLERS_FILE) -> list[str]:
    """One warning per query or mutation that has no Python handler (calls fail with
    ``HandlerNotFound``)."""
    warnings: list[str] = []
    for op in schema.operations:
        if op.kind is OperationKind.SUBSCRIPTION or any(h.callable is not None for h in op.handlers):
            continue
        where = f"{op.kind.value}.{op.name}"
        named = next((h.function_name for h in op.handlers if h.function_name), None)
        if named:
            key = named.removesuffix(_ENV_SUFFIX)
            what = f"the function '{named}'"
        else:
            key = op.name
            what = "a JS resolver" if op.handlers else "no handler"
        warnings.append(
            f"{where} is served by {what}, which has no Python handler (calls fail with "
            f'HandlerNotFound); add to {handlers_file}: handlers = {{"{key}": fn}}'
        )
    return warnings


def load_handlers_file(path: Path) -> dict[str, Callable[..., Any]]:
    """The ``handlers`` mapping of a Python file (imported like a ``resource.py``)."""
    from ampbase.schema.dsl.loader import load_resource_module

    module = load_resource_module(path)
    mapping = getattr(module, "handlers", None)
    if mapping is None:
        raise SchemaDefinitionError(
            f"{path.name} defines no `handlers` mapping",
            source=SourceLocation(str(path)),
            hint='end the file with: handlers = {"echofunction": echo}  # function or operation name',
        )
    try:
        return check_handlers(mapping, path.name)
    except SchemaDefinitionError as exc:
        exc.source = SourceLocation(str(path))
        raise
