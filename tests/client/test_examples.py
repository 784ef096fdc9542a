"""The examples in ``examples/python/`` run against a real ``ampbase serve`` of their schema."""

from __future__ import annotations

import asyncio
import runpy
from typing import Any

from tests.client.app import REPO, ServedApp

EXAMPLES = REPO / "examples" / "python"


def example(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name))


def test_todo_example(server: ServedApp) -> None:
    result = asyncio.run(example("todo.py")["main"](str(server.outputs), str(server.ca)))
    crud = result["crud"]
    assert crud["created"]["content"] == "My new todo" and crud["created"]["isDone"] is True
    assert crud["updated"]["content"] == "Updated content"
    assert crud["invalid_errors"] and "notAField" in crud["invalid_errors"][0]["message"]
    assert crud["fetched"]["id"] == crud["created"]["id"]
    assert crud["deleted"]["id"] == crud["created"]["id"]
    read = result["read"]
    assert read["hello"] == ["hello 0", "hello 1", "hello 2"]
    assert read["either"] == ["hello 0", "hello 2"]
    assert sorted(c for page in read["pages"] for c in page) == read["hello"]
    assert all(len(page) <= 2 for page in read["pages"])
    assert read["slim_keys"] == ["content", "id"]
    assert result["realtime"] == {"event": "buy groceries", "snapshots": [(0, True), (1, True)]}
    assert result["cancellation"] == {"cancelled": "my message for cancellation"}


def test_team_members_example(server: ServedApp) -> None:
    result = asyncio.run(example("team_members.py")["main"](str(server.outputs), str(server.ca)))
    assert result == {
        "members": ["Tim"],
        "parent_mantra": "Go Fullstack",
        "eager_members": ["Tim"],
        "detached_team": None,
        "old_team_members": [],
    }


def test_customers_example(server: ServedApp) -> None:
    result = example("customers.py")["main"](str(server.outputs), str(server.ca))
    assert result == {"everyone": ["Ann", "Rene", "Reza"], "re_desc": ["Reza", "Rene"]}
