"""``a.has_many``, ``a.has_one`` and ``a.belongs_to`` (Gen 2 ``references`` style).

The reference fields are ordinary declared fields: on the related model for
``has_many``/``has_one``, on this model for ``belongs_to``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from ampbase.schema.dsl.auth import AuthCallback, collect_rules
from ampbase.schema.dsl.fields import FieldRules
from ampbase.schema.dsl.source import caller_location, definition_error
from ampbase.schema.ir import RelationKind, SourceLocation

__all__ = ["Relationship", "make_relationship"]

_BUILDER = {
    RelationKind.HAS_MANY: "has_many",
    RelationKind.HAS_ONE: "has_one",
    RelationKind.BELONGS_TO: "belongs_to",
}


@dataclass(frozen=True, slots=True)
class Relationship:
    kind: RelationKind
    related_model: str
    references: tuple[str, ...]
    source: SourceLocation
    rules: FieldRules | None = None
    rules_source: SourceLocation | None = None

    def describe(self) -> str:
        return f"a.{_BUILDER[self.kind]}({self.related_model!r}, {list(self.references)!r})"

    def authorization(self, callback: AuthCallback) -> Relationship:
        """Field-level rules for the relationship field."""
        source = caller_location()
        if self.rules is not None:
            raise definition_error(f"{self.describe()} already has .authorization()", source=source)
        rules = collect_rules(callback, where=f"field {self.describe()}", source=source)
        return dataclasses.replace(self, rules=rules, rules_source=source)

    def required(self) -> NoReturn:
        raise definition_error(
            f"{self.describe()}.required() is not supported",
            hint="a relationship is required when its reference fields are: use a.id().required()",
        )

    def array(self) -> NoReturn:
        raise definition_error(
            f"{self.describe()}.array() is not supported",
            hint="use a.has_many(...) for a list of related records",
        )


def make_relationship(kind: RelationKind, related_model: object, references: object) -> Relationship:
    source = caller_location()
    builder = _BUILDER[kind]
    if not isinstance(related_model, str) or not related_model:
        raise definition_error(
            f"a.{builder}() needs the related model's name first, got {related_model!r}",
            source=source,
            hint=f"a.{builder}('Team', 'teamId')",
        )
    refs: tuple[str, ...]
    if isinstance(references, str):
        refs = (references,)
    elif isinstance(references, Sequence) and references and all(isinstance(r, str) for r in references):
        refs = tuple(references)
    else:
        raise definition_error(
            f"a.{builder}({related_model!r}, ...) needs the reference field name(s), got {references!r}",
            source=source,
            hint=f"a.{builder}({related_model!r}, 'teamId') or a list for composite keys",
        )
    if len(set(refs)) != len(refs):
        raise definition_error(f"a.{builder}({related_model!r}) lists a reference field twice", source=source)
    return Relationship(kind, related_model, refs, source)
