"""Authorization seam of the engine: a thin facade over :mod:`ampbase.auth.policy`.

The engine's resolvers use :class:`~ampbase.auth.policy.SchemaPolicy` directly (read predicates
pushed into storage queries, owner population on create, stored-record checks on update/delete,
field-level nulling, subscription filters). :class:`Authorizer` keeps the coarse questions
("could this caller run this operation at all?") for callers that have no record at hand.

Denial raises :class:`~ampbase.errors.UnauthorizedError`
``Not Authorized to access <field> on type <Type>``.
"""

from __future__ import annotations

import json
from typing import Any

from ampbase.auth.policy import SchemaPolicy, not_authorized, static_admits
from ampbase.engine.identity import Identity
from ampbase.schema.ir import AuthRule, CustomOperationDef, ModelDef, SchemaDef

__all__ = ["Authorizer", "caller_groups", "not_authorized"]


def caller_groups(identity: Identity, claim: str) -> frozenset[str]:
    """The caller's groups from a token claim (a list, a JSON list, or a comma-separated string)."""
    value: Any = identity.claims.get(claim)
    if value is None:
        value = identity.resolver_context.get(claim)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = [text]
        else:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return frozenset(str(v) for v in value)
    return frozenset()


class Authorizer:
    """Coarse model and custom-operation checks for an :class:`Identity`."""

    __slots__ = ("policy",)

    def __init__(self, schema: SchemaDef, policy: SchemaPolicy | None = None) -> None:
        self.policy = policy if policy is not None else SchemaPolicy(schema)

    def rules_for(self, model: ModelDef) -> tuple[AuthRule, ...]:
        return self.policy.model(model.name).rules

    def model_allowed(self, identity: Identity, model: ModelDef, operation: str) -> bool:
        """Whether ``identity`` could run ``operation`` on some record of ``model``.

        Static roles decide outright; an owner / dynamic-group role counts when the caller has
        the claims it needs (the record then decides).
        """
        policy = self.policy.model(model.name)
        if policy.bypass(identity):
            return True
        for role in policy.roles_for(operation):
            if role.dynamic:
                if policy.role_predicate(role, identity) is not None:
                    return True
            elif static_admits(role, identity, policy.iam):
                return True
        return False

    def check_model(
        self, identity: Identity, model: ModelDef, operation: str, field: str, type_name: str
    ) -> None:
        if not self.model_allowed(identity, model, operation):
            raise not_authorized(field, type_name)

    def check_operation(self, identity: Identity, op: CustomOperationDef) -> None:
        self.policy.check_operation(identity, op)
