"""Authorization seam: may this identity run this operation?

Current rules (owner and dynamic-group scoping come with the authorization
issue, behind this same interface):

- ``Identity.trusted`` (in-process calls) may do everything.
- A model operation is allowed when one of the model's rules (or, when the
  model has none, the schema-level rules) matches the caller's authorization
  mode and grants the operation, and is *static*: ``public``, ``private``,
  ``custom``, or ``groups`` with a fixed list the caller's group claim meets.
- Requests only an ``owner`` or dynamic ``groups`` rule could authorise are
  denied for now; a model with no rules at all is denied.
- Custom operations use their own rules the same way (operations ignored).

Denial raises :class:`~ampbase.errors.UnauthorizedError`
``Not Authorized to access <field> on type <Type>``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ampbase.engine.identity import Identity
from ampbase.errors import UnauthorizedError
from ampbase.schema.auth import allows, group_claim, rule_mode
from ampbase.schema.ir import AuthAllow, AuthRule, CustomOperationDef, ModelDef, SchemaDef

__all__ = ["Authorizer", "caller_groups", "not_authorized"]


def not_authorized(field: str, type_name: str) -> UnauthorizedError:
    return UnauthorizedError(f"Not Authorized to access {field} on type {type_name}")


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


def _static_rule_admits(rule: AuthRule, identity: Identity) -> bool:
    if rule.allow in (AuthAllow.PUBLIC, AuthAllow.PRIVATE, AuthAllow.CUSTOM):
        return True
    if rule.allow is AuthAllow.GROUPS and rule.groups_field is None and rule.groups:
        return bool(caller_groups(identity, group_claim(rule)) & set(rule.groups))
    # owner and dynamic groups: not yet supported (deny)
    return False


class Authorizer:
    """Decides model and custom-operation access for an :class:`Identity`."""

    __slots__ = ("_model_rules", "_schema_rules")

    def __init__(self, schema: SchemaDef) -> None:
        self._schema_rules = schema.schema_auth_rules
        self._model_rules: dict[str, tuple[AuthRule, ...]] = {
            m.name: (m.auth_rules or schema.schema_auth_rules) for m in schema.models
        }

    def rules_for(self, model: ModelDef) -> tuple[AuthRule, ...]:
        return self._model_rules.get(model.name, model.auth_rules or self._schema_rules)

    def model_allowed(self, identity: Identity, model: ModelDef, operation: str) -> bool:
        """Whether ``identity`` may run ``operation`` (``get list create update delete listen``)."""
        if identity.trusted:
            return True
        return _admits(self.rules_for(model), identity, operation)

    def check_model(
        self, identity: Identity, model: ModelDef, operation: str, field: str, type_name: str
    ) -> None:
        if not self.model_allowed(identity, model, operation):
            raise not_authorized(field, type_name)

    def check_operation(self, identity: Identity, op: CustomOperationDef) -> None:
        if identity.trusted:
            return
        rules = op.auth_rules or self._schema_rules
        if not _admits(rules, identity, None):
            raise not_authorized(op.name, op.kind.value)


def _admits(rules: Sequence[AuthRule], identity: Identity, operation: str | None) -> bool:
    for rule in rules:
        if rule_mode(rule) != identity.mode:
            continue
        if operation is not None and not allows(rule, operation):
            continue
        if _static_rule_admits(rule, identity):
            return True
    return False
