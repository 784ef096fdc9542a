"""The engine: executes GraphQL requests of the generated AppSync API against storage.

``Engine(schema, storage, pubsub, secret=...)`` compiles the resolved schema
to a graphql-core schema once, installs the AWS scalars and binds a resolver
to every generated operation, relationship field and custom operation.
:meth:`Engine.execute` runs one request and returns the response body; it
never raises for request problems. Parsed and validated documents are cached
by query text.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import CoroutineType
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from ampbase.aio import within
from ampbase.auth.policy import (
    MUTATION_MARK,
    ModelPolicy,
    PolicySettings,
    SchemaPolicy,
    denied_field_pairs,
    not_authorized,
    project_owner_value,
)
from ampbase.compiler.graphql_schema import build_graphql_schema
from ampbase.engine.authorization import Authorizer
from ampbase.engine.compiled import CompiledQuery, compile_query
from ampbase.engine.custom import call_handlers
from ampbase.engine.execution import context_class
from ampbase.engine.identity import Identity
from ampbase.engine.keys import KeySpec
from ampbase.engine.limits import (
    TIMEOUT_ERROR_TYPE,
    ExecutionLimits,
    LimitExceededError,
    ResolverBudget,
    document_depth,
)
from ampbase.engine.operations import DataOperations, ListRequest
from ampbase.engine.pagination import TokenCodec
from ampbase.engine.relations import RelationField, empty_connection
from ampbase.engine.resources import layered
from ampbase.engine.results import error_body, response_body
from ampbase.engine.scalars import install_scalars
from ampbase.engine.tracing import RequestTracer, load_tracer, trace_resolvers
from ampbase.errors import RequestError
from ampbase.pubsub.base import PubSub
from ampbase.schema.ir import CustomOperationDef, IndexDef, ModelDef, OperationKind, SchemaDef
from ampbase.storage.base import StorageAdapter
from ampbase.storage.predicate import evaluate

__all__ = ["DOCUMENT_CACHE_SIZE", "Engine", "RequestContext"]

logger = logging.getLogger("ampbase.engine")

DOCUMENT_CACHE_SIZE = 4096
_LIST_ARGS = frozenset({"filter", "limit", "nextToken", "sortDirection"})
_SUBSCRIPTION_MESSAGE = (
    "Subscriptions are served by the realtime endpoint: open a WebSocket to the API's realtime URL "
    "(graphql-ws protocol, as the Amplify client does); the HTTP endpoint runs queries and mutations only."
)


@dataclass(slots=True)
class RequestContext:
    """Per-request state handed to resolvers as ``info.context``."""

    identity: Identity
    request_id: str
    loaders: dict[Any, Any] = field(default_factory=dict)
    budget: ResolverBudget | None = None

    def charge(self) -> None:
        """Count one resolver execution against the request's limit."""
        if self.budget is not None:
            self.budget.charge()


Resolver = Callable[..., Any]


class Engine:
    """Executes GraphQL requests for one resolved schema."""

    def __init__(
        self,
        schema: SchemaDef,
        storage: StorageAdapter,
        pubsub: PubSub,
        *,
        secret: bytes,
        clock: Callable[[], datetime] | None = None,
        max_limit: int = 1000,
        debug: bool = False,
        limits: ExecutionLimits | None = None,
        policy_settings: PolicySettings | None = None,
    ) -> None:
        if max_limit < 1:
            raise ValueError("max_limit must be at least 1")
        self.schema = schema
        tracer = load_tracer() if schema.resources.tracing else None
        if schema.resources.tables or tracer is not None:  # backend.py: TTL, throughput, tracing
            storage = layered(storage, schema, _epoch_clock(clock), tracer)
        self.storage = storage
        self.pubsub = pubsub
        self.debug = debug
        self.limits = limits if limits is not None else ExecutionLimits()
        # Amplify's authorization rules (ampbase.auth.policy); ``authorizer`` is the coarse facade.
        self.policy = SchemaPolicy(schema, policy_settings)
        self.authorizer = Authorizer(schema, self.policy)
        self.operations = DataOperations(
            storage, pubsub, TokenCodec(secret), clock=clock, max_limit=max_limit
        )
        self.graphql_schema: GraphQLSchema = build_graphql_schema(schema)
        install_scalars(self.graphql_schema)
        self._documents: OrderedDict[str, DocumentNode | list[GraphQLError]] = OrderedDict()
        self._execution_context = context_class()
        # generated reads whose resolvers need only info.context: compiled when a document allows
        self._direct: dict[str, Resolver] = {}
        self._compiled: dict[str, CompiledQuery] = {}
        self._request_ids = itertools.count(1)
        self._request_prefix = os.urandom(4).hex()
        _Binder(self).bind()
        self.tracing: RequestTracer | None = None
        if tracer is not None:
            trace_resolvers(self.graphql_schema, tracer)
            self.tracing = RequestTracer(tracer)

    # ------------------------------------------------------------------ execution

    def _document(self, query: str) -> DocumentNode | list[GraphQLError]:
        cached = self._documents.get(query)
        if cached is not None:
            self._documents.move_to_end(query)
            return cached
        limits = self.limits
        try:
            document = parse(query, max_tokens=limits.max_tokens or None)
        except GraphQLError as error:
            result: DocumentNode | list[GraphQLError] = [error]
        except RecursionError:
            result = [GraphQLError("Syntax Error: the document is nested too deeply.")]
        else:
            errors = validate(self.graphql_schema, document)
            result = errors if errors else document
            if not errors and limits.max_depth:
                depth = document_depth(document)
                if depth > limits.max_depth:
                    message = f"The query has depth {depth}, over the limit of {limits.max_depth}."
                    result = [GraphQLError(message)]
        self._documents[query] = result
        if not isinstance(result, list):
            compiled = compile_query(self.graphql_schema, result, self._direct)
            if compiled is not None:
                self._compiled[query] = compiled
        if len(self._documents) > DOCUMENT_CACHE_SIZE:
            evicted, _ = self._documents.popitem(last=False)
            self._compiled.pop(evicted, None)
        return result

    def new_request_id(self) -> str:
        return f"{self._request_prefix}-{next(self._request_ids)}"

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        identity: Identity,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        """Run one request; the response body (``data`` plus ``errors`` when any)."""
        if self.tracing is not None:
            return await self.tracing.request(self._execute, query, variables, identity, operation_name)
        return await self._execute(query, variables, identity, operation_name)

    async def _execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        identity: Identity,
        operation_name: str | None = None,
    ) -> dict[str, Any]:
        request_id = self.new_request_id()
        try:
            if not query or query.isspace():
                return error_body([GraphQLError("The request has no GraphQL query.")], request_id)
            raw_variables: object = variables
            if raw_variables is not None and not isinstance(raw_variables, Mapping):
                return error_body([GraphQLError("'variables' must be a JSON object.")], request_id)
            document = self._document(query)
            if isinstance(document, list):
                return error_body(document, request_id)
            compiled = self._compiled.get(query)  # never a subscription
            if (
                compiled is not None
                and self.tracing is None
                and not identity.denied_fields
                and (operation_name is None or operation_name == compiled.operation_name)
            ):
                answer = await self._run_compiled(compiled, document, variables or {}, identity, request_id)
                if answer is not None:
                    return answer
            operation = get_operation_ast(document, operation_name)
            if operation is not None and operation.operation is OperationType.SUBSCRIPTION:
                refusal = RequestError(_SUBSCRIPTION_MESSAGE, error_type="UnsupportedOperation")
                error = GraphQLError(_SUBSCRIPTION_MESSAGE, operation, original_error=refusal)
                return error_body([error], request_id)
            limits = self.limits
            budget = ResolverBudget(limits.max_resolvers, limits.resolver_limit_message())
            context = RequestContext(identity, request_id, budget=budget)
            result = execute(
                self.graphql_schema,
                document,
                context_value=context,
                variable_values=dict(variables or {}),
                operation_name=operation_name,
                middleware=_denied_fields_middleware(identity),
                is_awaitable=_is_awaitable,
                execution_context_class=self._execution_context,
            )
            if not isinstance(result, ExecutionResult):
                try:
                    async with asyncio.timeout(limits.timeout or None):
                        result = await result
                except TimeoutError:
                    return self._timeout_body(request_id)
            if budget.exceeded:
                exceeded = LimitExceededError(budget.message)
                return error_body([GraphQLError(exceeded.message, original_error=exceeded)], request_id)
            return response_body(result, request_id, debug=self.debug)
        except Exception as exc:  # noqa: BLE001 - reported as "Internal server error", logged with the id
            error = GraphQLError("Internal server error", original_error=exc)
            return error_body([error], request_id, debug=self.debug)

    def _timeout_body(self, request_id: str) -> dict[str, Any]:
        limits = self.limits
        logger.warning("request %s: cancelled after %gs", request_id, limits.timeout)
        timeout = LimitExceededError(limits.timeout_message(), error_type=TIMEOUT_ERROR_TYPE)
        return error_body([GraphQLError(timeout.message, original_error=timeout)], request_id)

    async def _run_compiled(
        self,
        compiled: CompiledQuery,
        document: DocumentNode,
        variables: Mapping[str, Any],
        identity: Identity,
        request_id: str,
    ) -> dict[str, Any] | None:
        """The response of a compiled document, or None: then graphql-core runs the request.

        A query steps aside whenever in doubt (running its resolver again is harmless); a
        mutation, once its resolver ran, never does: graphql-core then completes the outcome.
        """
        args = compiled.arguments_for(variables)
        if args is None:
            return None
        limits = self.limits
        budget = ResolverBudget(limits.max_resolvers, limits.resolver_limit_message())
        info: Any = _ContextOnly(RequestContext(identity, request_id, budget=budget))
        outcome: Any
        try:
            outcome = await within(self._direct[compiled.field_name](None, info, **args), limits.timeout)
        except TimeoutError:
            return self._timeout_body(request_id)
        except Exception as exc:  # noqa: BLE001 - reported by graphql-core, below or on the stock path
            if not compiled.mutation:
                return None
            outcome = exc
        else:
            if budget.exceeded:
                if not compiled.mutation:
                    return None
                exceeded = LimitExceededError(budget.message)
                return error_body([GraphQLError(exceeded.message, original_error=exceeded)], request_id)
            data = compiled.complete(outcome)
            if data is not None:
                return {"data": data}
            if not compiled.mutation:
                return None
        return await self._complete_with_graphql_core(
            document, compiled, variables, identity, request_id, outcome
        )

    async def _complete_with_graphql_core(
        self,
        document: DocumentNode,
        compiled: CompiledQuery,
        variables: Mapping[str, Any],
        identity: Identity,
        request_id: str,
        outcome: Any,
    ) -> dict[str, Any]:
        """graphql-core's response for a root resolver that already ran and gave ``outcome``."""

        def replay(next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            if info.path.prev is None:  # the root field: its resolver must not run again
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
            return next_(root, info, **args)

        limits = self.limits
        budget = ResolverBudget(limits.max_resolvers, limits.resolver_limit_message())
        result = execute(
            self.graphql_schema,
            document,
            context_value=RequestContext(identity, request_id, budget=budget),
            variable_values=dict(variables),
            operation_name=compiled.operation_name,
            middleware=[replay],
            is_awaitable=_is_awaitable,
            execution_context_class=self._execution_context,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        return response_body(result, request_id, debug=self.debug)


@dataclass(slots=True)
class _ContextOnly:
    """What the direct resolvers read of ``GraphQLResolveInfo``: the request context."""

    context: RequestContext


def _epoch_clock(clock: Callable[[], datetime] | None) -> Callable[[], int]:
    if clock is None:
        return lambda: int(time.time())
    return lambda: int(clock().timestamp())


def _denied_fields_middleware(identity: Identity) -> list[Callable[..., Any]] | None:
    """A Lambda authorizer's ``deniedFields`` resolve to null (AppSync layer, before the rules)."""
    if not identity.denied_fields:
        return None
    denied = denied_field_pairs(identity.denied_fields)

    def deny(next_: Callable[..., Any], root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        if (info.parent_type.name, info.field_name) in denied:
            return None
        return next_(root, info, **args)

    return [deny]


def _mutation_result(record: Mapping[str, Any]) -> dict[str, Any]:
    """A mutation's result: protected fields and redacted relations resolve to null on it."""
    return {**record, MUTATION_MARK: "Mutation"}


def _is_mutation_result(source: Any) -> bool:
    return isinstance(source, Mapping) and source.get(MUTATION_MARK) == "Mutation"


_AWAITABLE_TYPES: tuple[type, ...] = (CoroutineType, asyncio.Future)


def _is_awaitable(value: Any) -> bool:
    """Faster than graphql-core's generic check: our resolvers return coroutines or futures only."""
    return isinstance(value, _AWAITABLE_TYPES)


class _Binder:
    """Attaches resolvers to the fields of the compiled schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.schema = engine.schema
        self.gql = engine.graphql_schema

    def _field(self, type_name: str, field_name: str) -> GraphQLField | None:
        gtype = self.gql.type_map.get(type_name)
        if not isinstance(gtype, GraphQLObjectType):
            return None
        gfield: GraphQLField | None = gtype.fields.get(field_name)
        return gfield

    def _bind(self, type_name: str, field_name: str | None, resolver: Resolver) -> GraphQLField | None:
        if not field_name:
            return None
        gfield = self._field(type_name, field_name)
        if gfield is not None:
            gfield.resolve = resolver
        return gfield

    def bind(self) -> None:
        for model in self.schema.models:
            self._bind_model(model)
        for op in self.schema.operations:
            if op.kind is not OperationKind.SUBSCRIPTION:
                self._bind(op.kind.value, op.name, self._custom(op))

    def _direct_query(self, field_name: str, resolver: Resolver) -> None:
        self._direct_field("Query", field_name, resolver)

    def _direct_field(self, type_name: str, field_name: str, resolver: Resolver) -> None:
        """Bind a generated operation whose resolver uses only ``info.context`` (compiled documents)."""
        if self._bind(type_name, field_name, resolver) is not None:
            self.engine._direct[field_name] = resolver

    @staticmethod
    def _sort_argument(gfield: GraphQLField | None, taken: set[str]) -> str | None:
        if gfield is None:
            return None
        rest = [name for name in gfield.args if name not in _LIST_ARGS and name not in taken]
        return rest[0] if len(rest) == 1 else None

    def _bind_model(self, model: ModelDef) -> None:
        ops = model.operations
        if ops is not None:
            if ops.get:
                self._direct_query(ops.get, self._get(model, ops.get))
            if ops.list:
                gfield = self._field("Query", ops.list)
                spec = None
                if model.custom_primary_key:
                    spec = KeySpec(
                        model.partition_key,
                        model.sort_keys,
                        self._sort_argument(gfield, {model.partition_key}) if model.sort_keys else None,
                    )
                self._direct_query(ops.list, self._list(ListRequest(ops.list, model, None, spec)))
            for kind, name in (("create", ops.create), ("update", ops.update), ("delete", ops.delete)):
                if name:
                    self._direct_field("Mutation", name, self._write(model, kind, name))
        for index in model.indexes:
            if index.query_field:
                self._bind_index(model, index)
        policy = self.engine.policy.model(model.name)
        for f in model.fields:
            if f.relation is None and (
                f.name in policy.owner_projection or f.name in policy.protected_fields
            ):
                self._bind(model.name, f.name, self._guarded_field(policy, f.name))
        for f in model.fields:
            rel = f.relation
            if rel is None:
                continue
            related = self.schema.get_model(rel.related_model)
            if related is None or not rel.remote_fields:
                continue
            sort_spec = None
            gfield = self._field(model.name, f.name)
            if rel.remote_index is not None:
                rindex = next((i for i in related.indexes if i.name == rel.remote_index), None)
                if rindex is not None:
                    rest = rindex.key_fields[len(rel.remote_fields) :]
                    if rest:
                        sort_spec = KeySpec(
                            rindex.partition_key, tuple(rest), self._sort_argument(gfield, set())
                        )
            relation = RelationField(model, f, rel, related, sort_spec)
            self._bind(model.name, f.name, self._relation(relation))

    def _bind_index(self, model: ModelDef, index: IndexDef) -> None:
        assert index.query_field is not None
        gfield = self._field("Query", index.query_field)
        spec = KeySpec(
            index.partition_key,
            index.sort_keys,
            self._sort_argument(gfield, {index.partition_key}) if index.sort_keys else None,
        )
        self._direct_query(index.query_field, self._list(ListRequest(index.query_field, model, index, spec)))

    # ------------------------------------------------------------------ resolvers

    @staticmethod
    def _guarded_field(policy: ModelPolicy, name: str) -> Resolver:
        """Owner fields read as ``username``; protected fields are checked per record."""
        project = name in policy.owner_projection
        protected = name in policy.protected_fields
        type_name = policy.model.name

        def resolve_field(source: Any, info: GraphQLResolveInfo, **_args: Any) -> Any:
            if not isinstance(source, Mapping):
                return None
            value = source.get(name)
            if protected:
                if value is None or _is_mutation_result(source):
                    return None
                if not policy.field_readable(info.context.identity, source, name):
                    raise not_authorized(name, type_name)
            return project_owner_value(value) if project else value

        return resolve_field

    def _get(self, model: ModelDef, field_name: str) -> Resolver:
        engine = self.engine
        policy = engine.policy.model(model.name)

        async def resolve_get(_source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            ctx: RequestContext = info.context
            ctx.charge()
            auth = policy.read_filter(ctx.identity, "get", field_name, "Query")
            record = await engine.operations.get(model, args)
            if record is not None and auth is not None and not evaluate(auth, dict(record)):
                raise not_authorized(field_name, "Query")
            return record

        return resolve_get

    def _list(self, request: ListRequest) -> Resolver:
        engine = self.engine
        policy = engine.policy.model(request.model.name)

        async def resolve_list(_source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            ctx: RequestContext = info.context
            ctx.charge()
            auth = policy.read_filter(ctx.identity, "list", request.field, "Query")
            return await engine.operations.list(request, args, auth=auth)

        return resolve_list

    def _write(self, model: ModelDef, kind: str, field_name: str) -> Resolver:
        engine = self.engine
        policy = engine.policy.model(model.name)
        ops = engine.operations

        async def resolve_write(_source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            ctx: RequestContext = info.context
            ctx.charge()
            identity = ctx.identity
            values: Mapping[str, Any] = args.get("input") or {}
            if kind == "create":
                args = {**args, "input": policy.authorize_create(identity, values, field_name)}
                return _mutation_result(await ops.create(field_name, model, args))
            guard = None
            if not policy.bypass(identity):
                key = {k: values.get(k) for k in model.primary_key}
                stored = None
                if all(v is not None for v in key.values()):
                    stored = await engine.storage.get(model.name, key)
                if kind == "update":
                    guard = policy.authorize_update(identity, stored, values, field_name)
                else:
                    guard = policy.authorize_delete(identity, stored, field_name)
            run = ops.update if kind == "update" else ops.delete
            return _mutation_result(await run(field_name, model, args, guard=guard))

        return resolve_write

    def _relation(self, relation: RelationField) -> Resolver:
        engine = self.engine
        related = engine.policy.model(relation.related.name)
        type_name = relation.parent.name
        field_name = relation.field.name
        redacted = field_name in engine.policy.redacted_relations(type_name)

        if relation.is_connection:

            async def resolve_connection(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
                ctx: RequestContext = info.context
                ctx.charge()
                auth = related.read_filter(ctx.identity, "list", field_name, type_name)
                if redacted and _is_mutation_result(source):
                    return empty_connection()
                if not isinstance(source, Mapping):
                    return None
                return await relation.connection(engine.operations, ctx.loaders, source, args, auth=auth)

            return resolve_connection

        async def resolve_single(source: Any, info: GraphQLResolveInfo, **_args: Any) -> Any:
            ctx: RequestContext = info.context
            ctx.charge()
            auth = related.read_filter(ctx.identity, "get", field_name, type_name)
            if redacted and _is_mutation_result(source):
                return None
            if not isinstance(source, Mapping):
                return None
            record = await relation.single(engine.operations, ctx.loaders, source)
            if record is not None and auth is not None and not evaluate(auth, dict(record)):
                raise not_authorized(field_name, type_name)
            return record

        return resolve_single

    def _custom(self, op: CustomOperationDef) -> Resolver:
        engine = self.engine
        is_mutation = op.kind is OperationKind.MUTATION

        async def resolve_custom(_source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
            ctx: RequestContext = info.context
            ctx.charge()
            engine.policy.check_operation(ctx.identity, op)
            result = await call_handlers(op, args, ctx.identity, engine, ctx.request_id)
            if is_mutation:
                await engine.operations.publish(op.name, None, result)
            return result

        return resolve_custom
