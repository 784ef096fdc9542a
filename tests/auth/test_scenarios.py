"""The 40 conformance scenarios of ``auth-spec.md`` §5 at the policy level, each allowed and denied.

Every scenario has an ``allow`` check (what the caller may do, with the stored / returned values
the spec names) and a ``deny`` check (what the spec refuses, with the exact error text).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ampbase import a
from ampbase.auth.credentials import CredentialVerifiers
from ampbase.auth.issuer import LocalIssuer
from ampbase.auth.lambda_authorizer import LambdaAuthorizer, denied_field_names
from ampbase.auth.policy import ModelPolicy, SchemaPolicy
from ampbase.compiler.graphql_schema import build_graphql_schema
from ampbase.errors import AuthenticationError, UnauthorizedError
from ampbase.storage.predicate import Predicate, evaluate
from tests.auth.fixtures import (
    GUEST,
    IAMUSER,
    KEY,
    LAMBDA,
    idp,
    policy_for,
    schema_for,
    up,
    upid,
)


def denied(message: str) -> Any:
    return pytest.raises(UnauthorizedError, match="^" + re.escape(message) + "$")


def visible(predicate: Predicate | None, record: dict[str, Any]) -> bool:
    return predicate is None or evaluate(predicate, record)


# ---------------------------------------------------------------------------- schemas

TODO_OWNER = {"Todo": a.model({"content": a.string()}).authorization(lambda allow: [allow.owner()])}
NOTE_DECLARED = {
    "Note": a.model({"content": a.string(), "owner": a.string()}).authorization(lambda allow: [allow.owner()])
}
NOTE_PROTECTED = {
    "Note": a.model(
        {
            "content": a.string(),
            "owner": a.string().authorization(lambda allow: [allow.owner().to(["read", "delete"])]),
        }
    ).authorization(lambda allow: [allow.owner()])
}
DOC_OWNERS = {
    "Doc": a.model({"title": a.string(), "owners": a.string().array()}).authorization(
        lambda allow: [allow.owners_defined_in("owners")]
    )
}
POST_TEAM = {
    "Post": a.model({"title": a.string(), "team": a.string()}).authorization(
        lambda allow: [allow.group_defined_in("team")]
    )
}
POST_TEAMS = {
    "Post": a.model({"title": a.string(), "teams": a.string().array()}).authorization(
        lambda allow: [allow.groups_defined_in("teams")]
    )
}
EMPLOYEE = {
    "Employee": a.model(
        {"name": a.string(), "ssn": a.string().authorization(lambda allow: [allow.owner()])}
    ).authorization(lambda allow: [allow.authenticated().to(["read"]), allow.owner()])
}
TODO_SECRET = {
    "Todo": a.model(
        {"content": a.string(), "secret": a.string().authorization(lambda allow: [allow.owner()])}
    ).authorization(lambda allow: [allow.owner(), allow.group("Admin")])
}
BLOG_POST = {
    "Blog": a.model({"name": a.string(), "posts": a.has_many("Post", "blogId")}).authorization(
        lambda allow: [allow.owner()]
    ),
    "Post": a.model(
        {"title": a.string(), "blogId": a.id(), "blog": a.belongs_to("Blog", "blogId")}
    ).authorization(lambda allow: [allow.owner(), allow.authenticated().to(["read"])]),
}


def model(types: dict[str, Any], name: str, **kw: Any) -> ModelPolicy:
    return policy_for(types, **kw).model(name)


ALICE_TODO = {"id": "t1", "content": "a", "owner": "A-SUB::alice"}
BOB_TODO = {"id": "t2", "content": "b", "owner": "B-SUB::bob"}


# ---------------------------------------------------------------------------- scenarios


def s01_allow() -> None:
    todo = model(TODO_OWNER, "Todo")
    created = todo.authorize_create(up("alice"), {"content": "a"}, "createTodo")
    assert created == {"content": "a", "owner": "A-SUB::alice"}
    assert todo.project(created)["owner"] == "alice"


def s01_deny() -> None:
    with denied("Not Authorized to access createTodo on type Mutation"):
        model(TODO_OWNER, "Todo").authorize_create(KEY, {"content": "a"}, "createTodo")


def s02_allow() -> None:
    created = model(TODO_OWNER, "Todo").authorize_create(upid("alice"), {"content": "a"}, "createTodo")
    assert created["owner"] == "A-SUB::alice"


def s02_deny() -> None:
    no_username = upid("alice")
    claims = {k: v for k, v in no_username.claims.items() if k != "cognito:username"}
    from ampbase.engine.identity import Identity

    with denied("Not Authorized to access createTodo on type Mutation"):
        model(TODO_OWNER, "Todo").authorize_create(
            Identity(mode="userPool", claims=claims), {"content": "a"}, "createTodo"
        )


def s03_allow() -> None:
    gql = build_graphql_schema(schema_for(TODO_OWNER))
    create_input = gql.get_type("CreateTodoInput")
    assert create_input is not None and "content" in create_input.fields  # type: ignore[attr-defined]


def s03_deny() -> None:
    gql = build_graphql_schema(schema_for(TODO_OWNER))
    assert "owner" not in gql.get_type("CreateTodoInput").fields  # type: ignore[union-attr]
    assert "owner" not in gql.get_type("UpdateTodoInput").fields  # type: ignore[union-attr]
    # Even if an owner reached the policy, a foreign one is refused.
    with denied("Not Authorized to access createTodo on type Mutation"):
        model(TODO_OWNER, "Todo").authorize_create(
            up("alice"), {"content": "a", "owner": "bob"}, "createTodo"
        )


def s04_allow() -> None:
    note = model(NOTE_DECLARED, "Note")
    assert note.authorize_create(up("alice"), {"owner": "alice"}, "createNote") == {"owner": "alice"}
    assert note.authorize_create(up("alice"), {"owner": "A-SUB"}, "createNote") == {"owner": "A-SUB"}


def s04_deny() -> None:
    note = model(NOTE_DECLARED, "Note")
    with denied("Not Authorized to access createNote on type Mutation"):
        note.authorize_create(up("alice"), {"owner": "bob"}, "createNote")
    with denied("Not Authorized to access createNote on type Mutation"):
        note.authorize_create(up("alice"), {"owner": None}, "createNote")


def s05_allow() -> None:
    predicate = model(TODO_OWNER, "Todo").read_filter(up("alice"), "list", "listTodos", "Query")
    assert visible(predicate, ALICE_TODO)
    assert visible(predicate, {**ALICE_TODO, "owner": "alice"})  # legacy username-only value
    assert visible(predicate, {**ALICE_TODO, "owner": "A-SUB"})


def s05_deny() -> None:
    predicate = model(TODO_OWNER, "Todo").read_filter(up("alice"), "list", "listTodos", "Query")
    assert not visible(predicate, BOB_TODO)
    assert not visible(predicate, {**BOB_TODO, "owner": None})


def s06_allow() -> None:
    model(TODO_OWNER, "Todo").check_get(up("alice"), ALICE_TODO, "getTodo")


def s06_deny() -> None:
    with denied("Not Authorized to access getTodo on type Query"):
        model(TODO_OWNER, "Todo").check_get(up("alice"), BOB_TODO, "getTodo")


def s07_allow() -> None:
    model(TODO_OWNER, "Todo").check_get(up("alice"), None, "getTodo")  # null, no error


def s07_deny() -> None:
    with denied("Not Authorized to access getTodo on type Query"):
        model(TODO_OWNER, "Todo").check_get(KEY, None, "getTodo")  # no role at all


def s08_allow() -> None:
    todo = model(TODO_OWNER, "Todo")
    guard = todo.authorize_update(up("alice"), ALICE_TODO, {"id": "t1", "content": "x"}, "updateTodo")
    assert guard is not None and evaluate(guard, ALICE_TODO) and not evaluate(guard, BOB_TODO)
    assert todo.authorize_delete(up("alice"), ALICE_TODO, "deleteTodo") is not None


def s08_deny() -> None:
    todo = model(TODO_OWNER, "Todo")
    with denied("Not Authorized to access updateTodo on type Mutation"):
        todo.authorize_update(up("alice"), BOB_TODO, {"id": "t2", "content": "x"}, "updateTodo")
    with denied("Not Authorized to access deleteTodo on type Mutation"):
        todo.authorize_delete(up("alice"), BOB_TODO, "deleteTodo")


def s09_allow() -> None:
    # A static role passes the check; the write then fails its existence condition.
    assert model(TODO_OWNER, "Todo").authorize_update(IAMUSER, None, {"id": "nope"}, "updateTodo") is None


def s09_deny() -> None:
    with denied("Not Authorized to access updateTodo on type Mutation"):
        model(TODO_OWNER, "Todo").authorize_update(
            up("alice"), None, {"id": "nope", "content": "x"}, "updateTodo"
        )


def s10_allow() -> None:
    note = model(NOTE_DECLARED, "Note")
    stored = {"id": "n1", "owner": "A-SUB::alice"}
    note.authorize_update(up("alice"), stored, {"id": "n1", "owner": "bob"}, "updateNote")
    note.check_get(up("bob"), {**stored, "owner": "bob"}, "getNote")


def s10_deny() -> None:
    with denied("Not Authorized to access getNote on type Query"):
        model(NOTE_DECLARED, "Note").check_get(up("alice"), {"id": "n1", "owner": "bob"}, "getNote")


def s11_allow() -> None:
    note = model(NOTE_PROTECTED, "Note")
    stored = {"id": "n1", "owner": "A-SUB::alice"}
    note.authorize_update(up("alice"), stored, {"id": "n1", "content": "x"}, "updateNote")


def s11_deny() -> None:
    note = model(NOTE_PROTECTED, "Note")
    stored = {"id": "n1", "owner": "A-SUB::alice"}
    with denied("Unauthorized on [owner]"):
        note.authorize_update(up("alice"), stored, {"id": "n1", "owner": "bob"}, "updateNote")


def s12_allow() -> None:
    model(TODO_OWNER, "Todo").authorize_delete(up("alice"), ALICE_TODO, "deleteTodo")


def s12_deny() -> None:
    with denied("Not Authorized to access deleteTodo on type Mutation"):
        model(TODO_OWNER, "Todo").authorize_delete(up("bob"), ALICE_TODO, "deleteTodo")


def s13_allow() -> None:
    doc = model(DOC_OWNERS, "Doc")
    created = doc.authorize_create(up("alice"), {"title": "t"}, "createDoc")
    assert created["owners"] == ["A-SUB::alice"]
    assert doc.project(created)["owners"] == ["alice"]


def s13_deny() -> None:
    with denied("Not Authorized to access createDoc on type Mutation"):
        model(DOC_OWNERS, "Doc").authorize_create(KEY, {"title": "t"}, "createDoc")


DOC = {"id": "d1", "owners": ["A-SUB::alice", "bob"]}


def s14_allow() -> None:
    doc = model(DOC_OWNERS, "Doc")
    doc.authorize_update(up("alice"), {"id": "d1", "owners": ["A-SUB::alice"]}, dict(DOC), "updateDoc")
    doc.check_get(up("bob"), DOC, "getDoc")
    doc.authorize_update(up("bob"), DOC, {"id": "d1", "title": "x"}, "updateDoc")
    assert visible(doc.read_filter(up("bob"), "list", "listDocs", "Query"), DOC)


def s14_deny() -> None:
    doc = model(DOC_OWNERS, "Doc")
    with denied("Not Authorized to access getDoc on type Query"):
        doc.check_get(up("carol"), DOC, "getDoc")
    assert not visible(doc.read_filter(up("carol"), "list", "listDocs", "Query"), DOC)


def s15_allow() -> None:
    model(DOC_OWNERS, "Doc").authorize_create(up("alice"), {"owners": ["bob", "alice"]}, "createDoc")


def s15_deny() -> None:
    with denied("Not Authorized to access createDoc on type Mutation"):
        model(DOC_OWNERS, "Doc").authorize_create(up("alice"), {"owners": ["bob"]}, "createDoc")


SALARY = {"Salary": a.model({"amount": a.integer()}).authorization(lambda allow: [allow.group("Admin")])}


def s16_allow() -> None:
    assert model(SALARY, "Salary").read_filter(up("carol"), "list", "listSalaries", "Query") is None


def s16_deny() -> None:
    with denied("Not Authorized to access listSalaries on type Query"):
        model(SALARY, "Salary").read_filter(up("alice"), "list", "listSalaries", "Query")


TODO_OWNER_ADMIN = {
    "Todo": a.model({"content": a.string()}).authorization(
        lambda allow: [allow.owner(), allow.group("Admin")]
    )
}


def s17_allow() -> None:
    todo = model(TODO_OWNER_ADMIN, "Todo")
    assert todo.read_filter(up("carol"), "list", "listTodos", "Query") is None
    created = todo.authorize_create(up("carol"), {"content": "c"}, "createTodo")
    assert created["owner"] == "C-SUB::carol"


def s17_deny() -> None:
    todo = model(TODO_OWNER_ADMIN, "Todo", populate_owner_field_for_static_group_auth=False)
    assert "owner" not in todo.authorize_create(up("carol"), {"content": "c"}, "createTodo")
    predicate = todo.read_filter(up("alice"), "list", "listTodos", "Query")
    assert not visible(predicate, BOB_TODO)


BLUE_POST = {"id": "p1", "team": "Blue"}


def s18_allow() -> None:
    post = model(POST_TEAM, "Post")
    post.check_get(up("dave"), BLUE_POST, "getPost")
    assert visible(post.read_filter(up("dave"), "list", "listPosts", "Query"), BLUE_POST)
    post.authorize_create(up("dave"), {"team": "Blue"}, "createPost")


def s18_deny() -> None:
    post = model(POST_TEAM, "Post")
    with denied("Not Authorized to access getPost on type Query"):
        post.check_get(up("carol"), BLUE_POST, "getPost")
    assert not visible(post.read_filter(up("carol"), "list", "listPosts", "Query"), BLUE_POST)
    with denied("Not Authorized to access getPost on type Query"):
        post.check_get(up("alice"), BLUE_POST, "getPost")
    with denied("Not Authorized to access listPosts on type Query"):
        post.read_filter(up("alice"), "list", "listPosts", "Query")
    with denied("Not Authorized to access createPost on type Mutation"):
        post.authorize_create(up("dave"), {"team": "Red"}, "createPost")


TEAMS_POST = {"id": "p1", "teams": ["Blue", "Green"]}


def s19_allow() -> None:
    post = model(POST_TEAMS, "Post")
    assert visible(post.read_filter(up("dave"), "list", "listPosts", "Query"), TEAMS_POST)
    post.authorize_update(up("dave"), TEAMS_POST, {"id": "p1", "teams": ["Red"]}, "updatePost")


def s19_deny() -> None:
    with denied("Not Authorized to access getPost on type Query"):
        model(POST_TEAMS, "Post").check_get(up("dave"), {"id": "p1", "teams": ["Red"]}, "getPost")


MOD = {
    "Mod": a.model({"text": a.string()}).authorization(
        lambda allow: [allow.groups(["Moderator"]).with_claim_in("user_groups")]
    )
}


def s20_allow() -> None:
    assert (
        model(MOD, "Mod").read_filter(up("bob", user_groups=["Moderator"]), "list", "listMods", "Query")
        is None
    )


def s20_deny() -> None:
    with denied("Not Authorized to access listMods on type Query"):
        model(MOD, "Mod").read_filter(up("carol"), "list", "listMods", "Query")  # cognito:groups is ignored


TODO_EMAIL = {
    "Todo": a.model({"content": a.string()}).authorization(
        lambda allow: [allow.owner().identity_claim("email")]
    )
}


def s21_allow() -> None:
    todo = model(TODO_EMAIL, "Todo")
    created = todo.authorize_create(upid("alice"), {"content": "a"}, "createTodo")
    assert created["owner"] == "alice@x.com"
    assert todo.project(created)["owner"] == "alice@x.com"  # single-part claim: returned as stored


def s21_deny() -> None:
    with denied("Not Authorized to access createTodo on type Mutation"):
        model(TODO_EMAIL, "Todo").authorize_create(up("alice"), {"content": "a"}, "createTodo")


TODO_PUBLIC_READ = {
    "Todo": a.model({"content": a.string()}).authorization(
        lambda allow: [allow.owner(), allow.public_api_key().to(["read"])]
    )
}


def s22_allow() -> None:
    assert model(TODO_PUBLIC_READ, "Todo").read_filter(KEY, "list", "listTodos", "Query") is None


def s22_deny() -> None:
    todo = model(TODO_PUBLIC_READ, "Todo")
    assert "apiKey" not in todo.modes_for("create")  # the directive layer already refuses it
    with denied("Not Authorized to access createTodo on type Mutation"):
        todo.authorize_create(KEY, {"content": "a"}, "createTodo")


async def s23_allow() -> None:
    issuer = LocalIssuer.generate()
    verifiers = CredentialVerifiers(user_pools=[issuer.verifier()])
    identity = await verifiers.verify(issuer.issue_token("alice"), {}, modes=("userPool", "apiKey"))
    assert identity.mode == "userPool" and identity.claims["username"] == "alice"


async def s23_deny() -> None:
    issuer = LocalIssuer.generate()
    verifiers = CredentialVerifiers(user_pools=[issuer.verifier()])
    with pytest.raises(AuthenticationError) as info:
        await verifiers.verify("not-a-credential", {}, modes=("userPool", "apiKey"))
    assert info.value.http_status == 401 and info.value.error_type == "UnauthorizedException"
    expired = issuer.issue_token("alice", now=0, ttl=60)
    with pytest.raises(AuthenticationError, match="expired"):
        await verifiers.verify(expired, {}, modes=("userPool",))


TODO_GUEST = {
    "Todo": a.model({"content": a.string()}).authorization(lambda allow: [allow.guest().to(["read"])])
}


def s24_allow() -> None:
    assert model(TODO_GUEST, "Todo").read_filter(GUEST, "list", "listTodos", "Query") is None


def s24_deny() -> None:
    with denied("Not Authorized to access listTodos on type Query"):
        model(TODO_GUEST, "Todo").read_filter(idp("alice"), "list", "listTodos", "Query")


TODO_IDP = {
    "Todo": a.model({"content": a.string()}).authorization(
        lambda allow: [allow.authenticated("identityPool")]
    )
}


def s25_allow() -> None:
    todo = model(TODO_IDP, "Todo")
    assert todo.authorize_create(idp("alice"), {"content": "a"}, "createTodo") == {"content": "a"}
    assert todo.read_filter(idp("alice"), "list", "listTodos", "Query") is None


def s25_deny() -> None:
    todo = model(TODO_IDP, "Todo")
    with denied("Not Authorized to access createTodo on type Mutation"):
        todo.authorize_create(GUEST, {"content": "a"}, "createTodo")
    with denied("Not Authorized to access listTodos on type Query"):
        todo.read_filter(GUEST, "list", "listTodos", "Query")


def s26_allow() -> None:
    todo = model(TODO_OWNER, "Todo")
    assert todo.authorize_create(IAMUSER, {"content": "a"}, "createTodo") == {"content": "a"}  # no owner
    assert todo.read_filter(IAMUSER, "list", "listTodos", "Query") is None
    assert todo.authorize_update(IAMUSER, BOB_TODO, {"id": "t2", "content": "x"}, "updateTodo") is None


def s26_deny() -> None:
    # Gen 1 schemas do not turn generic IAM access on by default.
    from dataclasses import replace

    from ampbase.auth.policy import PolicySettings
    from tests.auth.fixtures import IAM

    schema = schema_for(TODO_OWNER)
    settings = PolicySettings.for_schema(schema, iam=replace(IAM, enable_iam_access=False))
    with denied("Not Authorized to access listTodos on type Query"):
        SchemaPolicy(schema, settings).model("Todo").read_filter(IAMUSER, "list", "listTodos", "Query")


TODO_CUSTOM = {"Todo": a.model({"content": a.string()}).authorization(lambda allow: [allow.custom()])}


async def s27_allow() -> None:
    todo = model(TODO_CUSTOM, "Todo", lambda_mode=True)
    assert todo.read_filter(LAMBDA, "list", "listTodos", "Query") is None

    def authorizer(event: dict[str, Any]) -> dict[str, Any]:
        ok = event["authorizationToken"] == "allow"
        return {"isAuthorized": ok, "resolverContext": {"u": "1"}, "deniedFields": ["Todo.content"]}

    result = await LambdaAuthorizer(authorizer).authorize("allow")
    assert result.resolver_context == {"u": "1"}
    assert denied_field_names(result.denied_fields) == {("Todo", "content")}


async def s27_deny() -> None:
    def authorizer(event: dict[str, Any]) -> dict[str, Any]:
        return {"isAuthorized": event["authorizationToken"] == "allow", "resolverContext": {}}

    with pytest.raises(AuthenticationError) as info:
        await LambdaAuthorizer(authorizer).authorize("deny")
    assert info.value.http_status == 401
    with denied("Not Authorized to access listTodos on type Query"):
        model(TODO_CUSTOM, "Todo", lambda_mode=True).read_filter(up("alice"), "list", "listTodos", "Query")


ALICE_EMPLOYEE = {"id": "e1", "name": "Alice", "ssn": "123", "owner": "A-SUB::alice"}


def s28_allow() -> None:
    employee = model(EMPLOYEE, "Employee")
    assert employee.read_filter(up("bob"), "list", "listEmployees", "Query") is None
    assert employee.denied_fields(up("alice"), ALICE_EMPLOYEE) == ()


def s28_deny() -> None:
    assert model(EMPLOYEE, "Employee").denied_fields(up("bob"), ALICE_EMPLOYEE) == ("ssn",)


def s29_allow() -> None:
    employee = model(EMPLOYEE, "Employee")
    employee.check_get(up("alice"), ALICE_EMPLOYEE, "getEmployee")
    created = employee.authorize_create(up("alice"), {"name": "A", "ssn": "1"}, "createEmployee")
    assert created["owner"] == "A-SUB::alice"
    assert employee.denied_fields(up("alice"), created) == ()


def s29_deny() -> None:
    employee = model(EMPLOYEE, "Employee")
    assert employee.protected_fields == ("ssn",)  # nulled (without error) in mutation responses
    with denied("Not Authorized to access createEmployee on type Mutation"):
        employee.authorize_create(KEY, {"name": "A"}, "createEmployee")


BOB_SECRET_TODO = {"id": "t2", "content": "b", "secret": "s", "owner": "B-SUB::bob"}


def s30_allow() -> None:
    todo = model(TODO_SECRET, "Todo")
    created = todo.authorize_create(up("carol"), {"content": "c", "secret": "s"}, "createTodo")
    assert created["owner"] == "C-SUB::carol"
    todo.authorize_update(up("carol"), BOB_SECRET_TODO, {"id": "t2", "content": "x"}, "updateTodo")
    todo.authorize_delete(up("bob"), BOB_SECRET_TODO, "deleteTodo")


def s30_deny() -> None:
    todo = model(TODO_SECRET, "Todo")
    with denied("Unauthorized on [secret]"):
        todo.authorize_update(up("carol"), BOB_SECRET_TODO, {"id": "t2", "secret": "x"}, "updateTodo")
    with denied("Not Authorized to access deleteTodo on type Mutation"):
        todo.authorize_delete(up("carol"), BOB_SECRET_TODO, "deleteTodo")


TODO_NO_DELETE = {
    "Todo": a.model({"content": a.string()}).authorization(
        lambda allow: [allow.owner().to(["create", "read", "update"])]
    )
}


def s31_allow() -> None:
    model(TODO_NO_DELETE, "Todo").authorize_update(
        up("alice"), ALICE_TODO, {"id": "t1", "content": "x"}, "updateTodo"
    )


def s31_deny() -> None:
    with denied("Unauthorized on [content]"):
        model(TODO_NO_DELETE, "Todo").authorize_update(
            up("alice"), ALICE_TODO, {"id": "t1", "content": None}, "updateTodo"
        )


def s32_allow() -> None:
    todo = model(TODO_OWNER, "Todo")
    event_filter = todo.subscription_filter(up("alice"), "onCreateTodo", {})
    assert visible(event_filter, todo.project(ALICE_TODO))


def s32_deny() -> None:
    todo = model(TODO_OWNER, "Todo")
    event_filter = todo.subscription_filter(up("alice"), "onCreateTodo", {})
    assert not visible(event_filter, todo.project(BOB_TODO))


def s33_allow() -> None:
    model(TODO_OWNER, "Todo").subscription_filter(up("alice"), "onCreateTodo", {"owner": "alice"})


def s33_deny() -> None:
    with denied("Not Authorized to access onCreateTodo on type Subscription"):
        model(TODO_OWNER, "Todo").subscription_filter(up("alice"), "onCreateTodo", {"owner": "bob"})


TODO_34 = {
    "Todo": a.model({"content": a.string()}).authorization(
        lambda allow: [allow.owner(), allow.group("Admin"), allow.public_api_key().to(["read"])]
    )
}


def s34_allow() -> None:
    todo = model(TODO_34, "Todo")
    assert todo.subscription_filter(up("carol"), "onCreateTodo", {}) is None
    assert todo.subscription_filter(KEY, "onCreateTodo", {}) is None


def s34_deny() -> None:
    todo = model(TODO_34, "Todo")
    assert not visible(todo.subscription_filter(up("alice"), "onCreateTodo", {}), todo.project(BOB_TODO))


def s35_allow() -> None:
    todo = model(TODO_OWNER, "Todo")
    assert visible(todo.subscription_filter(up("alice"), "onCreateTodo", {}), {"id": "t", "owner": "alice"})


def s35_deny() -> None:
    todo = model(TODO_OWNER, "Todo")
    assert not visible(todo.subscription_filter(up("alice"), "onCreateTodo", {}), {"id": "t", "content": "x"})


def s36_allow() -> None:
    post = model(POST_TEAM, "Post")
    assert visible(post.subscription_filter(up("dave"), "onCreatePost", {}), {"id": "p", "team": "Blue"})


def s36_deny() -> None:
    post = model(POST_TEAM, "Post")
    assert not visible(post.subscription_filter(up("dave"), "onCreatePost", {}), {"id": "p", "team": "Red"})
    with denied("Not Authorized to access onCreatePost on type Subscription"):
        post.subscription_filter(up("alice"), "onCreatePost", {})


def s37_allow() -> None:
    assert policy_for(BLOG_POST, subscriptions_inherit_primary_auth=True).redacted_relations("Post") == ()


def s37_deny() -> None:
    policy = policy_for(BLOG_POST)
    assert policy.redacted_relations("Post") == ("blog",)
    assert policy.redacted_relations("Blog") == ("posts",)


ALICE_BLOG = {"id": "b1", "name": "A", "owner": "A-SUB::alice"}


def s38_allow() -> None:
    policy = policy_for(BLOG_POST)
    policy.model("Post").check_get(
        up("bob"), {"id": "p1", "blogId": "b1", "owner": "A-SUB::alice"}, "getPost"
    )
    policy.model("Blog").check_get(up("alice"), ALICE_BLOG, "blog", "Post")


def s38_deny() -> None:
    with denied("Not Authorized to access blog on type Post"):
        policy_for(BLOG_POST).model("Blog").check_get(up("bob"), ALICE_BLOG, "blog", "Post")


ECHO = {
    "Todo": a.model({"content": a.string()}).authorization(lambda allow: [allow.public_api_key()]),
    "echo": a.query()
    .arguments({"content": a.string()})
    .returns(a.string())
    .handler(a.handler.custom("./echo.js"))
    .authorization(lambda allow: [allow.group("Admin")]),
}


def _echo(policy: SchemaPolicy) -> Any:
    return next(op for op in policy.schema.operations if op.name == "echo")


def s39_allow() -> None:
    policy = policy_for(ECHO)
    policy.check_operation(up("carol"), _echo(policy))


def s39_deny() -> None:
    policy = policy_for(ECHO)
    for caller in (up("alice"), KEY):
        with denied("Not Authorized to access echo on type Query"):
            policy.check_operation(caller, _echo(policy))


SCHEMA_RULES = {
    "Note": a.model({"content": a.string()}),
    "Todo": a.model({"content": a.string()}).authorization(lambda allow: [allow.owner()]),
}


def s40_allow() -> None:
    policy = policy_for(SCHEMA_RULES, schema_rules=lambda allow: [allow.public_api_key()])
    assert policy.model("Note").read_filter(KEY, "list", "listNotes", "Query") is None


def s40_deny() -> None:
    policy = policy_for(SCHEMA_RULES, schema_rules=lambda allow: [allow.public_api_key()])
    with denied("Not Authorized to access listTodos on type Query"):
        policy.model("Todo").read_filter(KEY, "list", "listTodos", "Query")


# ---------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Scenario:
    number: int
    title: str
    allow: Callable[[], Any]
    deny: Callable[[], Any]


TITLES = {
    1: "owner create stores sub::username, returns username",
    2: "ID token: username from cognito:username",
    3: "implicit owner is not in the create/update inputs",
    4: "declared owner: own forms stored verbatim; others and null denied",
    5: "list returns only the caller's records",
    6: "get of another's record is Unauthorized",
    7: "get of a missing record is null without error",
    8: "update/delete of another's record denied",
    9: "update of a missing record by an owner denied",
    10: "declared owner can transfer ownership",
    11: "field rule protects the owner field",
    12: "owner deletes own record",
    13: "multi-owner create fills [sub::username]",
    14: "added owner reads, updates and lists",
    15: "multi-owner create naming others only denied",
    16: "static group list",
    17: "owner auto-filled for static group members",
    18: "dynamic group (single field)",
    19: "dynamic groups (list field); update checks the stored value",
    20: "custom group claim",
    21: "identityClaim email needs the ID token",
    22: "public API key read only",
    23: "bad or expired credentials are HTTP 401",
    24: "guest rule admits the unauthenticated role only",
    25: "identity-pool authenticated role",
    26: "generic IAM access bypasses rules",
    27: "Lambda authorizer: custom rule, deniedFields, 401 on refusal",
    28: "field-level read nulls ssn for others",
    29: "owner reads protected field; nulled in mutation responses",
    30: "partial field access for a static group",
    31: "setting null needs delete",
    32: "owner subscription receives own events only",
    33: "owner argument must be the caller",
    34: "static roles subscribe without filter",
    35: "event without the owner field is not delivered",
    36: "dynamic group subscription filter",
    37: "relational fields redacted in mutation responses",
    38: "related record of another owner is Unauthorized",
    39: "custom operation group rule",
    40: "schema-level rules are a fallback only",
}

SCENARIOS = [
    Scenario(n, TITLES[n], globals()[f"s{n:02d}_allow"], globals()[f"s{n:02d}_deny"]) for n in range(1, 41)
]


@pytest.mark.parametrize("case", ["allow", "deny"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.number:02d}-{s.title}")
@pytest.mark.anyio
async def test_scenario(scenario: Scenario, case: str) -> None:
    check = scenario.allow if case == "allow" else scenario.deny
    result = check()
    if result is not None:
        await result


def test_every_scenario_of_the_spec_is_covered() -> None:
    assert [s.number for s in SCENARIOS] == list(range(1, 41))
