"""A tiny SDL document model and its printer (types, inputs, enums, scalars, directives)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Arg", "Document", "Field", "TypeDefinition"]


@dataclass(frozen=True, slots=True)
class Arg:
    name: str
    type: str

    def render(self) -> str:
        return f"{self.name}: {self.type}"


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    args: tuple[Arg, ...] = ()
    directives: str = ""

    def render(self) -> str:
        text = self.name
        if self.args:
            text += "(" + ", ".join(a.render() for a in self.args) + ")"
        text += f": {self.type}"
        if self.directives:
            text += f" {self.directives}"
        return text


@dataclass
class TypeDefinition:
    """``type``/``input``/``enum``/``scalar`` with its fields (enum: ``values``)."""

    keyword: str
    name: str
    fields: list[Field] = field(default_factory=list)
    values: tuple[str, ...] = ()

    def has_field(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    def add(self, f: Field) -> None:
        if not self.has_field(f.name):
            self.fields.append(f)

    def render(self) -> str:
        if self.keyword == "scalar":
            return f"scalar {self.name}"
        if self.keyword == "enum":
            body = "\n".join(f"  {v}" for v in self.values)
        else:
            body = "\n".join(f"  {f.render()}" for f in self.fields)
        return f"{self.keyword} {self.name} {{\n{body}\n}}"


@dataclass
class Document:
    """Definitions in insertion order; the first definition of a name wins."""

    preamble: list[str] = field(default_factory=list)
    definitions: dict[str, TypeDefinition] = field(default_factory=dict)

    def add(self, definition: TypeDefinition) -> TypeDefinition:
        return self.definitions.setdefault(definition.name, definition)

    def __contains__(self, name: str) -> bool:
        return name in self.definitions

    def render(self) -> str:
        parts = [*self.preamble, *(d.render() for d in self.definitions.values())]
        return "\n\n".join(parts) + "\n"
