"""The bare-ASGI baseline: one Starlette endpoint on uvicorn, the same server stack as ampbase.

``POST /graphql`` reads the body and answers a fixed, small JSON document shaped like a
``getTodo`` response, so the figure measured against it is the cost of HTTP parsing, the
ASGI hop, Starlette's request/response objects and the event loop: the ceiling any Python
GraphQL server on this stack can reach. uvicorn runs with the options ``ampbase serve`` gives
it (no access log, no server header, httptools) and ``uvicorn.run``'s own event loop choice
(uvloop, which ``ampbase serve`` uses too).

    .venv/bin/python bench/baseline.py --port 18402
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["BODY", "app"]

BODY = (
    b'{"data":{"getTodo":{"id":"7b0e3b4c-4a37-4e7e-9a55-3c9f4a1d2e10","name":"todo-0001",'
    b'"description":"bench item","priority":1,"done":false,'
    b'"createdAt":"2026-11-22T08:00:00.000Z","updatedAt":"2026-11-22T08:00:00.000Z"}}}'
)


async def graphql(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18402)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
