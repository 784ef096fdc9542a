"""The engine's authorization facade over ampbase.auth.policy (detailed rules: tests/auth)."""

from __future__ import annotations

import pytest

from ampbase.auth.policy import IamSettings
from ampbase.engine.authorization import Authorizer, caller_groups
from ampbase.engine.identity import Identity
from ampbase.errors import UnauthorizedError
from ampbase.schema.ir import ModelDef
from tests.engine.conftest import HarnessFactory
from tests.engine.harness import API_KEY, TRUSTED, oracle_schema


def user(*groups: str, claim: str = "cognito:groups") -> Identity:
    return Identity(mode="userPool", claims={"sub": "u", "cognito:username": "alice", claim: list(groups)})


# the identity pool's authenticated role (allow: private, provider: iam)
IAM = Identity(mode="iam", iam={"userArn": IamSettings().auth_role_arn})
OIDC = Identity(mode="oidc", claims={"sub": "o"})
LAMBDA = Identity(mode="lambda", resolver_context={"tenant": "t"})


def model(sample: str, name: str) -> tuple[Authorizer, ModelDef]:
    schema = oracle_schema(sample)
    found = schema.get_model(name)
    assert found is not None
    return Authorizer(schema), found


def test_static_groups() -> None:
    auth, salary = model("auth-groups-static", "Salary")
    assert auth.model_allowed(user("Admin"), salary, "delete")
    assert auth.model_allowed(user("HR"), salary, "list")
    assert not auth.model_allowed(user("HR"), salary, "update")
    assert not auth.model_allowed(user("Staff"), salary, "get")
    assert not auth.model_allowed(user(), salary, "get")
    assert not auth.model_allowed(API_KEY, salary, "get")
    assert auth.model_allowed(TRUSTED, salary, "delete")


def test_group_claim_shapes() -> None:
    assert caller_groups(Identity(mode="userPool", claims={"g": "A, B"}), "g") == {"A", "B"}
    assert caller_groups(Identity(mode="userPool", claims={"g": '["A","B"]'}), "g") == {"A", "B"}
    assert caller_groups(Identity(mode="userPool", claims={"g": ["A"]}), "g") == {"A"}
    assert caller_groups(Identity(mode="userPool", claims={}), "g") == frozenset()


def test_operations_and_providers() -> None:
    auth, post = model("auth-multi-provider", "Post")
    assert auth.model_allowed(API_KEY, post, "get") and auth.model_allowed(API_KEY, post, "list")
    assert not auth.model_allowed(API_KEY, post, "create")
    assert auth.model_allowed(user(), post, "list")
    assert auth.model_allowed(user(), post, "update")  # the owner rule may (the record decides)
    assert not auth.model_allowed(
        Identity(mode="userPool", claims={"sub": "u"}), post, "update"
    )  # no username
    assert auth.model_allowed(user("Admin"), post, "update")
    assert auth.model_allowed(IAM, post, "delete")
    assert not auth.model_allowed(OIDC, post, "get")
    assert not auth.model_allowed(LAMBDA, post, "get")

    auth, poll = model("auth-operations", "Poll")
    assert auth.model_allowed(user(), poll, "create")
    assert not auth.model_allowed(user(), poll, "delete")
    auth, article = model("auth-operations", "Article")
    assert auth.model_allowed(API_KEY, article, "get") and not auth.model_allowed(API_KEY, article, "create")
    assert auth.model_allowed(user("Editors"), article, "update")
    assert auth.model_allowed(user("Editors"), article, "delete")  # as the owner, maybe
    editor_only = Identity(mode="userPool", claims={"cognito:groups": ["Editors"]})
    assert not auth.model_allowed(editor_only, article, "delete")


def test_owner_models_need_the_owner_claims_and_models_without_rules_are_denied() -> None:
    auth, todo = model("auth-owner-default", "Todo")
    assert auth.model_allowed(user(), todo, "create")
    assert not auth.model_allowed(API_KEY, todo, "create")
    auth, todo = model("todo-basic", "Todo")
    for identity in (API_KEY, user("Admin"), IAM, OIDC, LAMBDA):
        assert not auth.model_allowed(identity, todo, "get")
    assert auth.model_allowed(TRUSTED, todo, "get")


def test_schema_level_rules_are_the_fallback() -> None:
    auth, todo = model("sandbox-global-auth", "Todo")
    assert auth.model_allowed(API_KEY, todo, "create")
    assert not auth.model_allowed(user(), todo, "create")


def test_check_model_raises_appsync_message() -> None:
    auth, todo = model("auth-owner-default", "Todo")
    with pytest.raises(UnauthorizedError, match=r"^Not Authorized to access listTodos on type Query$"):
        auth.check_model(API_KEY, todo, "list", "listTodos", "Query")


@pytest.mark.anyio
async def test_denied_requests_touch_no_storage(make_engine: HarnessFactory) -> None:
    h = await make_engine(oracle_schema("auth-groups-static"))
    create = 'mutation { createSalary(input: {id: "s", wage: 1}) { id } }'
    error = await h.error(create, identity=user("HR"))
    assert error == {
        "path": ["createSalary"],
        "data": None,
        "errorType": "Unauthorized",
        "errorInfo": None,
        "locations": [{"line": 1, "column": 12, "sourceName": None}],
        "message": "Not Authorized to access createSalary on type Mutation",
        "extensions": {"errorType": "Unauthorized"},
    }
    assert h.storage.stats.statements == 0
    await h.ok(create, identity=user("Admin"))
    data = await h.ok("{ listSalaries { items { id wage } } }", identity=user("Finance"))
    assert data == {"listSalaries": {"items": [{"id": "s", "wage": 1}]}}
