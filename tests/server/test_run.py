"""The uvicorn runner: real sockets on 127.0.0.1, TLS, and plain HTTP + TLS on one port."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from ampbase.errors import ConfigError
from ampbase.server.app import create_app
from ampbase.server.run import serve_app
from ampbase.server.settings import Settings
from ampbase.server.tls import DevCertificates, ensure_dev_certificates
from tests.server.fakes import VALID_KEY, FakeRuntime

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def certs(tmp_path: Path) -> DevCertificates:
    return ensure_dev_certificates(tmp_path)


async def _running(settings: Settings) -> AsyncIterator[FakeRuntime]:
    runtime = FakeRuntime(settings=settings)
    stop = asyncio.Event()
    started = asyncio.Event()
    task = asyncio.create_task(serve_app(create_app(runtime), settings, on_started=started.set, stop=stop))
    await asyncio.wait_for(started.wait(), 20)
    try:
        yield runtime
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
    assert (runtime.started, runtime.stopped) == (1, 1)


async def test_tls_and_plain_http_share_one_port(certs: DevCertificates) -> None:
    port = _free_port()
    settings = Settings(
        port=port, tls_cert=certs.cert, tls_key=certs.key, allow_plain_http=True, max_body_bytes=1000
    )
    async for runtime in _running(settings):
        body = {"query": "{ a }", "variables": {}}
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(certs.ca_cert))) as tls:
            secure = await tls.post(
                f"https://127.0.0.1:{port}/graphql", json=body, headers={"x-api-key": VALID_KEY}
            )
        async with httpx.AsyncClient() as plain:
            insecure = await plain.post(
                f"http://127.0.0.1:{port}/graphql", json=body, headers={"x-api-key": VALID_KEY}
            )
            health = await plain.get(f"http://127.0.0.1:{port}/health")
        assert secure.status_code == insecure.status_code == health.status_code == 200
        assert [call[0] for call in runtime.engine.calls] == ["{ a }", "{ a }"]


async def test_tls_only_refuses_plain_http(certs: DevCertificates) -> None:
    port = _free_port()
    settings = Settings(port=port, tls_cert=certs.cert, tls_key=certs.key)
    async for _runtime in _running(settings):
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(certs.ca_cert))) as tls:
            assert (await tls.get(f"https://127.0.0.1:{port}/health")).status_code == 200
        async with httpx.AsyncClient() as plain:
            with pytest.raises(httpx.HTTPError):
                await plain.get(f"http://127.0.0.1:{port}/health")


async def test_a_connection_that_closes_before_sending_does_not_disturb_the_server(
    certs: DevCertificates,
) -> None:
    port = _free_port()
    settings = Settings(port=port, tls_cert=certs.cert, tls_key=certs.key, allow_plain_http=True)
    async for _runtime in _running(settings):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
        async with httpx.AsyncClient() as plain:
            assert (await plain.get(f"http://127.0.0.1:{port}/health")).status_code == 200


async def test_missing_tls_file_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(port=_free_port(), tls_cert=tmp_path / "nope.pem", tls_key=tmp_path / "nope.key")
    with pytest.raises(ConfigError, match="does not exist"):
        await serve_app(create_app(FakeRuntime(settings=settings)), settings)


async def test_port_in_use_is_a_config_error(certs: DevCertificates) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for settings in (
            Settings(port=port),
            dataclasses.replace(
                Settings(port=port), tls_cert=certs.cert, tls_key=certs.key, allow_plain_http=True
            ),
        ):
            with pytest.raises(ConfigError, match="could not start"):
                await serve_app(create_app(FakeRuntime(settings=settings)), settings)
