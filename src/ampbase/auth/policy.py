"""Amplify authorization rules, evaluated the way the generated AppSync resolvers do (pure, no I/O).

Rules compile to *roles* (``provider x strategy x claim x entity``; a static-groups rule gives one
role per group) and an access matrix *role x field x operation*: a model rule covers every field
without rules of its own, a field rule replaces the model's rules for that field
(``auth-spec.md`` §3.6). Only declared fields are in the matrix; implicit ``id``, timestamps and
owner fields are not (so a partially authorized caller cannot send them).

Per operation (``auth-spec.md`` §3):

- **reads** (``get``, ``list``, index queries, ``sync``, ``search``): a matching static role
  authorizes outright; otherwise every applicable owner / dynamic-group role contributes a
  predicate on the *stored* record, OR-ed, which the storage query applies (so pages stay full).
  Nothing to authorize with → :class:`~ampbase.errors.UnauthorizedError`.
- **create**: static roles, then owner roles (auto-population of the owner field when omitted,
  ``populateOwnerFieldForStaticGroupAuth``), then dynamic groups against the input; a partially
  authorized caller gets ``Unauthorized on [f1, f2]`` for fields outside its allowed set.
- **update** / **delete**: dynamic roles are checked against the *stored* record; setting a field
  to null needs ``delete`` on it; deleting needs ``delete`` on every field. The returned guard
  predicate lets storage re-check the stored record atomically with the write.
- **field reads**: a field some read role cannot read is *protected*; it is nulled (with a
  per-field ``Not Authorized to access f on type Model``) for callers no role admits, and always
  nulled (without error) in mutation responses.
- **subscriptions**: static roles → every event; owner / dynamic-group roles → a runtime filter
  evaluated against each event's (projected) record.

Identities: owner claims default to ``sub::username`` (``username`` falls back to
``cognito:username``); a stored owner value matches the combined value or any single part, and is
returned as its last ``::`` segment. IAM principals: ``allow.guest()`` needs the unauthenticated
role, ``allow.authenticated('identityPool')`` the authenticated role (or pool + authenticated);
IAM principals without identity-pool attributes bypass every rule (Gen 2 generic IAM access), as
do admin roles and trusted in-process calls.

Group claims: a list is used as is; a string is JSON-parsed if it is a JSON list, otherwise it is
one group (AppSync's substring quirk for string claims is deliberately not reproduced).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ampbase.engine.identity import Identity
from ampbase.errors import UnauthorizedError
from ampbase.schema.auth import effective_operations, effective_provider, owner_field, provider_mode
from ampbase.schema.ir import (
    AuthAllow,
    AuthRule,
    CustomOperationDef,
    FieldDef,
    FieldOrigin,
    ModelDef,
    SchemaDef,
)
from ampbase.storage.predicate import FALSE, Compare, Contains, In, Or, Predicate, evaluate

__all__ = [
    "DEFAULT_GROUP_CLAIM",
    "MUTATION_MARK",
    "IamSettings",
    "ModelPolicy",
    "OwnerClaim",
    "PolicySettings",
    "Role",
    "SchemaPolicy",
    "Strategy",
    "bypasses_rules",
    "caller_groups",
    "denied_field_pairs",
    "not_authorized",
    "owner_claim",
    "project_owner_value",
    "unauthorized_fields",
]

DEFAULT_GROUP_CLAIM = "cognito:groups"
# Key the engine adds to mutation results (AppSync's ``__operation: "Mutation"``): protected
# fields and redacted relations resolve to null on such sources.
MUTATION_MARK = "__operation"
READ_OPS: tuple[str, ...] = ("get", "list", "listen", "sync", "search")
WRITE_OPS: tuple[str, ...] = ("create", "update", "delete")


_FIELD_ARN = re.compile(r"^arn:aws:appsync:[^:]*:[^:]*:apis/[^/]+/types/([^/]+)/fields/([^/]+)$")


def denied_field_pairs(denied: Sequence[str]) -> frozenset[tuple[str, str]]:
    """Lambda ``deniedFields`` (``Type.field`` or a full field ARN) as ``(type, field)`` pairs."""
    result: set[tuple[str, str]] = set()
    for entry in denied:
        match = _FIELD_ARN.match(entry)
        if match:
            result.add((match.group(1), match.group(2)))
        elif "." in entry:
            type_name, _, field_name = entry.partition(".")
            result.add((type_name, field_name))
    return frozenset(result)


def not_authorized(field_name: str, type_name: str) -> UnauthorizedError:
    """``Not Authorized to access <field> on type <Type>`` (errorType ``Unauthorized``)."""
    return UnauthorizedError(f"Not Authorized to access {field_name} on type {type_name}")


def unauthorized_fields(names: Sequence[str]) -> UnauthorizedError:
    """``Unauthorized on [a, b]``: a partially authorized write touched other fields."""
    return UnauthorizedError(f"Unauthorized on [{', '.join(names)}]")


# ---------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class IamSettings:
    """How IAM principals relate to the (simulated) Cognito identity pool.

    The assumed-role ARNs of the pool's roles are
    ``arn:aws:sts::<account>:assumed-role/<role>/CognitoIdentityCredentials``.
    ``enable_iam_access`` = Gen 2 generic IAM access: a principal without identity-pool
    attributes (an IAM user or service role) bypasses every rule.
    """

    account_id: str = "000000000000"
    identity_pool_id: str = "local:ampbase"
    auth_role_name: str = "ampbase-authRole"
    unauth_role_name: str = "ampbase-unauthRole"
    admin_role_names: tuple[str, ...] = ()
    enable_iam_access: bool = True

    def role_arn(self, role_name: str) -> str:
        return f"arn:aws:sts::{self.account_id}:assumed-role/{role_name}/CognitoIdentityCredentials"

    @property
    def auth_role_arn(self) -> str:
        return self.role_arn(self.auth_role_name)

    @property
    def unauth_role_arn(self) -> str:
        return self.role_arn(self.unauth_role_name)


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Transformer flags (``auth-spec.md`` §2.4) and the API's authorization modes."""

    default_mode: str = "apiKey"
    modes: tuple[str, ...] = ("apiKey",)
    iam: IamSettings = field(default_factory=IamSettings)
    use_sub_username_for_default_identity_claim: bool = True
    populate_owner_field_for_static_group_auth: bool = True
    subscriptions_inherit_primary_auth: bool = False

    @classmethod
    def for_schema(cls, schema: SchemaDef, *, iam: IamSettings | None = None) -> PolicySettings:
        """Gen 2 defaults; Gen 1 schemas get generic IAM access only when asked for."""
        iam_settings = iam or IamSettings(enable_iam_access=schema.flavour == "gen2")
        modes = tuple(dict.fromkeys((*schema.auth.modes, schema.auth.default_mode)))
        return cls(default_mode=schema.auth.default_mode, modes=modes, iam=iam_settings)

    def mode_enabled(self, mode: str) -> bool:
        return mode in self.modes

    def default_identity_claim(self) -> str:
        return "sub::username" if self.use_sub_username_for_default_identity_claim else "username"


# ---------------------------------------------------------------------------- roles


class Strategy(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    OWNER = "owner"
    STATIC_GROUP = "staticGroup"
    DYNAMIC_GROUP = "dynamicGroup"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Role:
    """One access-matrix role: ``mode`` (client auth-mode name), strategy, claim and entity.

    ``entity`` is the owner field (owner), the groups field (dynamic group) or the group name
    (static group); ``claim`` the identity claim (owner) or group claim (groups).
    """

    mode: str
    strategy: Strategy
    claim: str | None = None
    entity: str | None = None

    @property
    def dynamic(self) -> bool:
        return self.strategy in (Strategy.OWNER, Strategy.DYNAMIC_GROUP)


def roles_of(rule: AuthRule, settings: PolicySettings) -> tuple[Role, ...]:
    mode = provider_mode(effective_provider(rule))
    if rule.allow is AuthAllow.PUBLIC:
        return (Role(mode, Strategy.PUBLIC),)
    if rule.allow is AuthAllow.PRIVATE:
        return (Role(mode, Strategy.PRIVATE),)
    if rule.allow is AuthAllow.CUSTOM:
        return (Role(mode, Strategy.CUSTOM),)
    if rule.allow is AuthAllow.OWNER:
        claim = rule.identity_claim or settings.default_identity_claim()
        return (Role(mode, Strategy.OWNER, claim, owner_field(rule)),)
    claim = rule.group_claim or DEFAULT_GROUP_CLAIM
    if rule.groups_field is not None:
        return (Role(mode, Strategy.DYNAMIC_GROUP, claim, rule.groups_field),)
    return tuple(Role(mode, Strategy.STATIC_GROUP, claim, g) for g in rule.groups)


# ---------------------------------------------------------------------------- identities


@dataclass(frozen=True, slots=True)
class OwnerClaim:
    """The caller's owner identity for one claim: ``combined`` (``sub::alice``) and its parts."""

    combined: str
    parts: tuple[str, ...]

    @property
    def last(self) -> str:
        return self.parts[-1] if self.parts else self.combined

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and (value == self.combined or value in self.parts)

    def values(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.combined, *self.parts)))


def _claim_value(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None and name == "username":
        value = claims.get("cognito:username")
    if value is None or isinstance(value, dict | list | tuple | bool):
        return None
    text = str(value)
    return text if text else None


def owner_claim(identity: Identity, claim: str) -> OwnerClaim | None:
    """Resolve ``claim`` (``sub::username``, ``email``, ...) from the caller's token claims.

    ``None`` when any part is missing: the rule is then skipped (no match, no auto-population).
    """
    names = claim.split("::")
    values: list[str] = []
    for name in names:
        value = _claim_value(identity.claims, name)
        if value is None:
            return None
        values.append(value)
    combined = "::".join(values)
    return OwnerClaim(combined, tuple(values) if len(values) > 1 else ())


def caller_groups(identity: Identity, claim: str = DEFAULT_GROUP_CLAIM) -> tuple[str, ...]:
    """The caller's groups from a token claim: a list, or a string (a JSON list or one group)."""
    value: Any = identity.claims.get(claim)
    if isinstance(value, str):
        text = value.strip()
        parsed: Any = None
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
        value = parsed if isinstance(parsed, list) else ([text] if text else [])
    if isinstance(value, list | tuple):
        return tuple(dict.fromkeys(str(v) for v in value if v is not None))
    return ()


def project_owner_value(value: Any) -> Any:
    """The read form of a stored owner value: the part after the last ``::`` (lists element-wise)."""
    if isinstance(value, str):
        return value.rsplit("::", 1)[-1]
    if isinstance(value, list):
        return [project_owner_value(v) for v in value]
    return value


def bypasses_rules(identity: Identity, iam: IamSettings) -> bool:
    """Trusted in-process calls, Gen 2 generic IAM principals and admin roles skip every rule."""
    if identity.trusted:
        return True
    if identity.mode != "iam":
        return False
    info = identity.iam
    if iam.enable_iam_access and not info.get("cognitoIdentityPoolId") and not info.get("cognitoIdentityId"):
        return True
    arn = str(info.get("userArn") or "")
    if arn and arn not in (iam.auth_role_arn, iam.unauth_role_arn):
        return any(name and name in arn for name in iam.admin_role_names)
    return False


def _iam_guest(identity: Identity, iam: IamSettings) -> bool:
    return identity.iam.get("userArn") == iam.unauth_role_arn


def _iam_authenticated(identity: Identity, iam: IamSettings) -> bool:
    info = identity.iam
    if info.get("userArn") == iam.auth_role_arn:
        return True
    return (
        info.get("cognitoIdentityPoolId") == iam.identity_pool_id
        and info.get("cognitoIdentityAuthType") == "authenticated"
    )


def static_admits(role: Role, identity: Identity, iam: IamSettings) -> bool:
    """Whether a static role admits the caller (decidable from the credentials alone)."""
    if role.dynamic or identity.mode != role.mode:
        return False
    if role.strategy is Strategy.PUBLIC:
        return _iam_guest(identity, iam) if role.mode == "iam" else role.mode == "apiKey"
    if role.strategy is Strategy.PRIVATE:
        return _iam_authenticated(identity, iam) if role.mode == "iam" else True
    if role.strategy is Strategy.CUSTOM:
        return role.mode == "lambda"
    if role.strategy is Strategy.STATIC_GROUP:
        return role.entity in caller_groups(identity, role.claim or DEFAULT_GROUP_CLAIM)
    return False


# ---------------------------------------------------------------------------- model policy


def _or(items: Sequence[Predicate]) -> Predicate:
    if not items:
        return FALSE
    return items[0] if len(items) == 1 else Or(tuple(items))


class ModelPolicy:
    """The access matrix of one model and every decision derived from it."""

    def __init__(self, model: ModelDef, rules: Sequence[AuthRule], settings: PolicySettings) -> None:
        self.model = model
        self.settings = settings
        self.iam = settings.iam
        self.rules = tuple(rules)
        declared = [f for f in model.fields if f.origin is FieldOrigin.DECLARED]
        if not declared:
            declared = [
                f
                for f in model.fields
                if f.origin not in (FieldOrigin.ID, FieldOrigin.TIMESTAMP, FieldOrigin.OWNER)
            ]
        self.matrix_fields: tuple[str, ...] = tuple(f.name for f in declared)
        self.matrix: dict[Role, dict[str, frozenset[str]]] = {}
        for f in declared:
            field_rules = f.auth_rules if f.auth_rules is not None else self.rules
            for rule in field_rules:
                ops = effective_operations(rule)
                for role in roles_of(rule, settings):
                    row = self.matrix.setdefault(role, {})
                    row[f.name] = row.get(f.name, frozenset()) | ops
        if not declared:
            for rule in self.rules:
                for role in roles_of(rule, settings):
                    self.matrix.setdefault(role, {})
        self.roles: tuple[Role, ...] = tuple(self.matrix)
        # Fields every write may carry although they are not in the matrix.
        auto: set[str] = {f.name for f in model.fields if f.origin is FieldOrigin.IMPLICIT_KEY}
        for index in model.indexes:
            if len(index.sort_keys) > 1:
                auto.update(index.sort_keys)
        auto.update(("_version", "_deleted", "_lastChangedAt"))
        self.auto_fields = frozenset(auto)
        self._roles_by_op: dict[str, tuple[Role, ...]] = {}
        self._api_key_reads: dict[str, bool] = {}
        self.protected_fields: tuple[str, ...] = self._protected_fields()
        self.owner_projection: tuple[str, ...] = self._owner_projection()

    # -------------------------------------------------------------- matrix queries

    def field_ops(self, role: Role, field_name: str) -> frozenset[str]:
        return self.matrix.get(role, {}).get(field_name, frozenset())

    def fields_with(self, role: Role, op: str) -> frozenset[str]:
        return frozenset(f for f, ops in self.matrix.get(role, {}).items() if op in ops)

    def on_all_fields(self, role: Role, *ops: str) -> bool:
        row = self.matrix.get(role, {})
        return all(all(op in row.get(f, ()) for op in ops) for f in self.matrix_fields)

    def roles_for(self, op: str) -> tuple[Role, ...]:
        """Roles with ``op`` on at least one field (``delete``: on every field); computed once per op."""
        cached = self._roles_by_op.get(op)
        if cached is None:
            if op == "delete":
                cached = tuple(
                    r for r in self.roles if self.matrix_fields and self.on_all_fields(r, "delete")
                )
            else:
                cached = tuple(r for r in self.roles if any(op in ops for ops in self.matrix[r].values()))
            self._roles_by_op[op] = cached
        return cached

    def modes_for(self, op: str) -> frozenset[str]:
        """Authorization modes with at least one role for ``op`` (the directive layer)."""
        return frozenset(r.mode for r in self.roles_for(op))

    def _field_def(self, name: str | None) -> FieldDef | None:
        return None if name is None else self.model.get_field(name)

    def _protected_fields(self) -> tuple[str, ...]:
        read_roles = [
            r for r in self.roles if any("get" in ops or "list" in ops for ops in self.matrix[r].values())
        ]
        protected: list[str] = []
        for name in self.matrix_fields:
            if any(not ({"get", "list"} & self.field_ops(r, name)) for r in read_roles):
                protected.append(name)
        return tuple(protected)

    def _owner_projection(self) -> tuple[str, ...]:
        names = [
            role.entity
            for role in self.roles
            if role.strategy is Strategy.OWNER and role.claim and "::" in role.claim and role.entity
        ]
        return tuple(dict.fromkeys(n for n in names if self.model.get_field(n) is not None))

    # -------------------------------------------------------------- dynamic roles

    def role_predicate(self, role: Role, identity: Identity) -> Predicate | None:
        """The stored-record predicate a dynamic role admits the caller through (``None``: none)."""
        if identity.mode != role.mode:
            return None
        fdef = self._field_def(role.entity)
        if fdef is None or role.entity is None:
            return None
        name = role.entity
        if role.strategy is Strategy.OWNER:
            claim = owner_claim(identity, role.claim or self.settings.default_identity_claim())
            if claim is None:
                return None
            if fdef.type.is_list:
                return _or([Contains(name, v) for v in claim.values()])
            return _or([Compare(name, "eq", v) for v in claim.values()])
        if role.strategy is Strategy.DYNAMIC_GROUP:
            groups = caller_groups(identity, role.claim or DEFAULT_GROUP_CLAIM)
            if not groups:
                return None
            if fdef.type.is_list:
                return _or([Contains(name, g) for g in groups])
            return In(name, groups)
        return None

    def _value_admits(self, role: Role, identity: Identity, value: Any) -> bool:
        """Whether a (given or stored) owner / group value admits the caller."""
        fdef = self._field_def(role.entity)
        if fdef is None or value is None:
            return False
        values = value if isinstance(value, list | tuple) else [value]
        if role.strategy is Strategy.OWNER:
            claim = owner_claim(identity, role.claim or self.settings.default_identity_claim())
            return claim is not None and any(claim.matches(v) for v in values)
        if role.strategy is Strategy.DYNAMIC_GROUP:
            groups = set(caller_groups(identity, role.claim or DEFAULT_GROUP_CLAIM))
            return any(isinstance(v, str) and v in groups for v in values)
        return False

    def admits_record(self, role: Role, identity: Identity, record: Mapping[str, Any]) -> bool:
        if not role.dynamic:
            return static_admits(role, identity, self.iam)
        if identity.mode != role.mode or role.entity is None:
            return False
        return self._value_admits(role, identity, record.get(role.entity))

    def bypass(self, identity: Identity) -> bool:
        return bypasses_rules(identity, self.iam)

    # -------------------------------------------------------------- reads

    def read_filter(self, identity: Identity, op: str, field_name: str, type_name: str) -> Predicate | None:
        """Authorize a read (``get list sync search``); the predicate rows must satisfy, or ``None``.

        Raises ``Not Authorized to access <field> on type <type>`` when no static role admits the
        caller and no owner / dynamic-group filter can be built.
        """
        if identity.mode == "apiKey":  # only public API-key roles can admit it: decided once per op
            public = self._api_key_reads.get(op)
            if public is None:
                public = self._api_key_reads[op] = any(
                    r.mode == "apiKey" and r.strategy is Strategy.PUBLIC for r in self.roles_for(op)
                )
            if public:
                return None
        elif self.bypass(identity):
            return None
        filters: list[Predicate] = []
        for role in self.roles_for(op):
            if role.dynamic:
                predicate = self.role_predicate(role, identity)
                if predicate is not None:
                    filters.append(predicate)
            elif static_admits(role, identity, self.iam):
                return None
        if filters:
            return _or(filters)
        raise not_authorized(field_name, type_name)

    def check_get(
        self,
        identity: Identity,
        record: Mapping[str, Any] | None,
        field_name: str,
        type_name: str = "Query",
    ) -> None:
        """``getX`` (or a hasOne/belongsTo field): a missing record is fine (null, no error); one the
        caller may not read is ``Not Authorized to access <field> on type <type>``."""
        predicate = self.read_filter(identity, "get", field_name, type_name)
        if record is not None and predicate is not None and not evaluate(predicate, dict(record)):
            raise not_authorized(field_name, type_name)

    def field_readable(self, identity: Identity, record: Mapping[str, Any], name: str) -> bool:
        """Whether the caller may read field ``name`` of ``record`` (only protected fields can fail)."""
        if name not in self.protected_fields or self.bypass(identity):
            return True
        for role in self.roles:
            ops = self.field_ops(role, name)
            if ("get" in ops or "list" in ops) and self.admits_record(role, identity, record):
                return True
        return False

    def denied_fields(self, identity: Identity, record: Mapping[str, Any]) -> tuple[str, ...]:
        """Fields of ``record`` the caller may not read (to null): protected fields no role admits,
        then the fields of this model a Lambda authorizer listed in ``deniedFields``."""
        denied: tuple[str, ...] = ()
        if self.protected_fields and not self.bypass(identity):
            denied = tuple(n for n in self.protected_fields if not self.field_readable(identity, record, n))
        if identity.denied_fields:
            pairs = denied_field_pairs(identity.denied_fields)
            denied += tuple(
                f.name
                for f in self.model.fields
                if (self.model.name, f.name) in pairs and f.name not in denied
            )
        return denied

    def project(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record as clients see owner fields (``sub::alice`` → ``alice``)."""
        result = dict(record)
        for name in self.owner_projection:
            if name in result:
                result[name] = project_owner_value(result[name])
        return result

    # -------------------------------------------------------------- writes

    def authorize_create(
        self, identity: Identity, values: Mapping[str, Any], field_name: str
    ) -> dict[str, Any]:
        """Authorize ``createX``; returns the input with owner fields auto-populated."""
        result = dict(values)
        if self.bypass(identity):
            return result
        keys = list(values)
        full = False
        allowed: set[str] = set()
        roles = self.roles_for("create")

        def grant(role: Role) -> None:
            nonlocal full
            if self.on_all_fields(role, "create"):
                full = True
            else:
                allowed.update(self.fields_with(role, "create"))

        for role in roles:
            if not role.dynamic and static_admits(role, identity, self.iam):
                grant(role)
        for role in roles:
            if role.strategy is not Strategy.OWNER or role.mode != identity.mode or role.entity is None:
                continue
            fdef = self._field_def(role.entity)
            claim = owner_claim(identity, role.claim or self.settings.default_identity_claim())
            if fdef is None or claim is None:
                continue
            name = role.entity
            given = result.get(name)
            populated: Any = [claim.combined] if fdef.type.is_list else claim.combined
            if full:
                if (
                    self.settings.populate_owner_field_for_static_group_auth
                    and given is None
                    and name not in result
                ):
                    result[name] = populated
                continue
            if given is not None and self._value_admits(role, identity, given):
                grant(role)
            elif given is None and name not in result:
                result[name] = populated
                grant(role)
        if not full:
            for role in roles:
                if (
                    role.strategy is Strategy.DYNAMIC_GROUP
                    and role.entity is not None
                    and role.mode == identity.mode
                    and self._value_admits(role, identity, result.get(role.entity))
                ):
                    grant(role)
        if full:
            return result
        if not allowed:
            raise not_authorized(field_name, "Mutation")
        allowed.update(self.auto_fields)
        denied = [k for k in keys if k not in allowed]
        if denied:
            raise unauthorized_fields(denied)
        return result

    def authorize_update(
        self,
        identity: Identity,
        stored: Mapping[str, Any] | None,
        values: Mapping[str, Any],
        field_name: str,
    ) -> Predicate | None:
        """Authorize ``updateX`` against the stored record; returns a guard predicate (or ``None``).

        The guard is what admitted the caller through a dynamic role; storage should apply it as
        a condition so the check and the write see the same record.
        """
        if self.bypass(identity):
            return None
        full = False
        static_ok = False
        allowed: set[str] = set()
        null_allowed: set[str] = set()
        guards: list[Predicate] = []
        for role in self.roles_for("update"):
            if role.dynamic:
                if stored is None or not self.admits_record(role, identity, stored):
                    continue
                predicate = self.role_predicate(role, identity)
                if predicate is not None:
                    guards.append(predicate)
            elif static_admits(role, identity, self.iam):
                static_ok = True
            else:
                continue
            if self.on_all_fields(role, "update", "delete"):
                full = True
            else:
                allowed.update(self.fields_with(role, "update"))
                null_allowed.update(self.fields_with(role, "delete"))
        if not full and not allowed:
            raise not_authorized(field_name, "Mutation")
        if not full:
            always = set(self.model.primary_key) | self.auto_fields
            denied = [
                k
                for k, v in values.items()
                if k not in always and (k not in allowed or (v is None and k not in null_allowed))
            ]
            if denied:
                raise unauthorized_fields(denied)
        return None if static_ok or not guards else _or(guards)

    def authorize_delete(
        self, identity: Identity, stored: Mapping[str, Any] | None, field_name: str
    ) -> Predicate | None:
        """Authorize ``deleteX`` (needs ``delete`` on every field); returns a guard like update."""
        if self.bypass(identity):
            return None
        guards: list[Predicate] = []
        for role in self.roles_for("delete"):
            if role.dynamic:
                if stored is not None and self.admits_record(role, identity, stored):
                    predicate = self.role_predicate(role, identity)
                    if predicate is not None:
                        guards.append(predicate)
            elif static_admits(role, identity, self.iam):
                return None
        if guards:
            return _or(guards)
        raise not_authorized(field_name, "Mutation")

    # -------------------------------------------------------------- subscriptions

    def subscription_filter(
        self, identity: Identity, field_name: str, arguments: Mapping[str, Any]
    ) -> Predicate | None:
        """Authorize ``onCreateX``/... at subscribe time; the per-event filter, or ``None`` (all).

        ``arguments`` are the subscription's owner-field arguments; a value that is not the
        caller's identity is rejected. The filter matches the projected (username-only) values
        of mutation responses as well as the stored forms.
        """
        if self.bypass(identity):
            return None
        filters: list[Predicate] = []
        roles = self.roles_for("listen")
        for role in roles:
            if not role.dynamic and static_admits(role, identity, self.iam):
                return None
        for role in roles:
            if not role.dynamic or role.mode != identity.mode:
                continue
            fdef = self._field_def(role.entity)
            if fdef is None or role.entity is None:
                continue
            if role.strategy is Strategy.OWNER and not fdef.type.is_list:
                given = arguments.get(role.entity)
                if given is not None and not self._value_admits(role, identity, given):
                    raise not_authorized(field_name, "Subscription")
            predicate = self.role_predicate(role, identity)
            if predicate is not None:
                filters.append(predicate)
        if filters:
            return _or(filters)
        raise not_authorized(field_name, "Subscription")

    # -------------------------------------------------------------- summaries

    def read_roles(self, field_name: str | None = None) -> frozenset[Role]:
        """Roles that can read ``field_name`` (``None``: any field of the model)."""
        if field_name is None:
            return frozenset(self.roles_for("get")) | frozenset(self.roles_for("list"))
        return frozenset(r for r in self.roles if {"get", "list"} & self.field_ops(r, field_name))


# ---------------------------------------------------------------------------- schema policy


class SchemaPolicy:
    """Every model's :class:`ModelPolicy`, custom-operation checks and mode questions."""

    def __init__(self, schema: SchemaDef, settings: PolicySettings | None = None) -> None:
        self.schema = schema
        self.settings = settings or PolicySettings.for_schema(schema)
        self.models: dict[str, ModelPolicy] = {
            m.name: ModelPolicy(m, m.auth_rules or schema.schema_auth_rules, self.settings)
            for m in schema.models
        }

    def model(self, name: str) -> ModelPolicy:
        return self.models[name]

    def mode_enabled(self, mode: str) -> bool:
        return self.settings.mode_enabled(mode)

    def bypass(self, identity: Identity) -> bool:
        return bypasses_rules(identity, self.settings.iam)

    def check_operation(self, identity: Identity, op: CustomOperationDef) -> None:
        """Custom query/mutation/subscription: static rules only; no rules → the default mode."""
        if self.bypass(identity):
            return
        rules = op.auth_rules
        if not rules:
            if identity.mode == self.settings.default_mode:
                return
            raise not_authorized(op.name, op.kind.value)
        for rule in rules:
            for role in roles_of(rule, self.settings):
                if static_admits(role, identity, self.settings.iam):
                    return
        raise not_authorized(op.name, op.kind.value)

    def redacted_relations(self, model_name: str) -> tuple[str, ...]:
        """Relational fields nulled in ``model_name``'s mutation responses (and so in events).

        A relation is redacted unless its read roles on the parent and the related model's read
        roles are the same static roles, the field is required, or
        ``subscriptions_inherit_primary_auth`` is set.
        """
        if self.settings.subscriptions_inherit_primary_auth:
            return ()
        policy = self.models[model_name]
        redacted: list[str] = []
        for f in policy.model.fields:
            rel = f.relation
            if rel is None or f.type.required:
                continue
            related = self.models.get(rel.related_model)
            if related is None:
                continue
            here = policy.read_roles(f.name) if f.name in policy.matrix_fields else policy.read_roles()
            there = related.read_roles()
            if any(r.dynamic or r.strategy is Strategy.CUSTOM for r in (*here, *there)) or here != there:
                redacted.append(f.name)
        return tuple(redacted)
