"""Per-request execution limits: document size and depth, resolver executions, wall time.

:class:`ExecutionLimits` is one frozen value the engine is built with. Defaults follow AppSync:

* ``max_depth`` (75): the deepest field nesting an operation may select, fragments expanded
  (AppSync's largest ``queryDepthLimit``). Checked once per document, after validation, and
  cached with it. Exceeding it is a ``ValidationError`` before anything runs.
* ``max_tokens`` (20,000): GraphQL tokens in one document; the parser stops early, so a huge
  document costs nothing to refuse (``ValidationError``).
* ``max_resolvers`` (10,000): resolver executions in one request, counted as AppSync counts them:
  one per root field, relationship field and custom operation call, per parent item; plain
  fields of returned records are not resolvers. Exceeding it fails the whole request with
  ``data: null`` and ``errorType`` :data:`RESOLVER_LIMIT_ERROR_TYPE`; nothing further runs.
* ``timeout`` (30 s): the wall time of one request. When it runs out every pending resolver is
  cancelled and the request fails with ``data: null`` and ``errorType``
  :data:`TIMEOUT_ERROR_TYPE`. A mutation that already reached the database may have committed.

``0`` turns a limit off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from ampbase.errors import RequestError

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_RESOLVERS",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_TIMEOUT",
    "RESOLVER_LIMIT_ERROR_TYPE",
    "TIMEOUT_ERROR_TYPE",
    "ExecutionLimits",
    "LimitExceededError",
    "ResolverBudget",
    "document_depth",
]

DEFAULT_MAX_DEPTH = 75
DEFAULT_MAX_TOKENS = 20_000
DEFAULT_MAX_RESOLVERS = 10_000
DEFAULT_TIMEOUT = 30.0

RESOLVER_LIMIT_ERROR_TYPE = "ResolverLimitExceeded"
TIMEOUT_ERROR_TYPE = "ExecutionTimeout"


@dataclass(frozen=True, slots=True)
class ExecutionLimits:
    max_depth: int = DEFAULT_MAX_DEPTH
    max_tokens: int = DEFAULT_MAX_TOKENS
    max_resolvers: int = DEFAULT_MAX_RESOLVERS
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_tokens", "max_resolvers", "timeout"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative (0 turns the limit off)")

    def resolver_limit_message(self) -> str:
        return (
            f"The request needs more than {self.max_resolvers} resolver executions, the limit per "
            "request. Select fewer relationship fields, or ask for smaller pages (limit)."
        )

    def timeout_message(self) -> str:
        return (
            f"The request did not finish within {self.timeout:g} seconds and was cancelled. "
            "A mutation in it may or may not have been applied."
        )


class LimitExceededError(RequestError):
    """A per-request limit was reached; ``error_type`` names which."""

    error_type = RESOLVER_LIMIT_ERROR_TYPE


class ResolverBudget:
    """Counts resolver executions of one request; :meth:`charge` raises once over the limit."""

    __slots__ = ("exceeded", "limit", "message", "used")

    def __init__(self, limit: int, message: str) -> None:
        self.limit = limit
        self.message = message
        self.used = 0
        self.exceeded = False

    def charge(self) -> None:
        self.used += 1
        if self.limit and self.used > self.limit:
            self.exceeded = True
            raise LimitExceededError(self.message)


def _selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    memo: dict[str, int],
    visiting: frozenset[str],
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            depth = 1 + _selection_depth(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, InlineFragmentNode):
            depth = _selection_depth(selection.selection_set, fragments, memo, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            known = memo.get(name)
            if known is not None:
                depth = known
            elif name in visiting or name not in fragments:
                depth = 0  # a cycle or unknown fragment: validation reports it
            else:
                depth = _selection_depth(fragments[name].selection_set, fragments, memo, visiting | {name})
                memo[name] = depth
        else:  # pragma: no cover - graphql-core has no other selection kinds
            depth = 0
        deepest = max(deepest, depth)
    return deepest


def document_depth(document: DocumentNode) -> int:
    """The deepest field nesting of any operation in ``document`` (fragments expanded).

    ``{ listTodos { items { id } } }`` has depth 3.
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[str, int] = {}
    deepest = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            depth = _selection_depth(definition.selection_set, fragments, memo, frozenset())
            deepest = max(deepest, depth)
    return deepest
