"""The Gen 2 guides' Todo examples with the Python client: create, read, update, delete, filter,
paginate, subscribe and observe_query.

    ampbase sandbox examples/python/amplify/data/resource.py --outputs amplify_outputs.json
    python examples/python/todo.py amplify_outputs.json --ca .ampbase/tls/ca.pem
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ampbase.client import Client, generate_client


async def crud(client: Client) -> dict[str, Any]:
    # Create an item
    created = await client.models.Todo.create(content="My new todo", isDone=True)
    new_todo = created.data
    assert new_todo is not None, created.errors

    # Update an item (createdAt/updatedAt are set by the server)
    updated = await client.models.Todo.update(id=new_todo["id"], content="Updated content")

    # Errors are returned, not raised: an unknown input field
    invalid = await client.models.Todo.update(id=new_todo["id"], notAField="x")

    # Get a specific item
    fetched = await client.models.Todo.get(id=new_todo["id"])

    # Delete an item
    deleted = await client.models.Todo.delete(id=new_todo["id"])
    return {
        "created": new_todo,
        "updated": updated.data,
        "invalid_errors": invalid.errors,
        "fetched": fetched.data,
        "deleted": deleted.data,
    }


async def read(client: Client) -> dict[str, Any]:
    for i in range(3):
        await client.models.Todo.create(content=f"hello {i}", isDone=i % 2 == 0)

    # Filter list queries
    hello = await client.models.Todo.list(filter={"content": {"beginsWith": "hello"}})

    # Compound filters
    either = await client.models.Todo.list(
        filter={"or": [{"content": {"eq": "hello 0"}}, {"content": {"eq": "hello 2"}}]}
    )

    # Paginate: repeat with the next_token until it is None
    pages: list[list[str]] = []
    next_token: str | None = None
    while True:
        page = await client.models.Todo.list(
            filter={"content": {"beginsWith": "hello"}}, limit=2, next_token=next_token
        )
        pages.append([t["content"] for t in page.data])
        next_token = page.next_token
        if next_token is None:
            break

    # Fetch only the data you need
    slim = await client.models.Todo.list(selection_set=["id", "content"], limit=1)
    return {
        "hello": sorted(t["content"] for t in hello.data),
        "either": sorted(t["content"] for t in either.data),
        "pages": pages,
        "slim_keys": sorted(slim.data[0]) if slim.data else [],
    }


async def realtime(client: Client) -> dict[str, Any]:
    # Subscribe with a server-side filter
    groceries = client.models.Todo.on_create(filter={"content": {"contains": "groceries"}})
    await groceries.ready()
    await client.models.Todo.create(content="walk the dog")
    await client.models.Todo.create(content="buy groceries")
    event = await anext(groceries)
    await groceries.unsubscribe()

    # A real-time list: observe_query
    snapshots: list[tuple[int, bool]] = []
    query = client.models.Todo.observe_query(filter={"content": {"beginsWith": "observed"}})
    async for snapshot in query:
        snapshots.append((len(snapshot.items), snapshot.is_synced))
        if len(snapshot.items) == 0:
            await client.models.Todo.create(content="observed todo")
        else:
            break
    await query.aclose()
    return {"event": event["content"], "snapshots": snapshots}


async def cancellation(client: Client) -> dict[str, Any]:
    request = client.models.Todo.list()
    client.cancel(request, "my message for cancellation")
    try:
        await request
    except Exception as error:
        if client.is_cancel_error(error):
            return {"cancelled": str(error)}
        raise
    return {"cancelled": None}


async def main(outputs: str, ca: str | None = None) -> dict[str, Any]:
    async with generate_client(outputs, verify=ca or True) as client:
        return {
            "crud": await crud(client),
            "read": await read(client),
            "realtime": await realtime(client),
            "cancellation": await cancellation(client),
        }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("outputs", nargs="?", default="amplify_outputs.json")
    parser.add_argument("--ca", help="the sandbox's CA certificate (.ampbase/tls/ca.pem)")
    args = parser.parse_args()
    print(asyncio.run(main(args.outputs, args.ca)))  # noqa: T201
