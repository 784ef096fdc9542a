from __future__ import annotations

from typing import Any

import pytest

from ampbase import a
from ampbase.errors import SchemaDefinitionError
from ampbase.schema.ir import (
    AuthAllow,
    AuthProvider,
    AuthRule,
    FieldDef,
    HandlerDef,
    OperationKind,
    TypeKind,
    TypeRef,
)
from tests.schema.dsl.helpers import assert_located, lineno


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {"content": event["arguments"]["content"]}


def _ops(**operations: Any) -> dict[str, Any]:
    schema = a.schema(
        {
            "Todo": a.model({"content": a.string()}).authorization(lambda allow: allow.public_api_key()),
            "Echo": a.custom_type({"content": a.string()}),
            **operations,
        }
    )
    return {op.name: op for op in schema.operations}


def test_a_function_handler_is_named_fn_operation_and_keeps_the_callable() -> None:
    ops = _ops(
        echo=a.query()
        .arguments({"content": a.string().required()})
        .returns(a.ref("Echo"))
        .authorization(lambda allow: [allow.public_api_key()])
        .handler(a.handler.function(echo))
    )
    op = ops["echo"]
    assert op.kind is OperationKind.QUERY
    assert op.returns == TypeRef("Echo", TypeKind.CUSTOM)
    assert op.arguments == (FieldDef("content", TypeRef("String", TypeKind.SCALAR, required=True)),)
    assert op.auth_rules == (AuthRule(AuthAllow.PUBLIC, AuthProvider.API_KEY),)
    assert op.handlers == (HandlerDef("function", function_name="FnEcho"),)
    assert op.handlers[0].callable is echo


def test_a_function_given_by_name_keeps_that_name() -> None:
    ops = _ops(ping=a.query().returns(a.string()).handler(a.handler.function("ping-fn")))
    assert ops["ping"].handlers == (HandlerDef("function", function_name="ping-fn"),)
    assert ops["ping"].handlers[0].callable is None


def test_a_pipeline_of_functions_numbers_the_later_ones() -> None:
    ops = _ops(
        likePost=a.mutation()
        .returns(a.ref("Todo"))
        .handler([a.handler.function(echo), a.handler.function(echo)])
    )
    assert [h.function_name for h in ops["likePost"].handlers] == ["FnLikePost", "FnLikePost2"]


def test_a_custom_js_handler_is_kept_as_kind_custom() -> None:
    ops = _ops(
        likePost=a.mutation().returns(a.ref("Todo")),
        onLike=a.subscription().for_(a.ref("likePost")).handler(a.handler.custom(entry="./onLike.js")),
    )
    assert ops["onLike"].handlers == (HandlerDef("custom"),)


def test_a_subscription_returns_what_its_mutations_return() -> None:
    ops = _ops(
        likePost=a.mutation().returns(a.ref("Todo").required()),
        unlikePost=a.mutation().returns(a.ref("Todo").required()),
        onLike=a.subscription().for_([a.ref("likePost"), a.ref("unlikePost")]),
    )
    assert ops["onLike"].subscribe_to == ("likePost", "unlikePost")
    assert ops["onLike"].returns == TypeRef("Todo", TypeKind.MODEL, required=True)


def test_subscriptions_can_only_listen_to_custom_mutations() -> None:
    line = lineno(1)
    ref = a.ref("echo")
    with pytest.raises(SchemaDefinitionError) as info:
        _ops(echo=a.query().returns(a.string()), onEcho=a.subscription().for_(ref))
    assert_located(info.value, line, hint="declare it with a.mutation()")


def test_a_subscription_needs_for() -> None:
    line = lineno(1)
    sub = a.subscription().returns(a.string())
    with pytest.raises(SchemaDefinitionError) as info:
        _ops(onX=sub)
    assert_located(info.value, line, hint=".for_(")


def test_for_is_only_on_subscriptions() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.query().for_(a.ref("x"))
    assert_located(info.value, line)


def test_operations_are_ordered_query_mutation_subscription() -> None:
    ops = _ops(
        onLike=a.subscription().for_(a.ref("likePost")),
        likePost=a.mutation().returns(a.ref("Todo")),
        echo=a.query().returns(a.string()),
        ping=a.query().returns(a.string()),
    )
    assert list(ops) == ["echo", "ping", "likePost", "onLike"]


def test_query_without_return_type_is_rejected() -> None:
    line = lineno(1)
    op = a.query().handler(a.handler.function(echo))
    with pytest.raises(SchemaDefinitionError) as info:
        _ops(echo=op)
    assert_located(info.value, line, hint=".returns(")


def test_inline_return_type_is_named_after_the_operation() -> None:
    schema = a.schema({"echo": a.query().returns(a.custom_type({"content": a.string()}))})
    assert schema.operations[0].returns == TypeRef("EchoReturnType", TypeKind.CUSTOM)
    assert [t.name for t in schema.custom_types] == ["EchoReturnType"]


def test_owner_rules_cannot_protect_custom_operations() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        _ops(echo=a.query().returns(a.string()).authorization(lambda allow: [allow.owner()]))
    assert_located(info.value, line, hint="public_api_key")


def test_custom_operation_rules_cannot_use_to() -> None:
    with pytest.raises(SchemaDefinitionError, match=r"cannot use \.to\(\)"):
        _ops(echo=a.query().returns(a.string()).authorization(lambda allow: [allow.guest().to(["read"])]))


def test_arguments_cannot_be_models() -> None:
    line = lineno(1)
    arg = a.ref("Todo")
    with pytest.raises(SchemaDefinitionError) as info:
        _ops(echo=a.query().arguments({"todo": arg}).returns(a.string()))
    assert_located(info.value, line)
    assert "Argument 'todo' of Query.echo" in info.value.message


def test_handler_needs_a_handler_builder() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.query().handler(echo)  # type: ignore[arg-type]
    assert_located(info.value, line, hint="a.handler.function(my_function)")


def test_handler_function_needs_a_callable_or_name() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        a.handler.function(42)
    assert_located(info.value, line)


def _custom_op_rules(callback: Any) -> tuple[AuthRule, ...]:
    ops = _ops(
        echo=a.query()
        .returns(a.string())
        .handler(a.handler.custom(entry="./echo.js"))
        .authorization(callback)
    )
    return tuple(ops["echo"].auth_rules)


def test_js_resolver_operations_get_the_appsync_directive_rules() -> None:
    assert _custom_op_rules(
        lambda allow: [allow.public_api_key(), allow.authenticated("oidc"), allow.custom(), allow.group("A")]
    ) == (
        AuthRule(AuthAllow.PUBLIC, AuthProvider.API_KEY),
        AuthRule(AuthAllow.PRIVATE, AuthProvider.OIDC),
        AuthRule(AuthAllow.CUSTOM, AuthProvider.FUNCTION),
        AuthRule(AuthAllow.GROUPS, AuthProvider.USER_POOLS, groups=("A",)),
    )


def test_js_resolver_group_rules_merge_and_vanish_next_to_a_signed_in_rule() -> None:
    assert _custom_op_rules(lambda allow: [allow.group("A"), allow.groups(["B", "A"])]) == (
        AuthRule(AuthAllow.GROUPS, AuthProvider.USER_POOLS, groups=("A", "B")),
    )
    assert _custom_op_rules(lambda allow: [allow.group("A"), allow.authenticated()]) == (
        AuthRule(AuthAllow.PRIVATE, AuthProvider.USER_POOLS),
    )


def test_js_resolver_operations_reject_guest_access() -> None:
    line = lineno(2)
    with pytest.raises(SchemaDefinitionError) as info:
        _custom_op_rules(lambda allow: [allow.guest()])
    assert_located(info.value, line, hint="JS resolvers support")


def test_function_operations_keep_the_rules_as_declared() -> None:
    ops = _ops(
        echo=a.query()
        .returns(a.string())
        .handler(a.handler.function(echo))
        .authorization(lambda allow: [allow.group("A"), allow.authenticated()])
    )
    assert ops["echo"].auth_rules == (
        AuthRule(AuthAllow.GROUPS, groups=("A",)),
        AuthRule(AuthAllow.PRIVATE),
    )
