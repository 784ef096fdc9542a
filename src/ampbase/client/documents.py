"""The GraphQL documents and variables the client sends, built from the model introspection.

Sans IO and shared by every client (HTTP, in-process, sync). The documents are the ones the
Amplify JS v6 data client sends (``specs/client-wire-contract.md`` §3): anonymous operations,
AppSync transformer type names, the default selection set (scalars, enums, custom types
expanded, implicit owner fields; never relations), custom selection sets from dot paths with
``*`` wildcards, and the graphql-js printer's layout (2-space indent, long argument lists
broken onto lines).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ampbase.client.introspection import (
    ArgumentInfo,
    CustomOperationInfo,
    FieldInfo,
    IndexInfo,
    Introspection,
    ModelInfo,
    capitalize,
)

__all__ = [
    "WILDCARD",
    "Operation",
    "Selection",
    "custom_operation",
    "default_selection",
    "model_operation",
    "normalize_mutation_input",
    "print_operation",
    "selection_from_paths",
]

WILDCARD = "*"
MAX_LINE_LENGTH = 80

# Sort-key field type → the ``Model<T>KeyConditionInput`` it is queried with.
_KEY_CONDITION_SCALAR: Mapping[str, str] = {
    "ID": "ID",
    "String": "String",
    "AWSDate": "String",
    "AWSTime": "String",
    "AWSDateTime": "String",
    "AWSTimestamp": "Int",
    "AWSEmail": "String",
    "AWSPhone": "String",
    "AWSURL": "String",
    "AWSIPAddress": "String",
    "AWSJSON": "String",
    "Boolean": "Boolean",
    "Int": "Int",
    "Float": "Float",
}


class Selection(dict[str, "Selection | None"]):
    """An ordered selection set: field name → ``None`` (leaf) or a nested selection.

    ``connection`` marks a hasMany field, printed as ``field { items { … } }``.
    """

    __slots__ = ("connection",)

    def __init__(self, *args: Any, connection: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection

    def merge(self, other: Selection) -> Selection:
        """Merge ``other`` into this selection (new keys appended in order)."""
        for name, value in other.items():
            mine = self.get(name)
            if isinstance(mine, Selection) and isinstance(value, Selection):
                mine.merge(value)
            else:
                self[name] = value
        return self

    def lines(self) -> list[str]:
        out: list[str] = []
        for name, value in self.items():
            if value is None:
                out.append(name)
            elif value.connection:
                out.append(f"{name} {_block([_block_line('items', value)])}")
            else:
                out.append(_block_line(name, value))
        return out


def _block_line(name: str, selection: Selection) -> str:
    return f"{name} {_block(selection.lines())}"


def _indent(text: str) -> str:
    return "  " + text.replace("\n", "\n  ") if text else ""


def _block(lines: Sequence[str]) -> str:
    return "{\n" + _indent("\n".join(lines)) + "\n}" if lines else ""


@dataclass(frozen=True, slots=True)
class Operation:
    """One request: the printed document, its variables and the root field it selects."""

    kind: str  # query | mutation | subscription
    root_field: str
    query: str
    variables: dict[str, Any]


def print_operation(
    kind: str,
    root_field: str,
    arguments: Mapping[str, str],
    selection: Selection | None,
    *,
    connection: bool = False,
) -> str:
    """Print ``kind ($a: T, …) { root(a: $a, …) { selection } }`` as graphql-js ``print`` does.

    ``arguments`` maps argument name → declared variable type. ``connection`` adds the list
    envelope ``items { … } nextToken __typename``.
    """
    field = root_field
    if arguments:
        args = [f"{name}: ${name}" for name in arguments]
        line = f"{root_field}({', '.join(args)})"
        if len(line) > MAX_LINE_LENGTH:
            line = f"{root_field}(\n" + _indent("\n".join(args)) + "\n)"
        field = line
    if selection is not None:
        lines = selection.lines()
        if connection:
            lines = [f"items {_block(lines)}", "nextToken", "__typename"]
        if lines:
            field = f"{field} {_block(lines)}"
    body = _block([field])
    if arguments:
        variables = ", ".join(f"${name}: {type_}" for name, type_ in arguments.items())
        return f"{kind} ({variables}) {body}\n"
    if kind == "query":
        return f"{body}\n"
    return f"{kind} {body}\n"


# ---------------------------------------------------------------------------- selection sets


def _non_model_selection(mis: Introspection, type_name: str) -> Selection:
    selection = Selection()
    for f in mis.non_models.get(type_name, {}).values():
        if f.kind == "nonModel":
            selection[f.name] = _non_model_selection(mis, f.type_name)
        elif f.kind in ("scalar", "enum"):
            selection[f.name] = None
    return selection


def default_selection(mis: Introspection, model: ModelInfo) -> Selection:
    """Scalars and enums, custom types expanded, implicit owner fields; never relations."""
    selection = Selection()
    for f in model.fields.values():
        if f.kind in ("scalar", "enum"):
            selection[f.name] = None
        elif f.kind == "nonModel":
            selection[f.name] = _non_model_selection(mis, f.type_name)
    for owner in model.owner_fields:
        selection.setdefault(owner, None)
    return selection


def _path_selection(mis: Introspection, path: str, type_name: str, *, is_model: bool) -> Selection:
    head, _, rest = path.partition(".")
    if is_model:
        model = mis.model(type_name)
        if head == WILDCARD and not rest:
            return default_selection(mis, model)
        fields: Mapping[str, FieldInfo] = model.fields
        owner_fields: tuple[str, ...] = model.owner_fields
        what = f"model {type_name}"
    else:
        if head == WILDCARD and not rest:
            return _non_model_selection(mis, type_name)
        fields = mis.non_models.get(type_name, {})
        owner_fields = ()
        what = f"custom type {type_name}"
    field = fields.get(head)
    if field is None:
        if head in owner_fields and not rest:
            return Selection({head: None})
        raise ValueError(f"{head} is not a field of {what}")
    if field.kind == "model":
        if not rest:
            raise ValueError(f"{head} must declare a wildcard (*) or a field of model {field.type_name}")
        nested = _path_selection(mis, rest, field.type_name, is_model=True)
        return Selection({head: Selection(nested, connection=field.is_array)})
    if field.kind == "nonModel":
        if not rest:
            raise ValueError(
                f"{head} must declare a wildcard (*) or a field of custom type {field.type_name}"
            )
        return Selection({head: _path_selection(mis, rest, field.type_name, is_model=False)})
    if rest:
        raise ValueError(f"{head} of {what} has no fields to select ({path!r})")
    return Selection({head: None})


def selection_from_paths(mis: Introspection, model: ModelInfo, paths: Iterable[str]) -> Selection:
    """A custom selection set (``["id", "author.email", "posts.*"]``) as a :class:`Selection`.

    Raises :class:`ValueError` for a path that names no field, or a relation or custom-type
    field without ``.*`` or a sub-field.
    """
    if isinstance(paths, str):
        raise TypeError("selection_set must be a list of dot paths, not a string")
    selection = Selection()
    for path in paths:
        selection.merge(_path_selection(mis, path, model.name, is_model=True))
    return selection


def _selection(mis: Introspection, model: ModelInfo, paths: Iterable[str] | None) -> Selection:
    return default_selection(mis, model) if paths is None else selection_from_paths(mis, model, paths)


# ---------------------------------------------------------------------------- model operations


def _composite_name(fields: Sequence[str]) -> str:
    return fields[0] + "".join(capitalize(f) for f in fields[1:])


def _key_condition(model: ModelInfo, field: str) -> str:
    info = model.fields[field]
    scalar = info.type_name if info.kind == "scalar" else "String"
    return f"Model{_KEY_CONDITION_SCALAR.get(scalar, 'String')}KeyConditionInput"


def _named_type(model: ModelInfo, field: str) -> str:
    return model.fields[field].type_name


def normalize_mutation_input(
    mis: Introspection, model: ModelInfo, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Relation objects in a create/update input become their foreign-key values."""
    normalized: dict[str, Any] = {}
    for name, value in values.items():
        field = model.fields.get(name)
        if field is None or not field.is_relation:
            normalized[name] = value
            continue
        related = mis.model(field.type_name)
        if not isinstance(value, Mapping):
            continue
        if field.connection_type == "HAS_ONE":
            for target, associated in zip(field.target_names, field.associated_with, strict=False):
                normalized[target] = value.get(associated)
        elif field.connection_type == "BELONGS_TO":
            for target, key in zip(field.target_names, related.key_fields, strict=False):
                normalized[target] = value.get(key)
    return normalized


def model_operation(
    mis: Introspection,
    model: ModelInfo,
    operation: str,
    args: Mapping[str, Any] | None = None,
    *,
    selection_set: Iterable[str] | None = None,
    index: IndexInfo | None = None,
) -> Operation:
    """The document and variables of one model method.

    ``operation`` is ``get``, ``list``, ``create``, ``update``, ``delete``, ``onCreate``,
    ``onUpdate``, ``onDelete`` or ``index`` (with ``index``). ``args`` holds what the app
    passed: the input for mutations, key values for get/delete, and ``filter``, ``limit``,
    ``nextToken``, ``sortDirection`` and key conditions for list and index queries.
    """
    args = args or {}
    selection = _selection(mis, model, selection_set)
    name = model.pascal_name
    key_fields = model.key_fields
    connection = False
    variables: dict[str, Any] = {}
    arguments: dict[str, str]

    if operation in ("create", "update", "delete"):
        kind = "mutation"
        root = f"{operation}{name}"
        arguments = {"input": f"{capitalize(operation)}{name}Input!"}
        if operation == "delete":
            keys = key_fields if model.is_custom_primary_key else (model.primary_key,)
            variables = {"input": {k: args.get(k) for k in keys}}
        else:
            values = normalize_mutation_input(mis, model, args)
            if operation == "update":
                values = {
                    k: v
                    for k, v in values.items()
                    if (
                        not model.fields[k].is_read_only if k in model.fields else k not in model.owner_fields
                    )
                }
            variables = {"input": values}
    elif operation == "get":
        kind = "query"
        root = f"get{name}"
        arguments = {model.primary_key: f"{_named_type(model, model.primary_key)}!"}
        if model.is_custom_primary_key:
            arguments.update({sk: f"{_named_type(model, sk)}!" for sk in model.sort_keys})
            variables = {k: args.get(k) for k in key_fields}
        else:
            variables = {model.primary_key: args.get(model.primary_key)}
    elif operation == "list":
        kind = "query"
        root = f"list{model.pascal_plural}"
        connection = True
        arguments = {}
        sk_name = _composite_name(model.sort_keys) if model.sort_keys else None
        if model.is_custom_primary_key:
            arguments[model.primary_key] = _named_type(model, model.primary_key)
            arguments["sortDirection"] = "ModelSortDirection"
            if len(model.sort_keys) == 1:
                arguments[model.sort_keys[0]] = _key_condition(model, model.sort_keys[0])
            elif model.sort_keys:
                assert sk_name is not None
                arguments[sk_name] = f"Model{name}PrimaryCompositeKeyConditionInput"
        arguments.update({"filter": f"Model{name}FilterInput", "limit": "Int", "nextToken": "String"})
        for key in ("filter", "sortDirection", model.primary_key, sk_name, "nextToken", "limit"):
            if key is not None and args.get(key):
                variables[key] = args[key]
    elif operation == "index":
        if index is None:
            raise ValueError("an index query needs its index")
        kind = "query"
        root = index.query_field
        connection = True
        pk = index.partition_key
        pk_field = model.fields[pk]
        arguments = {pk: f"{pk_field.type_name}!"}
        sk_name = _composite_name(index.sort_keys) if index.sort_keys else None
        if len(index.sort_keys) == 1:
            arguments[index.sort_keys[0]] = _key_condition(model, index.sort_keys[0])
        elif index.sort_keys:
            assert sk_name is not None
            arguments[sk_name] = f"Model{name}{capitalize(index.name)}CompositeKeyConditionInput"
        arguments.update(
            {
                "filter": f"Model{name}FilterInput",
                "sortDirection": "ModelSortDirection",
                "limit": "Int",
                "nextToken": "String",
            }
        )
        variables[pk] = args.get(pk)
        for key in (sk_name, "filter", "sortDirection", "nextToken", "limit"):
            if key is not None and args.get(key):
                variables[key] = args[key]
    elif operation in ("onCreate", "onUpdate", "onDelete"):
        kind = "subscription"
        root = f"{operation}{name}"
        arguments = {"filter": f"ModelSubscription{name}FilterInput"}
        if args.get("filter"):
            variables = {"filter": args["filter"]}
    else:
        raise ValueError(f"unknown model operation {operation!r}")

    query = print_operation(kind, root, arguments, selection, connection=connection)
    return Operation(kind, root, query, variables)


# ---------------------------------------------------------------------------- custom operations


def _argument_type(arg: ArgumentInfo) -> str:
    base = arg.type_name + ("!" if arg.is_required else "")
    if arg.is_array:
        return f"[{base}]" + ("!" if not arg.is_array_nullable else "")
    return base


def custom_operation(mis: Introspection, op: CustomOperationInfo, args: Mapping[str, Any]) -> Operation:
    """``client.queries.x(args)`` and friends: only declared arguments are sent.

    Raises :class:`TypeError` when a required argument is missing (before any request, as the
    JS client does).
    """
    arguments = {name: _argument_type(a) for name, a in op.arguments.items()}
    variables: dict[str, Any] = {}
    for name, arg in op.arguments.items():
        if name in args:
            variables[name] = args[name]
        elif arg.required:
            raise TypeError(f"{op.name} requires arguments '{name}'")
    selection: Selection | None = None
    if op.kind == "nonModel":
        selection = _non_model_selection(mis, op.type_name)
    elif op.kind == "model":
        selection = default_selection(mis, mis.model(op.type_name))
    query = print_operation(op.operation, op.name, arguments, selection)
    return Operation(op.operation, op.name, query, variables)
