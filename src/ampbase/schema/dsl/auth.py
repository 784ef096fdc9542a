"""The ``allow`` builders passed to ``.authorization(lambda allow: [...])``.

Each builder produces the Gen 1 ``@auth`` rule AWS's data-schema emits for it
(``specs/auth-spec.md`` §2.1): ``allow.owner()`` → ``{allow: owner, ownerField: "owner"}``,
``allow.guest()`` → ``{allow: public, provider: identityPool}`` and so on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ampbase.schema.dsl.source import caller_location, definition_error, is_list
from ampbase.schema.ir import AuthAllow, AuthProvider, AuthRule, SourceLocation

__all__ = [
    "FIELD_OPERATIONS",
    "MODEL_OPERATIONS",
    "RESOURCE_OPERATIONS",
    "Allow",
    "AuthCallback",
    "AuthResult",
    "ResourceAccess",
    "RuleBuilder",
    "collect_rules",
]

MODEL_OPERATIONS: tuple[str, ...] = (
    "create",
    "update",
    "delete",
    "read",
    "get",
    "list",
    "sync",
    "listen",
    "search",
)
FIELD_OPERATIONS: tuple[str, ...] = ("create", "update", "delete", "read")
RESOURCE_OPERATIONS: tuple[str, ...] = ("query", "mutate", "listen")
_READ_PARTS = frozenset({"get", "list", "sync", "listen", "search"})

_PROVIDERS: dict[str, AuthProvider] = {p.value: p for p in AuthProvider}
_OWNER_PROVIDERS = (AuthProvider.USER_POOLS, AuthProvider.OIDC)
_PRIVATE_PROVIDERS = (AuthProvider.USER_POOLS, AuthProvider.OIDC, AuthProvider.IDENTITY_POOL)
_CUSTOM_PROVIDERS = (AuthProvider.FUNCTION,)


def _provider(
    builder: str, value: object, allowed: tuple[AuthProvider, ...], source: SourceLocation
) -> AuthProvider | None:
    if value is None:
        return None
    provider = value if isinstance(value, AuthProvider) else _PROVIDERS.get(str(value))
    if provider is None or provider not in allowed:
        names = ", ".join(f"'{p.value}'" for p in allowed)
        raise definition_error(
            f"Invalid provider ({value!r}) given to allow.{builder}()",
            source=source,
            hint=f"allow.{builder}() accepts {names}",
        )
    return provider


def _name(builder: str, what: str, value: object, source: SourceLocation) -> str:
    if not isinstance(value, str) or not value:
        raise definition_error(
            f"allow.{builder}() needs a non-empty {what} string, got {value!r}", source=source
        )
    return value


@dataclass(frozen=True, slots=True)
class RuleBuilder:
    """One ``allow.*()`` rule; ``.to()``, ``.identity_claim()``, ``.with_claim_in()`` refine it."""

    builder: str
    rule: AuthRule
    source: SourceLocation

    def to(self, operations: Sequence[str]) -> RuleBuilder:
        """Restrict the rule to some operations (``create``, ``read``, ``get``, ``list``...)."""
        source = caller_location()
        if not is_list(operations):
            raise definition_error(
                f"allow.{self.builder}().to() needs a non-empty list of operations, got {operations!r}",
                source=source,
                hint="e.g. .to(['read', 'create'])",
            )
        ops: list[str] = []
        for op in operations:
            if op not in MODEL_OPERATIONS:
                raise definition_error(
                    f"Unknown operation {op!r} in allow.{self.builder}().to()",
                    source=source,
                    hint="operations are " + ", ".join(MODEL_OPERATIONS),
                )
            if op not in ops:
                ops.append(op)
        if "read" in ops and _READ_PARTS & set(ops):
            mixed = ", ".join(sorted(_READ_PARTS & set(ops)))
            raise definition_error(
                f"allow.{self.builder}().to() mixes 'read' with {mixed}",
                source=source,
                hint="'read' already covers get, list, listen, sync and search: use one or the other",
            )
        return dataclasses.replace(self, rule=dataclasses.replace(self.rule, operations=tuple(ops)))

    def identity_claim(self, claim: str) -> RuleBuilder:
        """The token claim holding the owner's identity (owner rules only)."""
        source = caller_location()
        if self.rule.allow is not AuthAllow.OWNER:
            raise definition_error(
                f"identity_claim() is only available on owner rules, not allow.{self.builder}()",
                source=source,
                hint="group rules use .with_claim_in()",
            )
        claim = _name(self.builder, "claim", claim, source)
        return dataclasses.replace(self, rule=dataclasses.replace(self.rule, identity_claim=claim))

    def with_claim_in(self, claim: str) -> RuleBuilder:
        """The token claim holding the caller's groups (group rules only)."""
        source = caller_location()
        if self.rule.allow is not AuthAllow.GROUPS:
            raise definition_error(
                f"with_claim_in() is only available on group rules, not allow.{self.builder}()",
                source=source,
                hint="owner rules use .identity_claim()",
            )
        claim = _name(self.builder, "claim", claim, source)
        return dataclasses.replace(self, rule=dataclasses.replace(self.rule, group_claim=claim))

    @property
    def is_dynamic(self) -> bool:
        """Owner and group-field rules depend on the record, so they need a model."""
        return self.rule.allow is AuthAllow.OWNER or self.rule.groups_field is not None


@dataclass(frozen=True, slots=True)
class ResourceAccess:
    """``allow.resource(fn)``: lets a function call the API (schema level only)."""

    function: Any
    operations: tuple[str, ...]
    source: SourceLocation

    def to(self, operations: Sequence[str]) -> ResourceAccess:
        source = caller_location()
        if not is_list(operations):
            raise definition_error(
                f"allow.resource().to() needs a non-empty list, got {operations!r}",
                source=source,
                hint="e.g. .to(['query', 'mutate', 'listen'])",
            )
        for op in operations:
            if op not in RESOURCE_OPERATIONS:
                raise definition_error(
                    f"Unknown operation {op!r} in allow.resource().to()",
                    source=source,
                    hint="allow.resource() operations are " + ", ".join(RESOURCE_OPERATIONS),
                )
        return dataclasses.replace(self, operations=tuple(dict.fromkeys(operations)))


class Allow:
    """The ``allow`` argument of an authorization callback."""

    __slots__ = ()

    def public_api_key(self) -> RuleBuilder:
        """Anyone with the API key: ``{allow: public, provider: apiKey}``."""
        rule = AuthRule(AuthAllow.PUBLIC, provider=AuthProvider.API_KEY)
        return _rule("public_api_key", rule)

    def guest(self) -> RuleBuilder:
        """Unauthenticated identity-pool callers: ``{allow: public, provider: identityPool}``."""
        rule = AuthRule(AuthAllow.PUBLIC, provider=AuthProvider.IDENTITY_POOL)
        return _rule("guest", rule)

    def authenticated(self, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """Any signed-in user: ``{allow: private}`` (``userPools``, ``oidc`` or ``identityPool``)."""
        source = caller_location()
        p = _provider("authenticated", provider, _PRIVATE_PROVIDERS, source)
        return RuleBuilder("authenticated", AuthRule(AuthAllow.PRIVATE, provider=p), source)

    def owner(self, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """The record's owner, kept in the implicit ``owner`` field."""
        source = caller_location()
        p = _provider("owner", provider, _OWNER_PROVIDERS, source)
        return RuleBuilder("owner", AuthRule(AuthAllow.OWNER, provider=p, owner_field="owner"), source)

    def owner_defined_in(self, field: str, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """The owner whose identity is stored in ``field``."""
        source = caller_location()
        name = _name("owner_defined_in", "field name", field, source)
        p = _provider("owner_defined_in", provider, _OWNER_PROVIDERS, source)
        rule = AuthRule(AuthAllow.OWNER, provider=p, owner_field=name)
        return RuleBuilder("owner_defined_in", rule, source)

    def owners_defined_in(self, field: str, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """Any of the owners listed in the ``[String]`` field ``field`` (declare it yourself)."""
        source = caller_location()
        name = _name("owners_defined_in", "field name", field, source)
        p = _provider("owners_defined_in", provider, _OWNER_PROVIDERS, source)
        rule = AuthRule(AuthAllow.OWNER, provider=p, owner_field=name)
        return RuleBuilder("owners_defined_in", rule, source)

    def group(self, group: str, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """Members of one static group."""
        source = caller_location()
        name = _name("group", "group name", group, source)
        p = _provider("group", provider, _OWNER_PROVIDERS, source)
        return RuleBuilder("group", AuthRule(AuthAllow.GROUPS, provider=p, groups=(name,)), source)

    def groups(self, groups: Sequence[str], provider: str | AuthProvider | None = None) -> RuleBuilder:
        """Members of any of several static groups."""
        source = caller_location()
        if not is_list(groups):
            raise definition_error(
                f"allow.groups() needs a non-empty list of group names, got {groups!r}",
                source=source,
                hint="e.g. allow.groups(['Admin', 'Editors']); for one group use allow.group('Admin')",
            )
        names = tuple(_name("groups", "group name", g, source) for g in groups)
        p = _provider("groups", provider, _OWNER_PROVIDERS, source)
        return RuleBuilder("groups", AuthRule(AuthAllow.GROUPS, provider=p, groups=names), source)

    def group_defined_in(self, field: str, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """Members of the group named in the record's ``field`` (declare it: ``a.string()``)."""
        source = caller_location()
        name = _name("group_defined_in", "field name", field, source)
        p = _provider("group_defined_in", provider, _OWNER_PROVIDERS, source)
        rule = AuthRule(AuthAllow.GROUPS, provider=p, groups_field=name)
        return RuleBuilder("group_defined_in", rule, source)

    def groups_defined_in(self, field: str, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """Members of any group listed in the record's ``field`` (declare it: ``a.string().array()``)."""
        source = caller_location()
        name = _name("groups_defined_in", "field name", field, source)
        p = _provider("groups_defined_in", provider, _OWNER_PROVIDERS, source)
        rule = AuthRule(AuthAllow.GROUPS, provider=p, groups_field=name)
        return RuleBuilder("groups_defined_in", rule, source)

    def custom(self, provider: str | AuthProvider | None = None) -> RuleBuilder:
        """Decided by the Lambda authorizer: ``{allow: custom}``."""
        source = caller_location()
        p = _provider("custom", provider, _CUSTOM_PROVIDERS, source)
        return RuleBuilder("custom", AuthRule(AuthAllow.CUSTOM, provider=p), source)

    def resource(self, function: Any) -> ResourceAccess:
        """Give a function access to the whole API (schema-level rules only)."""
        source = caller_location()
        if function is None or isinstance(function, bool | int | float):
            raise definition_error(
                f"allow.resource() needs a function (a callable or a function name), got {function!r}",
                source=source,
            )
        return ResourceAccess(function, RESOURCE_OPERATIONS, source)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(_did_you_mean("allow", name, dir(Allow)))


def _rule(builder: str, rule: AuthRule) -> RuleBuilder:
    return RuleBuilder(builder, dataclasses.replace(rule), caller_location())


def _did_you_mean(owner: str, name: str, candidates: Iterable[str]) -> str:
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name)
    if snake != name and snake in candidates:
        return f"{owner}.{name} does not exist; did you mean {owner}.{snake}?"
    return f"{owner}.{name} does not exist"


# What an ``.authorization()`` callback returns: one rule or a list of them.
AuthResult = RuleBuilder | ResourceAccess | Sequence[RuleBuilder | ResourceAccess]
AuthCallback = Callable[[Allow], AuthResult]

_ALLOW = Allow()


def collect_rules(
    callback: object, *, where: str, source: SourceLocation
) -> tuple[RuleBuilder | ResourceAccess, ...]:
    """Call ``callback(allow)`` and return its rules as a tuple, checking what came back."""
    if not callable(callback):
        raise definition_error(
            f".authorization() of {where} needs a function, got {callback!r}",
            source=source,
            hint=".authorization(lambda allow: [allow.public_api_key()])",
        )
    result = callback(_ALLOW)
    items: list[object]
    if isinstance(result, RuleBuilder | ResourceAccess):
        items = [result]
    elif isinstance(result, list | tuple):
        items = list(result)
    else:
        raise definition_error(
            f"The authorization callback of {where} returned {result!r}",
            source=source,
            hint="return an allow.* rule or a list of them: lambda allow: [allow.owner()]",
        )
    rules: list[RuleBuilder | ResourceAccess] = []
    for item in items:
        if not isinstance(item, RuleBuilder | ResourceAccess):
            raise definition_error(
                f"The authorization callback of {where} returned {item!r}, which is not an allow.* rule",
                source=source,
                hint="did you forget the parentheses, e.g. allow.owner instead of allow.owner()?",
            )
        rules.append(item)
    if not rules:
        raise definition_error(
            f".authorization() of {where} returned no rules",
            source=source,
            hint="return at least one allow.* rule",
        )
    return tuple(rules)
