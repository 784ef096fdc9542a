from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ampbase.client import Client, generate_client
from tests.client.app import ServedApp, start_server, stop_server

FIXTURES = Path(__file__).parent / "fixtures"
URL = "https://127.0.0.1:4443/graphql"
API_KEY = "da2-fakeapikey00000000000000"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """One ``ampbase serve`` (TLS, local CA) of the examples' schema for the whole session."""
    served = start_server(tmp_path_factory.mktemp("client-served"))
    try:
        yield served
    finally:
        stop_server(served)


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def outputs(mis_file: str = "model-introspection.json", **data: Any) -> dict[str, Any]:
    """An amplify_outputs.json object for the study's example schema."""
    section: dict[str, Any] = {
        "url": URL,
        "aws_region": "us-east-1",
        "api_key": API_KEY,
        "default_authorization_type": "API_KEY",
        "authorization_types": [],
        "model_introspection": load_fixture(mis_file),
    }
    section.update(data)
    return {"version": "1.4", "data": section}


class Recorder:
    """An httpx mock transport that records requests and answers from a script."""

    def __init__(self, responses: list[dict[str, Any]] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.responses = list(responses or [])
        self.default: Callable[[httpx.Request], httpx.Response] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.responses:
            spec = self.responses.pop(0)
            return httpx.Response(spec["status"], json=spec.get("body"), headers=spec.get("headers") or {})
        if self.default is not None:
            return self.default(request)
        return httpx.Response(200, json={"data": {}})

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def client(self, **options: Any) -> Client:
        mis_file = options.pop("mis_file", "model-introspection.json")
        out = options.pop("outputs") if "outputs" in options else outputs(mis_file)
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return generate_client(out, http_client=http, **options)
