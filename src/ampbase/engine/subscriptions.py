"""Subscriptions: preparing one, and rendering a committed change for it.

:func:`prepare_subscription` parses and validates a subscription document against
``engine.graphql_schema`` (exactly one operation of type ``subscription`` with one
root field), works out which mutations the root field listens to (a model's
``onCreate<T>`` → that model's create mutation, ``@model(subscriptions:)`` names
included; a custom subscription → its ``subscribe_to``), turns the ``filter``
argument into a :mod:`~ampbase.storage.predicate` (plus AppSync's classic
argument filters for custom subscriptions: every other non-null argument must equal
the record's field of that name; a model subscription's other arguments are owner
arguments, checked by authorization) and checks that the caller may ``listen`` to
the model, adding the owner / dynamic-group filter the rules imply (or may run the
custom subscription). Problems raise :class:`~ampbase.errors.RequestError`
(``ValidationError`` / ``Unauthorized``), which the realtime server turns into
the protocol's error frame.

:func:`render_event` is called for every published
:class:`~ampbase.pubsub.base.ChangeEvent`. When the event's mutation is one the
subscription listens to, the subscriber may still read the model (re-checked per
event, so revoked rules take effect) and the filter matches the committed record,
the subscription's *own* selection set is executed against that record, with the
subscriber's identity (relationship fields are resolved and authorized as in a
query). The result is the ``payload`` of the ``data``/``next`` frame.

The right to listen is decided once, when the subscription is prepared, and kept
with it (as the record filter it implies: ``None`` for static rules such as
public, API key or private, an owner / dynamic-group predicate otherwise); that
filter is evaluated against every event's record. The decision is taken again
whenever the engine's policy object changes (a reloaded schema or rules).
:attr:`PreparedSubscription.share_key` groups subscribers whose every event
renders, and is admitted, identically, so a fan-out decides and renders once
per group.

Difference from AppSync: AppSync forwards the *mutation's* result, so a field the
mutation did not select arrives as ``null`` even when the subscription asks for
it, and relational fields are redacted. ampbase projects the full committed
record onto the subscription's selection set instead: every field the subscriber
asked for is filled. This is a superset the Amplify client accepts (its default
selection sets ask for exactly the fields its mutations select).
"""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    TypeNameMetaFieldDef,
    Visitor,
    execute,
    parse,
    validate,
    visit,
)
from graphql.execution.values import get_argument_values, get_variable_values

from ampbase.auth.policy import ModelPolicy, SchemaPolicy
from ampbase.engine.engine import Engine, RequestContext
from ampbase.engine.filters import combine, filter_to_predicate
from ampbase.engine.identity import Identity
from ampbase.engine.results import response_body
from ampbase.errors import RequestError, UnauthorizedError, ValidationError
from ampbase.schema.ir import CustomOperationDef, ModelDef, OperationKind, SchemaDef
from ampbase.storage.predicate import Compare, Predicate, evaluate

__all__ = [
    "PreparedSubscription",
    "SubscriptionRoute",
    "event_matches",
    "policy_token",
    "prepare_subscription",
    "render_event",
    "render_record",
    "subscription_routes",
]


@dataclass(frozen=True, slots=True)
class SubscriptionRoute:
    """What one ``Subscription`` root field listens to."""

    field_name: str
    mutations: frozenset[str]
    model: ModelDef | None = None
    operation: CustomOperationDef | None = None


@dataclass(slots=True)
class _Decision:
    """The right to listen as decided under one policy: the access filter, or not allowed."""

    policy: tuple[object, object]
    allowed: bool
    access: Predicate | None


@dataclass(frozen=True, slots=True)
class PreparedSubscription:
    """A validated, authorized subscription of one subscriber."""

    engine: Engine
    document: DocumentNode
    operation_name: str | None
    variables: dict[str, Any]
    identity: Identity
    route: SubscriptionRoute
    predicate: Predicate | None
    # the root field's coerced arguments
    arguments: dict[str, Any] = field(default_factory=dict)
    # Set when the rendering depends only on the record (no field with a resolver is
    # selected): subscribers with equal keys can share one rendering per event.
    render_key: tuple[str, str, str | None] | None = None
    # The read-rights decision, cached per policy object (see ``_access``).
    decision: _Decision | None = field(default=None, compare=False, repr=False)

    @property
    def share_key(self) -> tuple[Any, ...] | None:
        """Equal for subscriptions that get the same frame payload for every event; ``None``: unique.

        Set when rendering depends only on the record (``render_key``); includes the
        access filter decided for the subscriber (so two owners never share).
        """
        if self.render_key is None or self.decision is None or not self.decision.allowed:
            return None
        return (self.route.field_name, self.render_key, repr(self.decision.access))

    @property
    def field_name(self) -> str:
        return self.route.field_name

    @property
    def mutations(self) -> frozenset[str]:
        return self.route.mutations


_ROUTES: weakref.WeakKeyDictionary[Engine, dict[str, SubscriptionRoute]] = weakref.WeakKeyDictionary()
_DOCUMENTS: weakref.WeakKeyDictionary[Engine, OrderedDict[str, tuple[DocumentNode, bool] | str]] = (
    weakref.WeakKeyDictionary()
)
_DOCUMENT_CACHE_SIZE = 1024


def _build_routes(schema: SchemaDef) -> dict[str, SubscriptionRoute]:
    routes: dict[str, SubscriptionRoute] = {}
    for model in schema.models:
        ops = model.operations
        if ops is None:
            continue
        for names, mutation in (
            (ops.on_create, ops.create),
            (ops.on_update, ops.update),
            (ops.on_delete, ops.delete),
        ):
            for name in names:
                listened = frozenset({mutation}) if mutation else frozenset()
                routes[name] = SubscriptionRoute(name, listened, model=model)
    for op in schema.operations:
        if op.kind is OperationKind.SUBSCRIPTION:
            routes[op.name] = SubscriptionRoute(op.name, frozenset(op.subscribe_to), operation=op)
    return routes


def subscription_routes(engine: Engine) -> dict[str, SubscriptionRoute]:
    """Root field name → route, computed once per engine."""
    routes = _ROUTES.get(engine)
    if routes is None:
        routes = _build_routes(engine.schema)
        _ROUTES[engine] = routes
    return routes


def _validation(message: str) -> ValidationError:
    return ValidationError(message)


def _first_error(errors: list[GraphQLError]) -> RequestError:
    return ValidationError("; ".join(e.message for e in errors[:3]))


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) != 1:
            raise _validation("Must provide operation name if query contains multiple operations.")
        return operations[0]
    for op in operations:
        if op.name is not None and op.name.value == operation_name:
            return op
    raise _validation(f"Unknown operation named '{operation_name}'.")


def prepare_subscription(
    engine: Engine,
    query: str,
    variables: Mapping[str, Any] | None,
    identity: Identity,
    operation_name: str | None = None,
) -> PreparedSubscription:
    """Validate and authorize a subscription request; raises :class:`RequestError`."""
    checked = _checked_document(engine, query)
    if isinstance(checked, str):
        raise ValidationError(checked)
    document, pure = checked
    operation = _operation(document, operation_name)
    if operation.operation is not OperationType.SUBSCRIPTION:
        raise _validation(
            f"The realtime endpoint only serves subscriptions, not a {operation.operation.value}."
        )
    root_type = engine.graphql_schema.subscription_type
    if root_type is None:
        raise _validation("This API has no subscriptions.")
    fields = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if len(fields) != 1 or len(operation.selection_set.selections) != 1:
        raise _validation("A subscription must select exactly one top-level field.")
    node = fields[0]
    field_name = node.name.value
    route = subscription_routes(engine).get(field_name)
    field_def = root_type.fields.get(field_name)
    if route is None or field_def is None:
        raise _validation(f"Subscription field '{field_name}' is not served.")

    coerced = get_variable_values(
        engine.graphql_schema, operation.variable_definitions or (), dict(variables or {})
    )
    if isinstance(coerced, list):
        raise _first_error(coerced)
    try:
        args = get_argument_values(field_def, node, coerced)
    except GraphQLError as error:
        raise _first_error([error]) from None

    access = _authorize(engine, identity, route, args)
    decision = _Decision(_policy_token(engine), True, access)
    predicate = _predicate(route, args)
    render_key = None
    policy = getattr(engine, "policy", None)
    if (
        pure
        and isinstance(policy, SchemaPolicy)
        and route.model is not None
        and policy.model(route.model.name).protected_fields
    ):
        pure = False  # what is visible depends on the subscriber
    if identity.denied_fields:
        pure = False  # a Lambda authorizer's deniedFields: this subscriber sees less than others
    if pure:
        render_key = (query, json.dumps(variables or {}, sort_keys=True, default=str), operation_name)
    return PreparedSubscription(
        engine=engine,
        document=document,
        operation_name=operation_name,
        variables=dict(variables or {}),
        identity=identity,
        route=route,
        predicate=predicate,
        arguments=args,
        render_key=render_key,
        decision=decision,
    )


def _checked_document(engine: Engine, query: str) -> tuple[DocumentNode, bool] | str:
    """``(document, pure)`` for a valid document, else the error message; cached per engine and query."""
    cache = _DOCUMENTS.get(engine)
    if cache is None:
        cache = _DOCUMENTS[engine] = OrderedDict()
    cached = cache.get(query)
    if cached is not None:
        cache.move_to_end(query)
        return cached
    result: tuple[DocumentNode, bool] | str
    try:
        document = parse(query)
    except GraphQLError as error:
        result = _first_error([error]).message
    else:
        errors = validate(engine.graphql_schema, document)
        if errors:
            result = _first_error(errors).message
        else:
            result = (document, not _selects_resolved_fields(engine, document))
    cache[query] = result
    if len(cache) > _DOCUMENT_CACHE_SIZE:
        cache.popitem(last=False)
    return result


def _selects_resolved_fields(engine: Engine, document: DocumentNode) -> bool:
    """Whether any selected field has a resolver (relations: their result depends on the caller)."""
    type_info = TypeInfo(engine.graphql_schema)
    found = False

    class Finder(Visitor):
        def enter_field(self, *_args: Any) -> None:
            nonlocal found
            field_def = type_info.get_field_def()
            if (
                field_def is not None
                and field_def.resolve is not None
                and field_def is not TypeNameMetaFieldDef
            ):
                found = True

    visit(document, TypeInfoVisitor(type_info, Finder()))
    return found


def _authorize(
    engine: Engine, identity: Identity, route: SubscriptionRoute, arguments: Mapping[str, Any]
) -> Predicate | None:
    """Check the right to listen; the per-record filter it implies (``None``: every record).

    When the engine carries a :class:`~ampbase.auth.policy.SchemaPolicy` (``engine.policy``),
    model subscriptions use its ``subscription_filter`` (owner and dynamic-group rules become a
    filter on each event; owner arguments are checked against the caller); otherwise the
    engine's static :class:`~ampbase.engine.authorization.Authorizer` decides.
    """
    policy = getattr(engine, "policy", None)
    if route.model is not None:
        if isinstance(policy, SchemaPolicy):
            owner_args = {k: v for k, v in arguments.items() if k != "filter"}
            return policy.model(route.model.name).subscription_filter(identity, route.field_name, owner_args)
        engine.authorizer.check_model(identity, route.model, "listen", route.field_name, "Subscription")
    elif route.operation is not None:
        if isinstance(policy, SchemaPolicy):
            policy.check_operation(identity, route.operation)
        else:
            engine.authorizer.check_operation(identity, route.operation)
    return None


def _predicate(route: SubscriptionRoute, args: Mapping[str, Any]) -> Predicate | None:
    parts: list[Predicate | None] = []
    for name, value in args.items():
        if value is None:
            continue
        if name == "filter":
            parts.append(filter_to_predicate(value))
        elif route.model is None:
            # AppSync: a custom subscription's argument filters on the result field of that name.
            # (A model subscription's other arguments are owner arguments: authorization's business.)
            parts.append(Compare(name, "eq", value))
    return combine(*parts)


def _policy_token(engine: Engine) -> tuple[object, object]:
    """What a listen decision depends on besides the subscriber: the engine's policy objects."""
    return (getattr(engine, "policy", None), getattr(engine, "authorizer", None))


def _same(a: tuple[object, object], b: tuple[object, object]) -> bool:
    return a[0] is b[0] and a[1] is b[1]


def _decision(sub: PreparedSubscription) -> _Decision:
    """The subscriber's listen decision under the engine's current policy (decided again on change)."""
    token = _policy_token(sub.engine)
    decision = sub.decision
    if decision is not None and _same(decision.policy, token):
        return decision
    try:
        fresh = _Decision(token, True, _authorize(sub.engine, sub.identity, sub.route, sub.arguments))
    except UnauthorizedError:
        fresh = _Decision(token, False, None)
    if decision is None:
        object.__setattr__(sub, "decision", fresh)
        return fresh
    decision.policy, decision.allowed, decision.access = fresh.policy, fresh.allowed, fresh.access
    return decision


def policy_token(engine: Engine) -> tuple[object, object]:
    """The policy objects listen decisions are taken under (compare by identity)."""
    return _policy_token(engine)


def _allowed_for(sub: PreparedSubscription, record: Mapping[str, Any]) -> bool:
    """The subscriber's right to this record: its access filter (owner/group rules) on every event."""
    decision = _decision(sub)
    if not decision.allowed:
        return False
    return decision.access is None or evaluate(decision.access, dict(record))


def event_matches(sub: PreparedSubscription, mutation: str, record: Any) -> bool:
    """Whether the event reaches this subscriber (mutation, read rights, filter)."""
    if mutation not in sub.route.mutations:
        return False
    if not isinstance(record, Mapping):
        record = {}
    if not _allowed_for(sub, record):
        return False
    return sub.predicate is None or evaluate(sub.predicate, dict(record))


async def render_event(sub: PreparedSubscription, mutation: str, record: Any) -> dict[str, Any] | None:
    """The ``data`` payload for this subscriber, or ``None`` when the event is not for it."""
    if not event_matches(sub, mutation, record):
        return None
    return await render_record(sub, record)


def _model_policy(sub: PreparedSubscription) -> ModelPolicy | None:
    policy = getattr(sub.engine, "policy", None)
    if isinstance(policy, SchemaPolicy) and sub.route.model is not None:
        return policy.model(sub.route.model.name)
    return None


def _visible(sub: PreparedSubscription, record: Any) -> Any:
    """The record as this subscriber may see it: owner values projected, protected fields nulled."""
    model_policy = _model_policy(sub)
    if model_policy is None or not isinstance(record, Mapping):
        return record
    visible = model_policy.project(record)
    for name in model_policy.denied_fields(sub.identity, record):
        visible[name] = None
    return visible


async def render_record(sub: PreparedSubscription, record: Any) -> dict[str, Any] | None:
    """Execute the subscription's selection set against ``record`` (already matched).

    ``None`` when nothing is left to send (the root field resolved to ``null``
    without errors, which the client would drop anyway).
    """
    engine = sub.engine
    request_id = engine.new_request_id()
    record = _visible(sub, record)
    result = execute(
        engine.graphql_schema,
        sub.document,
        root_value={sub.route.field_name: record},
        context_value=RequestContext(sub.identity, request_id),
        variable_values=sub.variables,
        operation_name=sub.operation_name,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    body = response_body(result, request_id, debug=engine.debug)
    data = body.get("data")
    if not body.get("errors") and (not data or all(v is None for v in data.values())):
        return None
    return body
