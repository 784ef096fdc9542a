"""Operator inputs of the AppSync API: the always-present base inputs and the scalar mappings.

``specs/generated-schema.md`` §3: which ``Model*Input`` a field type filters with, in list
filters/conditions, in subscription filters and as a sort-key condition.
"""

from __future__ import annotations

from ampbase.compiler.printer import Document, Field, TypeDefinition
from ampbase.schema import naming
from ampbase.schema.ir import TypeKind, TypeRef

__all__ = [
    "AWS_SCALARS",
    "add_base_inputs",
    "add_enum_filter_inputs",
    "add_key_condition_input",
    "filter_input_for",
    "key_scalar",
    "subscription_filter_input_for",
]

AWS_SCALARS: tuple[str, ...] = (
    "AWSDate",
    "AWSTime",
    "AWSDateTime",
    "AWSTimestamp",
    "AWSEmail",
    "AWSJSON",
    "AWSPhone",
    "AWSURL",
    "AWSIPAddress",
)

# scalar → the base name of its operator inputs (ModelStringInput, ModelSubscriptionStringInput)
_OPERATOR_SCALAR: dict[str, str] = {
    "ID": "ID",
    "String": "String",
    "Int": "Int",
    "AWSTimestamp": "Int",
    "Float": "Float",
    "Boolean": "Boolean",
    **{s: "String" for s in AWS_SCALARS if s != "AWSTimestamp"},
}


def _fields(spec: str) -> list[Field]:
    result = []
    for part in spec.split():
        name, type_ = part.split(":")
        result.append(Field(name, type_))
    return result


def _comparisons(t: str) -> str:
    return f"ne:{t} eq:{t} le:{t} lt:{t} ge:{t} gt:{t}"


def add_base_inputs(doc: Document) -> None:
    """The inputs and enums the transformer writes into every API."""
    doc.add(
        TypeDefinition(
            "input", "AmplifyAIConversationTurnErrorInput", _fields("errorType:String! message:String!")
        )
    )
    exists = "attributeExists:Boolean attributeType:ModelAttributeTypes"
    for t in ("String", "ID"):
        doc.add(
            TypeDefinition(
                "input",
                f"Model{t}Input",
                _fields(
                    f"{_comparisons(t)} contains:{t} notContains:{t} between:[{t}] beginsWith:{t} {exists} "
                    "size:ModelSizeInput"
                ),
            )
        )
    for t in ("Int", "Float"):
        doc.add(
            TypeDefinition("input", f"Model{t}Input", _fields(f"{_comparisons(t)} between:[{t}] {exists}"))
        )
    doc.add(TypeDefinition("input", "ModelBooleanInput", _fields(f"ne:Boolean eq:Boolean {exists}")))
    for t in ("String", "ID"):
        doc.add(
            TypeDefinition(
                "input",
                f"ModelSubscription{t}Input",
                _fields(
                    f"{_comparisons(t)} contains:{t} notContains:{t} between:[{t}] beginsWith:{t} "
                    f"in:[{t}] notIn:[{t}]"
                ),
            )
        )
    for t in ("Int", "Float"):
        doc.add(
            TypeDefinition(
                "input",
                f"ModelSubscription{t}Input",
                _fields(f"{_comparisons(t)} between:[{t}] in:[{t}] notIn:[{t}]"),
            )
        )
    doc.add(TypeDefinition("input", "ModelSubscriptionBooleanInput", _fields("ne:Boolean eq:Boolean")))
    doc.add(
        TypeDefinition(
            "enum",
            "ModelAttributeTypes",
            values=(
                "binary",
                "binarySet",
                "bool",
                "list",
                "map",
                "number",
                "numberSet",
                "string",
                "stringSet",
                "_null",
            ),
        )
    )
    doc.add(TypeDefinition("input", "ModelSizeInput", _fields(f"{_comparisons('Int')} between:[Int]")))
    doc.add(TypeDefinition("enum", "ModelSortDirection", values=("ASC", "DESC")))


def filter_input_for(ref: TypeRef) -> str | None:
    """The filter/condition input of a field type; ``None`` when the field is not filterable."""
    if ref.kind is TypeKind.ENUM:
        return naming.enum_list_filter_input(ref.name) if ref.is_list else naming.enum_filter_input(ref.name)
    if ref.kind is TypeKind.SCALAR:
        return f"Model{_OPERATOR_SCALAR[ref.name]}Input"
    return None


def subscription_filter_input_for(ref: TypeRef) -> str | None:
    if ref.kind is TypeKind.ENUM:
        return "ModelSubscriptionStringInput"
    if ref.kind is TypeKind.SCALAR:
        return f"ModelSubscription{_OPERATOR_SCALAR[ref.name]}Input"
    return None


def key_scalar(ref: TypeRef) -> str:
    """The scalar a sort key compares as: ``String`` (also enums), ``ID``, ``Int`` or ``Float``."""
    if ref.kind is TypeKind.ENUM:
        return "String"
    base = _OPERATOR_SCALAR.get(ref.name, "String")
    return "String" if base == "Boolean" else base


def add_enum_filter_inputs(doc: Document, enum: str, *, is_list: bool) -> None:
    if is_list:
        doc.add(
            TypeDefinition(
                "input",
                naming.enum_list_filter_input(enum),
                _fields(f"eq:[{enum}] ne:[{enum}] contains:{enum} notContains:{enum}"),
            )
        )
    else:
        doc.add(TypeDefinition("input", naming.enum_filter_input(enum), _fields(f"eq:{enum} ne:{enum}")))


def add_key_condition_input(doc: Document, scalar: str) -> str:
    name = naming.key_condition_input(scalar)
    spec = f"eq:{scalar} le:{scalar} lt:{scalar} ge:{scalar} gt:{scalar} between:[{scalar}]"
    if scalar in ("String", "ID"):
        spec += f" beginsWith:{scalar}"
    doc.add(TypeDefinition("input", name, _fields(spec)))
    return name
