"""The Python DSL mirroring Amplify Gen 2's ``a.schema({...})``.

::

    from ampbase import a, define_data

    schema = a.schema({
        "Todo": a.model({"content": a.string(), "isDone": a.boolean()})
                 .authorization(lambda allow: [allow.public_api_key()]),
    })
    data = define_data(schema=schema, authorization_modes={
        "default_authorization_mode": "apiKey",
        "api_key_authorization_mode": {"expires_in_days": 30}})

``load_resource(path)`` imports such a module and returns its declared
:class:`~ampbase.schema.ir.SchemaDef` (normalise it with ``resolve_schema``).
"""

from __future__ import annotations

from ampbase.schema.dsl.auth import Allow, ResourceAccess, RuleBuilder
from ampbase.schema.dsl.data import DataDefinition, define_data
from ampbase.schema.dsl.fields import RefField, ScalarField
from ampbase.schema.dsl.indexes import IndexBuilder
from ampbase.schema.dsl.loader import load_resource, load_resource_module
from ampbase.schema.dsl.model import ModelBuilder
from ampbase.schema.dsl.namespace import A, a
from ampbase.schema.dsl.operations import CustomHandler, CustomOperationBuilder, FunctionHandler
from ampbase.schema.dsl.relationships import Relationship
from ampbase.schema.dsl.schema import SchemaBuilder
from ampbase.schema.dsl.types import CustomTypeBuilder, EnumBuilder

__all__ = [
    "A",
    "Allow",
    "CustomHandler",
    "CustomOperationBuilder",
    "CustomTypeBuilder",
    "DataDefinition",
    "EnumBuilder",
    "FunctionHandler",
    "IndexBuilder",
    "ModelBuilder",
    "RefField",
    "Relationship",
    "ResourceAccess",
    "RuleBuilder",
    "ScalarField",
    "SchemaBuilder",
    "a",
    "define_data",
    "load_resource",
    "load_resource_module",
]
