"""The pub/sub seam: how committed change events reach every server process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ChangeEvent", "PubSub"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A committed write.

    ``mutation`` is the GraphQL mutation field that made it (``createTodo``,
    or a custom mutation's name), ``model`` the model name (``None`` for a
    custom mutation), ``record`` the committed record (for deletes, the deleted
    one; for custom mutations, the mutation's result), ``seq`` a per-process
    monotonically increasing number assigned at commit (orders events per item).
    """

    mutation: str
    model: str | None
    record: Any
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"mutation": self.mutation, "model": self.model, "record": self.record, "seq": self.seq}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangeEvent:
        return cls(
            mutation=str(data["mutation"]),
            model=data.get("model"),
            record=data.get("record"),
            seq=int(data.get("seq", 0)),
        )


class PubSub(Protocol):
    """Delivers every published event to every current subscriber, in publish order.

    ``publish`` is called only after the write committed. ``events()`` yields
    events published after it started; the iterator ends when ``close()`` is
    called. Implementations: ``LocalPubSub`` (in-process, default), Redis and
    PostgreSQL LISTEN/NOTIFY for several replicas.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: ChangeEvent) -> None: ...

    def events(self) -> AsyncIterator[ChangeEvent]: ...
