"""Small pure helpers on :class:`~ampbase.schema.ir.AuthRule`: effective values with Gen 1 defaults.

A rule keeps what the user declared (``provider=None`` when not written); these helpers give
the values the transformer uses: ``allow: public`` defaults to ``apiKey``, ``private``, ``owner``
and ``groups`` to ``userPools``, ``custom`` to ``function``; no ``operations`` means all of them,
and ``read`` stands for ``get``, ``list``, ``listen``, ``sync`` and ``search``.
"""

from __future__ import annotations

import functools

from ampbase.schema.ir import AuthAllow, AuthProvider, AuthRule

__all__ = [
    "ALL_OPERATIONS",
    "DEFAULT_GROUP_CLAIM",
    "DEFAULT_IDENTITY_CLAIM",
    "DEFAULT_OWNER_FIELD",
    "READ_OPERATIONS",
    "allows",
    "effective_operations",
    "effective_provider",
    "group_claim",
    "identity_claim",
    "normalised_operations",
    "owner_field",
    "provider_mode",
    "rule_mode",
]

READ_OPERATIONS: tuple[str, ...] = ("get", "list", "listen", "sync", "search")
# What "all operations" means for a model rule, as the transformer writes it back.
ALL_OPERATIONS: tuple[str, ...] = ("create", "update", "delete", "read")
DEFAULT_OWNER_FIELD = "owner"
DEFAULT_IDENTITY_CLAIM = "cognito:username"
DEFAULT_GROUP_CLAIM = "cognito:groups"

_DEFAULT_PROVIDER: dict[AuthAllow, AuthProvider] = {
    AuthAllow.PUBLIC: AuthProvider.API_KEY,
    AuthAllow.PRIVATE: AuthProvider.USER_POOLS,
    AuthAllow.OWNER: AuthProvider.USER_POOLS,
    AuthAllow.GROUPS: AuthProvider.USER_POOLS,
    AuthAllow.CUSTOM: AuthProvider.FUNCTION,
}

_MODE: dict[AuthProvider, str] = {
    AuthProvider.API_KEY: "apiKey",
    AuthProvider.IAM: "iam",
    AuthProvider.IDENTITY_POOL: "iam",
    AuthProvider.USER_POOLS: "userPool",
    AuthProvider.OIDC: "oidc",
    AuthProvider.FUNCTION: "lambda",
}


def effective_provider(rule: AuthRule) -> AuthProvider:
    """The declared provider, or the default for the rule's ``allow``."""
    return rule.provider if rule.provider is not None else _DEFAULT_PROVIDER[rule.allow]


def provider_mode(provider: AuthProvider) -> str:
    """The client's authorization mode name for a provider (``identityPool`` → ``iam``)."""
    return _MODE[provider]


def rule_mode(rule: AuthRule) -> str:
    return provider_mode(effective_provider(rule))


def normalised_operations(rule: AuthRule) -> tuple[str, ...]:
    """The operations as declared, or ``create, update, delete, read`` when none were written."""
    return rule.operations if rule.operations is not None else ALL_OPERATIONS


@functools.lru_cache(maxsize=1024)
def effective_operations(rule: AuthRule) -> frozenset[str]:
    """Fine-grained operations the rule grants, ``read`` expanded (``get``, ``list``, ...)."""
    result: set[str] = set()
    for op in normalised_operations(rule):
        if op == "read":
            result.update(READ_OPERATIONS)
        else:
            result.add(op)
    return frozenset(result)


def allows(rule: AuthRule, operation: str) -> bool:
    """Whether ``rule`` grants ``operation`` (``create`` ... or ``get``/``list``/``listen``/``read``)."""
    granted = effective_operations(rule)
    if operation == "read":
        return not granted.isdisjoint(READ_OPERATIONS)
    return operation in granted


def owner_field(rule: AuthRule) -> str | None:
    """The owner field of an owner rule (default ``owner``); ``None`` for other rules."""
    if rule.allow is not AuthAllow.OWNER:
        return None
    return rule.owner_field or DEFAULT_OWNER_FIELD


def identity_claim(rule: AuthRule) -> str:
    return rule.identity_claim or DEFAULT_IDENTITY_CLAIM


def group_claim(rule: AuthRule) -> str:
    return rule.group_claim or DEFAULT_GROUP_CLAIM
