"""``define_backend(data=data)``: customise the resources ampbase generates for a schema.

The Python counterpart of Gen 2's ``amplify/backend.ts``::

    from ampbase import define_backend
    from data.resource import data

    backend = define_backend(data=data)
    todo = backend.data.resources.tables["Todo"]
    todo.time_to_live_attribute = {"attribute_name": "ttl", "enabled": True}
    todo.point_in_time_recovery_enabled = True
    todo.provisioned_throughput = {"read_capacity_units": 50, "write_capacity_units": 10}
    backend.data.resources.graphql_api.tracing_enabled = True

Gen 2's L1 spellings work too: ``resources.cfn_resources.amplify_dynamo_db_tables["Todo"]``
and ``resources.cfn_resources.cfn_graphql_api.xray_enabled``. The loader finds the
``backend`` (:func:`find_backend`) and :func:`apply_backend` turns it into the schema's
:class:`~ampbase.schema.ir.ResourceConfig`, which the engine and server act on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ampbase.errors import SchemaDefinitionError
from ampbase.schema.dsl.data import DataDefinition
from ampbase.schema.dsl.source import caller_location
from ampbase.schema.ir import ResourceConfig, SchemaDef, SourceLocation, TableConfig

__all__ = [
    "BACKEND_FILE",
    "Backend",
    "DataResources",
    "GraphqlApiResource",
    "TableResource",
    "Tables",
    "apply_backend",
    "define_backend",
    "find_backend",
]

BACKEND_FILE = "backend.py"
_BILLING_MODES = ("PAY_PER_REQUEST", "PROVISIONED")


@dataclass(slots=True)
class TableResource:
    """One model's table (Gen 2 ``amplifyDynamoDbTables["Todo"]``), snake_case."""

    name: str
    time_to_live_attribute: Mapping[str, Any] | None = None
    point_in_time_recovery_enabled: bool = False
    billing_mode: str | None = None
    provisioned_throughput: Mapping[str, Any] | None = None

    def to_config(self, where: SourceLocation | None) -> TableConfig:
        label = f'tables["{self.name}"]'
        ttl: str | None = None
        spec: object = self.time_to_live_attribute
        if spec is not None:
            if not isinstance(spec, Mapping) or not isinstance(spec.get("attribute_name"), str):
                raise SchemaDefinitionError(
                    f"{label}.time_to_live_attribute must be a dict with 'attribute_name', got {spec!r}",
                    source=where,
                    hint='{"attribute_name": "ttl", "enabled": True}',
                )
            if spec.get("enabled", True):
                ttl = spec["attribute_name"]
        read = write = None
        if self.billing_mode is not None and self.billing_mode not in _BILLING_MODES:
            raise SchemaDefinitionError(
                f"{label}.billing_mode must be 'PAY_PER_REQUEST' or 'PROVISIONED', got {self.billing_mode!r}",
                source=where,
            )
        throughput = self.provisioned_throughput
        if throughput is not None:
            if self.billing_mode == "PAY_PER_REQUEST":
                raise SchemaDefinitionError(
                    f"{label}.provisioned_throughput needs billing_mode 'PROVISIONED'",
                    source=where,
                    hint="remove billing_mode = 'PAY_PER_REQUEST' or the provisioned_throughput",
                )
            if not isinstance(throughput, Mapping):
                raise SchemaDefinitionError(
                    f"{label}.provisioned_throughput must be a dict, got {throughput!r}",
                    source=where,
                    hint='{"read_capacity_units": 5, "write_capacity_units": 5}',
                )
            read = _capacity(throughput, "read_capacity_units", label, where)
            write = _capacity(throughput, "write_capacity_units", label, where)
        return TableConfig(
            self.name,
            ttl_attribute=ttl,
            point_in_time_recovery=bool(self.point_in_time_recovery_enabled),
            read_capacity=read,
            write_capacity=write,
        )


def _capacity(spec: Mapping[str, Any], key: str, label: str, where: SourceLocation | None) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SchemaDefinitionError(
            f"{label}.provisioned_throughput[{key!r}] must be a positive number, got {value!r}",
            source=where,
        )
    return float(value)


class Tables(Mapping[str, TableResource]):
    """``resources.tables``: one :class:`TableResource` per model, created on first access."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self._tables: dict[str, TableResource] = {n: TableResource(n) for n in names}

    def __getitem__(self, name: str) -> TableResource:
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = TableResource(name)
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


@dataclass(slots=True)
class GraphqlApiResource:
    """The GraphQL API (Gen 2 ``graphqlApi`` / ``cfnGraphqlApi``)."""

    tracing_enabled: bool = False

    @property
    def xray_enabled(self) -> bool:
        """Gen 2's name: turns on ampbase's OpenTelemetry tracing."""
        return self.tracing_enabled

    @xray_enabled.setter
    def xray_enabled(self, value: bool) -> None:
        self.tracing_enabled = value


@dataclass(slots=True)
class _CfnResources:
    amplify_dynamo_db_tables: Tables
    cfn_graphql_api: GraphqlApiResource


@dataclass(slots=True)
class DataResources:
    tables: Tables
    graphql_api: GraphqlApiResource = field(default_factory=GraphqlApiResource)

    @property
    def cfn_resources(self) -> _CfnResources:
        """Gen 2's L1 names for the same objects."""
        return _CfnResources(self.tables, self.graphql_api)

    @property
    def amplify_dynamo_db_tables(self) -> Tables:
        return self.tables


@dataclass(slots=True)
class _DataBackend:
    definition: DataDefinition | None
    resources: DataResources


@dataclass(slots=True)
class Backend:
    """What :func:`define_backend` returns; customise ``backend.data.resources``."""

    data: _DataBackend
    source: SourceLocation | None = None


def define_backend(*, data: DataDefinition | None = None) -> Backend:
    """The backend of a data resource: ``backend = define_backend(data=data)``.

    ``data`` may be omitted for an SDL schema; table names are then checked when the
    server loads the schema.
    """
    source = caller_location()
    if data is not None and not isinstance(data, DataDefinition):
        raise SchemaDefinitionError(
            f"define_backend(data=...) needs define_data(...), got {type(data).__name__}",
            source=source,
            hint="from data.resource import data; backend = define_backend(data=data)",
        )
    names = tuple(m.name for m in data.schema.models) if data is not None else ()
    return Backend(_DataBackend(data, DataResources(Tables(names))), source)


def apply_backend(schema: SchemaDef, backend: Backend) -> SchemaDef:
    """``schema`` with ``backend``'s customisations as its :class:`ResourceConfig`."""
    resources = backend.data.resources
    models = {m.name: m for m in schema.models}
    tables: list[TableConfig] = []
    for name, table in resources.tables.items():
        if name not in models:
            raise SchemaDefinitionError(
                f'backend.data.resources.tables["{name}"]: the schema has no model {name!r}',
                source=backend.source,
                hint="models: " + ", ".join(sorted(models)),
            )
        config = table.to_config(backend.source)
        if config.ttl_attribute is not None:
            model = models[name]
            if model.fields and model.get_field(config.ttl_attribute) is None:
                raise SchemaDefinitionError(
                    f'tables["{name}"].time_to_live_attribute: {name} has no field {config.ttl_attribute!r}',
                    source=backend.source,
                    hint=f"add it to the model: {config.ttl_attribute!r}: a.timestamp()  (epoch seconds)",
                )
        if config != TableConfig(name):
            tables.append(config)
    result = ResourceConfig(tables=tuple(tables), tracing=bool(resources.graphql_api.tracing_enabled))
    return dataclasses.replace(schema, resources=result)


def find_backend(schema_path: Path, module: Any = None) -> Backend | None:
    """The ``backend`` for the schema at ``schema_path``: the schema module's own ``backend``
    attribute, else ``backend.py`` next to the schema, else in its parent folder (Gen 2 layout:
    ``amplify/backend.py`` beside ``amplify/data/resource.py``)."""
    found = getattr(module, "backend", None) if module is not None else None
    if isinstance(found, Backend):
        return found
    folder = schema_path if schema_path.is_dir() else schema_path.parent
    for candidate in (folder / BACKEND_FILE, folder.parent / BACKEND_FILE):
        if candidate.is_file() and candidate.resolve() != schema_path.resolve():
            return _load_backend_file(candidate)
    return None


def _load_backend_file(path: Path) -> Backend:
    from ampbase.schema.dsl.loader import load_resource_module

    module = load_resource_module(path)
    backend = getattr(module, "backend", None)
    if not isinstance(backend, Backend):
        raise SchemaDefinitionError(
            f"{path.name} defines no `backend`",
            source=SourceLocation(str(path)),
            hint="backend = define_backend(data=data)",
        )
    return backend
