"""The ``a`` namespace: ``a.model``, ``a.string``, ``a.has_many``, ``a.query``, ``a.handler``..."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ampbase.schema.dsl.fields import RefField, ScalarField
from ampbase.schema.dsl.model import ModelBuilder, make_model
from ampbase.schema.dsl.operations import CustomOperationBuilder, HandlerNamespace, make_operation
from ampbase.schema.dsl.relationships import Relationship, make_relationship
from ampbase.schema.dsl.schema import SchemaBuilder, make_schema
from ampbase.schema.dsl.source import caller_location, definition_error, is_text
from ampbase.schema.dsl.types import CustomTypeBuilder, EnumBuilder, make_custom_type, make_enum
from ampbase.schema.ir import OperationKind, RelationKind

__all__ = ["A", "a"]


def _scalar(builder: str, scalar: str) -> ScalarField:
    return ScalarField(builder=builder, scalar=scalar, source=caller_location())


class A:
    """Builders for a data schema, mirroring Amplify Gen 2's ``a`` in snake_case."""

    __slots__ = ("handler",)

    def __init__(self) -> None:
        self.handler = HandlerNamespace()

    # ---------------------------------------------------------------- schema & types

    def schema(self, types: Mapping[str, Any]) -> SchemaBuilder:
        """The schema: ``a.schema({"Todo": a.model({...}), ...})``."""
        return make_schema(types)

    def model(self, fields: Mapping[str, Any]) -> ModelBuilder:
        """A data model backed by a table, with generated queries, mutations and subscriptions."""
        return make_model(fields)

    def custom_type(self, fields: Mapping[str, Any]) -> CustomTypeBuilder:
        """A non-model object type, stored inline in the model that uses it."""
        return make_custom_type(fields)

    def enum(self, values: Sequence[str]) -> EnumBuilder:
        """An enum: ``a.enum(["LOW", "HIGH"])``."""
        return make_enum(values)

    def ref(self, name: str) -> RefField:
        """A reference to an enum, custom type (or, in custom operations, a model) by name."""
        source = caller_location()
        if not is_text(name):
            raise definition_error(f"a.ref() needs a type name, got {name!r}", source=source)
        return RefField(target=name, source=source)

    # ---------------------------------------------------------------- scalars

    def id(self) -> ScalarField:
        return _scalar("id", "ID")

    def string(self) -> ScalarField:
        return _scalar("string", "String")

    def integer(self) -> ScalarField:
        return _scalar("integer", "Int")

    def float(self) -> ScalarField:
        return _scalar("float", "Float")

    def boolean(self) -> ScalarField:
        return _scalar("boolean", "Boolean")

    def date(self) -> ScalarField:
        return _scalar("date", "AWSDate")

    def time(self) -> ScalarField:
        return _scalar("time", "AWSTime")

    def datetime(self) -> ScalarField:
        return _scalar("datetime", "AWSDateTime")

    def timestamp(self) -> ScalarField:
        return _scalar("timestamp", "AWSTimestamp")

    def email(self) -> ScalarField:
        return _scalar("email", "AWSEmail")

    def json(self) -> ScalarField:
        return _scalar("json", "AWSJSON")

    def phone(self) -> ScalarField:
        return _scalar("phone", "AWSPhone")

    def url(self) -> ScalarField:
        return _scalar("url", "AWSURL")

    def ip_address(self) -> ScalarField:
        return _scalar("ip_address", "AWSIPAddress")

    # ---------------------------------------------------------------- relationships

    def has_many(self, related_model: str, references: str | Sequence[str]) -> Relationship:
        """One-to-many: ``a.has_many("Member", "teamId")`` (``teamId`` is on ``Member``)."""
        return make_relationship(RelationKind.HAS_MANY, related_model, references)

    def has_one(self, related_model: str, references: str | Sequence[str]) -> Relationship:
        """One-to-one: ``a.has_one("Cart", "customerId")`` (``customerId`` is on ``Cart``)."""
        return make_relationship(RelationKind.HAS_ONE, related_model, references)

    def belongs_to(self, related_model: str, references: str | Sequence[str]) -> Relationship:
        """The other side: ``a.belongs_to("Team", "teamId")`` (``teamId`` is on this model)."""
        return make_relationship(RelationKind.BELONGS_TO, related_model, references)

    # ---------------------------------------------------------------- custom operations

    def query(self) -> CustomOperationBuilder:
        return make_operation(OperationKind.QUERY)

    def mutation(self) -> CustomOperationBuilder:
        return make_operation(OperationKind.MUTATION)

    def subscription(self) -> CustomOperationBuilder:
        return make_operation(OperationKind.SUBSCRIPTION)

    def __getattr__(self, name: str) -> Any:
        snake = "".join("_" + c.lower() if c.isupper() else c for c in name)
        if snake != name and snake in dir(A):
            raise AttributeError(f"a.{name} does not exist; did you mean a.{snake}?")
        raise AttributeError(f"a.{name} does not exist")


a: A = A()
