"""Custom operations: ``a.query()``, ``a.mutation()``, ``a.subscription()`` and ``a.handler``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ampbase.schema.dsl.auth import AuthCallback, ResourceAccess, RuleBuilder, collect_rules
from ampbase.schema.dsl.fields import RefField
from ampbase.schema.dsl.source import caller_location, definition_error, is_list, is_text
from ampbase.schema.dsl.types import field_items
from ampbase.schema.ir import OperationKind, SourceLocation

__all__ = [
    "CustomHandler",
    "CustomOperationBuilder",
    "FunctionHandler",
    "HandlerNamespace",
    "make_operation",
]


@dataclass(frozen=True, slots=True)
class FunctionHandler:
    """``a.handler.function(fn)``: a Python callable, or the name of a registered function."""

    function: Any
    source: SourceLocation
    invocation_type: str = "RequestResponse"


@dataclass(frozen=True, slots=True)
class CustomHandler:
    """``a.handler.custom(entry=...)``: an AppSync JS resolver (kept, not runnable)."""

    entry: str
    data_source: Any
    source: SourceLocation


Handler = FunctionHandler | CustomHandler


class HandlerNamespace:
    """``a.handler``."""

    __slots__ = ()

    def function(self, function: Any) -> FunctionHandler:
        """Serve the operation with ``function(event)``; Gen 2 names it ``Fn<Operation>``."""
        source = caller_location()
        if isinstance(function, str):
            if not function:
                raise definition_error("a.handler.function() needs a function name", source=source)
        elif not callable(function):
            raise definition_error(
                f"a.handler.function() needs a callable or a function name, got {function!r}",
                source=source,
                hint="pass the Python function itself: a.handler.function(echo)",
            )
        return FunctionHandler(function, source)

    def custom(self, entry: str, data_source: Any = None) -> CustomHandler:
        """An AppSync JavaScript resolver file; ampbase keeps it in the schema but cannot run it."""
        source = caller_location()
        if not is_text(entry):
            raise definition_error(
                f"a.handler.custom() needs the resolver's entry path, got {entry!r}",
                source=source,
                hint="a.handler.custom(entry='./myResolver.js')",
            )
        return CustomHandler(entry, data_source, source)


@dataclass(frozen=True, slots=True)
class CustomOperationBuilder:
    kind: OperationKind
    source: SourceLocation
    args: tuple[tuple[str, Any], ...] = ()
    return_type: Any = None
    rules: tuple[RuleBuilder | ResourceAccess, ...] | None = None
    rules_source: SourceLocation | None = None
    handlers: tuple[Handler, ...] = ()
    subscribe_to: tuple[RefField, ...] = ()

    @property
    def builder(self) -> str:
        return f"a.{self.kind.value.lower()}()"

    def arguments(self, arguments: Mapping[str, Any]) -> CustomOperationBuilder:
        """The operation's arguments: ``{"content": a.string().required()}``."""
        source = caller_location()
        if self.args:
            raise definition_error(f"{self.builder} already has .arguments()", source=source)
        return dataclasses.replace(self, args=field_items(arguments, f"{self.builder}.arguments()", source))

    def returns(self, return_type: Any) -> CustomOperationBuilder:
        """The result type: ``a.ref("Name")``, a scalar field or an inline ``a.custom_type({...})``."""
        source = caller_location()
        if self.return_type is not None:
            raise definition_error(f"{self.builder} already has .returns()", source=source)
        if return_type is None:
            raise definition_error(f"{self.builder}.returns() needs a type", source=source)
        return dataclasses.replace(self, return_type=return_type)

    def authorization(self, callback: AuthCallback) -> CustomOperationBuilder:
        """Who may call it: only static rules (public_api_key, guest, authenticated, group(s), custom)."""
        source = caller_location()
        if self.rules is not None:
            raise definition_error(f"{self.builder} already has .authorization()", source=source)
        rules = collect_rules(callback, where=self.builder, source=source)
        return dataclasses.replace(self, rules=rules, rules_source=source)

    def handler(self, handler: Handler | Sequence[Handler]) -> CustomOperationBuilder:
        """How it is served: ``a.handler.function(fn)`` (or a list, run as a pipeline)."""
        source = caller_location()
        if self.handlers:
            raise definition_error(f"{self.builder} already has .handler()", source=source)
        items = [handler] if isinstance(handler, FunctionHandler | CustomHandler) else handler
        if not is_list(items):
            raise definition_error(
                f"{self.builder}.handler() needs a.handler.function(...) or a.handler.custom(...), "
                f"got {handler!r}",
                source=source,
                hint="wrap it: a.handler.function(my_function)",
            )
        for item in items:
            if not isinstance(item, FunctionHandler | CustomHandler):
                raise definition_error(
                    f"{self.builder}.handler() got {item!r}",
                    source=source,
                    hint="wrap it: a.handler.function(my_function)",
                )
        return dataclasses.replace(self, handlers=tuple(items))

    def for_(self, mutations: RefField | Sequence[RefField]) -> CustomOperationBuilder:
        """The mutations a subscription listens to: ``a.ref("likePost")`` or a list of refs."""
        source = caller_location()
        if self.kind is not OperationKind.SUBSCRIPTION:
            raise definition_error(f".for_() is only available on a.subscription(), not {self.builder}")
        refs = [mutations] if isinstance(mutations, RefField) else mutations
        if not is_list(refs):
            raise definition_error(
                f"a.subscription().for_() needs a.ref('mutationName') or a list of them, got {mutations!r}",
                source=source,
            )
        for ref in refs:
            if not isinstance(ref, RefField):
                raise definition_error(
                    f"a.subscription().for_() got {ref!r}",
                    source=source,
                    hint="reference mutations with a.ref('likePost')",
                )
        return dataclasses.replace(self, subscribe_to=self.subscribe_to + tuple(refs))


def make_operation(kind: OperationKind) -> CustomOperationBuilder:
    return CustomOperationBuilder(kind, caller_location())
