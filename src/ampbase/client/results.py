"""What the app gets back: records, ``Result``/``ListResult`` and the ``{data, errors}`` mapping.

Mapping follows the JS client (``specs/client-wire-contract.md`` §5.2): only the first key of
``data`` is read; GraphQL errors are returned in ``errors`` (never raised) and a partial
record is kept when the root field is non-null; hasMany ``{items: [...]}`` values inside a
record are flattened into lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ampbase.client.introspection import Introspection, ModelInfo

__all__ = [
    "ListResult",
    "Record",
    "Result",
    "flatten_record",
    "graphql_errors",
    "map_list",
    "map_single",
]

T = TypeVar("T")
Errors = list[dict[str, Any]]


class Record(dict[str, Any]):
    """A returned record: a ``dict`` of the wire fields plus lazy loaders for relations.

    ``team["name"]`` and ``team.name`` read fields; ``await team.members()`` loads a
    relation (when a custom selection set was used there are no loaders, the relation
    data is in the dict). A loader whose name collides with a ``dict`` method (``items``,
    ``values``, ``update``, …) is reachable as ``team.load("items")``.
    """

    __slots__ = ("_loaders",)

    def __init__(self, data: Mapping[str, Any] = (), loaders: Mapping[str, Callable[..., Any]] = ()) -> None:  # type: ignore[assignment]
        super().__init__(data)
        self._loaders: dict[str, Callable[..., Any]] = dict(loaders)

    def __getattr__(self, name: str) -> Any:
        try:
            loaders = object.__getattribute__(self, "_loaders")
        except AttributeError:
            loaders = {}
        if name in loaders:
            return loaders[name]
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"record has no field or relation {name!r}") from None

    def load(self, relation: str, **options: Any) -> Any:
        """Call the lazy loader of ``relation`` (same as ``record.<relation>(**options)``)."""
        try:
            loader = self._loaders[relation]
        except KeyError:
            raise AttributeError(f"record has no relation loader {relation!r}") from None
        return loader(**options)

    @property
    def loaders(self) -> dict[str, Callable[..., Any]]:
        """The relation loaders by field name (empty with a custom selection set)."""
        return self._loaders

    def __repr__(self) -> str:
        return f"Record({dict.__repr__(self)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Record, (dict(self),))


@dataclass(slots=True)
class Result(Generic[T]):
    """``data`` (a record, a value or ``None``) and ``errors`` (``None`` when there were none)."""

    data: T | None
    errors: Errors | None = None
    extensions: dict[str, Any] | None = None


@dataclass(slots=True)
class ListResult(Generic[T]):
    """A page: ``data`` (records), ``next_token`` (``None`` on the last page) and ``errors``."""

    data: list[T] = field(default_factory=list)
    next_token: str | None = None
    errors: Errors | None = None
    extensions: dict[str, Any] | None = None

    @property
    def nextToken(self) -> str | None:
        return self.next_token


def graphql_errors(body: Mapping[str, Any]) -> Errors | None:
    """The response's ``errors`` when it is a non-empty list (``[]`` counts as none)."""
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
    return None


def _first_value(body: Mapping[str, Any]) -> Any:
    data = body.get("data")
    if not isinstance(data, Mapping) or not data:
        return None
    return next(iter(data.values()))


def _extensions(body: Mapping[str, Any]) -> dict[str, Any] | None:
    ext = body.get("extensions")
    return dict(ext) if isinstance(ext, Mapping) else None


def map_single(body: Mapping[str, Any], wrap: Callable[[Any], Any]) -> Result[Any]:
    """get/create/update/delete/custom operations: ``Result(record | None, errors)``."""
    errors = graphql_errors(body)
    value = _first_value(body)
    data = wrap(value) if value is not None else None
    return Result(data, errors, _extensions(body))


def map_list(body: Mapping[str, Any], wrap: Callable[[Any], Any]) -> ListResult[Any]:
    """list and index queries: ``ListResult([records], next_token, errors)``."""
    errors = graphql_errors(body)
    value = _first_value(body)
    if isinstance(value, Mapping) and isinstance(value.get("items"), list):
        items = [wrap(item) if item is not None else None for item in value["items"]]
        token = value.get("nextToken")
        return ListResult(items, token if isinstance(token, str) else None, errors, _extensions(body))
    return ListResult([], None, errors, _extensions(body))


def flatten_record(mis: Introspection, model: ModelInfo, value: Mapping[str, Any]) -> dict[str, Any]:
    """Turn hasMany ``{items: [...]}`` values into lists, recursively through relations."""
    out: dict[str, Any] = {}
    for name, item in value.items():
        info = model.fields.get(name)
        if info is not None and info.is_relation and item is not None:
            related = mis.models.get(info.type_name)
            if related is None:
                out[name] = item
            elif info.is_array and isinstance(item, Mapping) and isinstance(item.get("items"), list):
                out[name] = [
                    Record(flatten_record(mis, related, x)) if isinstance(x, Mapping) else x
                    for x in item["items"]
                ]
            elif isinstance(item, Mapping):
                out[name] = Record(flatten_record(mis, related, item))
            else:
                out[name] = item
        else:
            out[name] = item
    return out
