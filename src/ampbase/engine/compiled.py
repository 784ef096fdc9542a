"""Compiled queries: the common generated reads, run without graphql-core's executor.

Most requests an Amplify client sends are one generated query (``getTodo``, ``listTodos``, an
index query) with scalar variables and a selection of stored fields. For such a document —
parsed and validated once, like every document — :func:`compile_query` builds a
:class:`CompiledQuery`: where each argument comes from, which variables must have which exact
Python type, and the shape of the result (which keys, read from which row fields, through which
scalar). Running it checks the variables, calls the same resolver graphql-core would call, and
builds the response directly.

It only ever answers when the answer is certain to be graphql-core's: anything unusual — a
variable of another type (graphql-core would coerce or reject it), a null in a non-null field, a
value a scalar would change or reject, a resolver error — makes :meth:`CompiledQuery.run` return
``None``, and the engine executes the request with graphql-core as if the compiled path did not
exist. The compiled path only covers queries, whose resolvers only read, so running the resolver
again is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    IntValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    Undefined,
    VariableNode,
    is_enum_type,
    is_input_object_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    is_scalar_type,
    value_from_ast,
)

from ampbase.engine.execution import INT, INT_MAX, INT_MIN, PASSTHROUGH, SERIALIZE, TYPENAME, leaf_kind

__all__ = ["CompiledQuery", "compile_query"]


# Shape kinds: the leaf kinds of ampbase.engine.execution, and
_OBJECT, _LIST, _LEAF_LIST = SERIALIZE + 1, SERIALIZE + 2, SERIALIZE + 3

# The exact Python type a variable of these input scalars must have to pass through unchanged.
_VARIABLE_TYPES: dict[str, type] = {
    GraphQLID.name: str,
    GraphQLString.name: str,
    GraphQLInt.name: int,
    GraphQLBoolean.name: bool,
}


class _Fallback(Exception):
    """The compiled path cannot be sure of graphql-core's answer."""


class _Field(NamedTuple):
    key: str
    kind: int
    name: str  # row field (or the type name for __typename)
    exact: type | None
    serialize: Callable[[Any], Any] | None
    non_null: bool
    shape: tuple[_Field, ...] | None  # object and list-of-object fields
    item_non_null: bool
    item_kind: int = PASSTHROUGH  # a list of leaves: how each item is produced


class _Variable(NamedTuple):
    name: str
    type_name: str
    exact: type | None  # the built-in scalars: this exact Python type passes unchanged
    non_null: bool
    coerce: Callable[[Any], Any] | None = None  # other input types: graphql-core's coercion, mirrored


class _Argument(NamedTuple):
    name: str  # the resolver's keyword (an input object's out name)
    variable: str | None  # from this variable, else `value` or `fields`
    value: Any
    fields: tuple[_Argument, ...] | None = None  # an input object literal: its fields, in type order
    non_null: bool = False


def _values(arguments: tuple[_Argument, ...], variables: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments (or an input object's fields) as graphql-core coerces them; _Fallback if unsure."""
    out: dict[str, Any] = {}
    for argument in arguments:
        if argument.fields is not None:
            out[argument.name] = _values(argument.fields, variables)
        elif argument.variable is None:
            out[argument.name] = argument.value
        else:
            value = variables.get(argument.variable, Undefined)
            if value is Undefined:
                if argument.non_null:
                    raise _Fallback
                continue
            if value is None and argument.non_null:
                raise _Fallback
            out[argument.name] = value
    return out


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A validated one-field document the engine can answer without graphql-core's executor."""

    key: str
    field_name: str
    operation_name: str | None
    variables: tuple[_Variable, ...]
    arguments: tuple[_Argument, ...]
    non_null: bool
    shape: tuple[_Field, ...]
    mutation: bool = False  # its resolver writes: never run twice

    def arguments_for(self, variables: Mapping[str, Any]) -> dict[str, Any] | None:
        """The resolver's keyword arguments, or None when graphql-core must coerce them."""
        coerced: dict[str, Any] | None = None
        for variable in self.variables:
            value: Any = variables.get(variable.name, Undefined)
            if value is Undefined or value is None:
                if variable.non_null:
                    return None
                continue
            if variable.coerce is not None:
                try:
                    value = variable.coerce(value)
                except _Fallback:
                    return None
                if coerced is None:
                    coerced = dict(variables)
                coerced[variable.name] = value
            elif type(value) is not variable.exact or (
                variable.exact is int and not INT_MIN <= cast(int, value) <= INT_MAX
            ):
                return None
        try:
            return _values(self.arguments, variables if coerced is None else coerced)
        except _Fallback:
            return None

    def complete(self, result: Any) -> dict[str, Any] | None:
        """``data`` for the resolver's result, or None when graphql-core must complete it."""
        if result is None:
            return None if self.non_null else {self.key: None}
        if type(result) is not dict:
            return None
        try:
            return {self.key: _complete_object(self.shape, result)}
        except _Fallback:
            return None


def _leaf(kind: int, exact: type | None, serialize: Callable[[Any], Any] | None, value: Any) -> Any:
    """A non-null leaf value as graphql-core serialises it; _Fallback where unsure."""
    if kind == PASSTHROUGH:
        if type(value) is not exact:
            raise _Fallback
        return value
    if kind == INT:
        if type(value) is not int or not INT_MIN <= value <= INT_MAX:
            raise _Fallback
        return value
    assert serialize is not None
    try:
        serialized = serialize(value)
    except Exception as exc:  # graphql-core reports it
        raise _Fallback from exc
    if serialized is None or serialized is Undefined:
        raise _Fallback
    return serialized


def _complete_object(shape: tuple[_Field, ...], row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    get = row.get
    for field in shape:
        key, kind, name, exact, serialize, non_null, sub, item_non_null, _ = field
        if kind == TYPENAME:
            out[key] = name
            continue
        value = get(name)
        if value is None:
            if non_null:
                raise _Fallback
            out[key] = None
        elif kind == PASSTHROUGH:
            if type(value) is not exact:
                raise _Fallback
            out[key] = value
        elif kind <= SERIALIZE:
            out[key] = _leaf(kind, exact, serialize, value)
        elif kind == _LEAF_LIST:
            if type(value) is not list:
                raise _Fallback
            item_kind = field.item_kind
            leaves: list[Any] = []
            for item in value:
                if item is None:
                    if item_non_null:
                        raise _Fallback
                    leaves.append(None)
                else:
                    leaves.append(_leaf(item_kind, exact, serialize, item))
            out[key] = leaves
        elif kind == _OBJECT:
            assert sub is not None
            if type(value) is not dict:
                raise _Fallback
            out[key] = _complete_object(sub, value)
        else:  # _LIST of objects
            assert sub is not None
            if type(value) is not list:
                raise _Fallback
            items: list[Any] = []
            for item in value:
                if item is None:
                    if item_non_null:
                        raise _Fallback
                    items.append(None)
                elif type(item) is dict:
                    items.append(_complete_object(sub, item))
                else:
                    raise _Fallback
            out[key] = items
    return out


def _shape(parent: GraphQLObjectType, selection_set: SelectionSetNode | None) -> tuple[_Field, ...] | None:
    if selection_set is None:
        return None
    fields: list[_Field] = []
    keys: set[str] = set()
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or node.directives or node.arguments:
            return None
        key = node.alias.value if node.alias else node.name.value
        if key in keys:
            return None
        keys.add(key)
        name = node.name.value
        if name == "__typename":
            fields.append(_Field(key, TYPENAME, parent.name, None, None, True, None, False))
            continue
        field_def = parent.fields.get(name)
        if field_def is None or field_def.resolve is not None:
            return None
        field_type: Any = field_def.type
        non_null = is_non_null_type(field_type)
        inner: Any = field_type.of_type if non_null else field_type
        if is_leaf_type(inner):
            if node.selection_set is not None:
                return None
            kind, exact, serialize = leaf_kind(inner)
            fields.append(_Field(key, kind, name, exact, serialize, non_null, None, False))
        elif is_object_type(inner):
            if inner.is_type_of is not None:
                return None
            sub = _shape(inner, node.selection_set)
            if sub is None:
                return None
            fields.append(_Field(key, _OBJECT, name, None, None, non_null, sub, False))
        elif is_list_type(inner):
            item: Any = inner.of_type
            item_non_null = is_non_null_type(item)
            item_type: Any = item.of_type if item_non_null else item
            if is_leaf_type(item_type):
                if node.selection_set is not None:
                    return None
                item_kind, exact, serialize = leaf_kind(item_type)
                leaf_list = _Field(
                    key, _LEAF_LIST, name, exact, serialize, non_null, None, item_non_null, item_kind
                )
                fields.append(leaf_list)
                continue
            if not is_object_type(item_type) or item_type.is_type_of is not None:
                return None
            sub = _shape(item_type, node.selection_set)
            if sub is None:
                return None
            fields.append(_Field(key, _LIST, name, None, None, non_null, sub, item_non_null))
        else:
            return None
    return tuple(fields)


def compile_query(
    schema: GraphQLSchema, document: DocumentNode, direct: Mapping[str, Callable[..., Any]]
) -> CompiledQuery | None:
    """The compiled form of a validated document, or None when graphql-core must run it.

    ``direct`` maps the ``Query`` fields whose resolvers only read ``info.context`` to those
    resolvers; a field whose bound resolver is another one (wrapped for tracing, say) is not
    compiled.
    """
    if len(document.definitions) != 1:
        return None
    operation = document.definitions[0]
    if not isinstance(operation, OperationDefinitionNode):
        return None
    mutation = operation.operation is OperationType.MUTATION
    if operation.operation is not OperationType.QUERY and not mutation:
        return None
    if operation.directives or len(operation.selection_set.selections) != 1:
        return None
    root = operation.selection_set.selections[0]
    if not isinstance(root, FieldNode) or root.directives:
        return None
    name = root.name.value
    root_type = schema.mutation_type if mutation else schema.query_type
    if root_type is None:
        return None
    field_def = root_type.fields.get(name)
    if field_def is None or field_def.resolve is None or field_def.resolve is not direct.get(name):
        return None

    variables: list[_Variable] = []
    declared: set[str] = set()
    for definition in operation.variable_definitions or ():
        if definition.default_value is not None or definition.directives:
            return None
        type_node: Any = definition.type
        non_null = type_node.kind == "non_null_type"
        named = type_node.type if non_null else type_node
        if named.kind != "named_type":
            return None
        variable_name = definition.variable.name.value
        type_name = named.name.value
        if type_name in _VARIABLE_TYPES:
            variables.append(_Variable(variable_name, type_name, _VARIABLE_TYPES[type_name], non_null))
        else:
            coerce = _input_coercer(schema.type_map.get(type_name))
            if coerce is None:
                return None
            variables.append(_Variable(variable_name, type_name, None, non_null, coerce))
        declared.add(variable_name)

    by_name = {variable.name: variable for variable in variables}
    arguments = _arguments(field_def.args, root.arguments or (), by_name, top_level=True)
    if arguments is None:
        return None

    return_type: Any = field_def.type
    non_null = is_non_null_type(return_type)
    object_type: Any = return_type.of_type if non_null else return_type
    if not is_object_type(object_type) or object_type.is_type_of is not None:
        return None
    shape = _shape(object_type, root.selection_set)
    if shape is None:
        return None
    operation_name = operation.name.value if operation.name else None
    key = root.alias.value if root.alias else name
    return CompiledQuery(key, name, operation_name, tuple(variables), arguments, non_null, shape, mutation)


def _input_coercer(type_: Any, enclosing: frozenset[str] = frozenset()) -> Callable[[Any], Any] | None:
    """graphql-core's ``coerce_input_value`` for ``type_``, or None where it is not mirrored.

    The coercer raises _Fallback wherever graphql-core would coerce differently or report an
    error (a single value for a list, an unknown or missing field, a value the scalar rejects),
    so only inputs it is sure about pass.
    """
    if type_ is None:
        return None
    non_null = is_non_null_type(type_)
    named: Any = type_.of_type if non_null else type_
    inner: Callable[[Any], Any]
    if is_input_object_type(named):
        if "out_type" in vars(named) or named.name in enclosing:  # recursive inputs (filters): graphql-core
            return None
        fields: list[tuple[str, Callable[[Any], Any], bool]] = []
        for field_name, field in named.fields.items():
            if field.default_value is not Undefined or field.out_name:
                return None
            coerce_field = _input_coercer(field.type, enclosing | {named.name})
            if coerce_field is None:
                return None
            fields.append((field_name, coerce_field, is_non_null_type(field.type)))
        names = frozenset(named.fields)
        plan = tuple(fields)

        def inner(value: Any) -> Any:
            if type(value) is not dict or not names.issuperset(value):
                raise _Fallback
            out: dict[str, Any] = {}
            for field_name, coerce_field, field_non_null in plan:
                if field_name in value:
                    out[field_name] = coerce_field(value[field_name])
                elif field_non_null:
                    raise _Fallback
            return out

    elif is_list_type(named):
        item = _input_coercer(named.of_type, enclosing)
        if item is None:
            return None
        coerce_item = item

        def inner(value: Any) -> Any:
            if type(value) is not list:
                raise _Fallback
            return [coerce_item(v) for v in value]

    elif is_leaf_type(named):
        parse = named.parse_value

        def inner(value: Any) -> Any:
            try:
                parsed = parse(value)
            except Exception as exc:  # graphql-core reports it
                raise _Fallback from exc
            if parsed is Undefined:
                raise _Fallback
            return parsed

    else:
        return None

    def coerce(value: Any) -> Any:
        if value is None:
            if non_null:
                raise _Fallback
            return None
        return inner(value)

    return coerce


def _arguments(
    definitions: Mapping[str, Any],
    nodes: Iterable[ArgumentNode | ObjectFieldNode],
    variables: Mapping[str, _Variable],
    *,
    top_level: bool,
) -> tuple[_Argument, ...] | None:
    """How to build a field's arguments (or an input object literal's fields), in definition order."""
    given = {node.name.value: node.value for node in nodes}
    if not set(given) <= set(definitions):
        return None
    arguments: list[_Argument] = []
    for name, definition in definitions.items():
        keyword = definition.out_name or name
        arg_type: Any = definition.type
        non_null = is_non_null_type(arg_type)
        named: Any = arg_type.of_type if non_null else arg_type
        value_node = given.get(name)
        if value_node is None:
            if definition.default_value is not Undefined:
                return None
            continue
        if isinstance(value_node, VariableNode):
            variable = variables.get(value_node.name.value)
            if variable is None or named.name != variable.type_name:
                return None
            # inside an input object a missing variable leaves the field out, a null is kept
            arguments.append(_Argument(keyword, variable.name, None, None, non_null and not top_level))
        elif isinstance(value_node, ObjectValueNode):
            if not is_input_object_type(named) or "out_type" in vars(named):
                return None
            fields = _arguments(named.fields, value_node.fields, variables, top_level=False)
            if fields is None:
                return None
            arguments.append(_Argument(keyword, None, None, fields, non_null))
        elif isinstance(value_node, StringValueNode | IntValueNode | BooleanValueNode | EnumValueNode):
            if not (is_scalar_type(named) or is_enum_type(named)):
                return None
            literal = value_from_ast(value_node, arg_type)
            if literal is Undefined:
                return None
            arguments.append(_Argument(keyword, None, literal, None, non_null))
        else:  # lists, floats, nulls: graphql-core
            return None
    return tuple(arguments)
