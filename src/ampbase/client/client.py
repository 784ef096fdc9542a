"""``generate_client``: the Python counterpart of ``generateClient()`` from ``aws-amplify/data``.

::

    client = generate_client(outputs="amplify_outputs.json")
    res = await client.models.Todo.create(content="My new todo", isDone=True)   # res.data, res.errors
    page = await client.models.Todo.list(filter={"content": {"beginsWith": "hello"}}, limit=100)
    async for todo in client.models.Todo.on_create(): ...
    await client.close()

Configuration comes from ``amplify_outputs.json`` (``data.url``, ``data.api_key``,
``data.default_authorization_type``, ``data.aws_region``, ``data.model_introspection``), or
from ``schema=`` (a resolved ``SchemaDef`` or a ``define_data(...)`` result) plus ``url=``;
explicit arguments win. ``sync=True`` returns a :class:`~ampbase.client.sync.SyncClient`.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import httpx

from ampbase.client.auth import (
    AuthSettings,
    AwsCredentials,
    CredentialsProvider,
    TokenProvider,
    outputs_auth_mode,
)
from ampbase.client.introspection import Introspection, parse_introspection
from ampbase.client.models import ClientCore, CustomOperations, Enums, Models, Realtime
from ampbase.client.realtime import ConnectionState, RealtimeConnection
from ampbase.client.requests import CancelError, Request
from ampbase.client.results import Result, map_single
from ampbase.client.transport import Headers, HttpTransport, Transport
from ampbase.errors import ConfigError

if TYPE_CHECKING:
    from ampbase.client.sync import SyncClient

__all__ = ["Client", "generate_client", "load_introspection", "read_outputs"]


def read_outputs(outputs: str | PathLike[str] | Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` section of an ``amplify_outputs.json`` (path or parsed object)."""
    if isinstance(outputs, Mapping):
        raw: Any = outputs
    else:
        try:
            raw = json.loads(Path(outputs).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"amplify_outputs.json not found at {outputs}") from None
        except ValueError as exc:
            raise ConfigError(f"{outputs} is not valid JSON: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ConfigError("amplify_outputs.json must hold a JSON object")
    version = raw.get("version")
    if not (isinstance(version, str) and version.startswith("1")):
        raise ConfigError(f"amplify_outputs.json needs a string 'version' starting with '1', got {version!r}")
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise ConfigError("amplify_outputs.json has no 'data' section")
    return dict(data)


def load_introspection(schema: Any) -> Introspection:
    """The introspection of a resolved ``SchemaDef``, a ``define_data`` result, or an MIS dict."""
    if isinstance(schema, Introspection):
        return schema
    if isinstance(schema, Mapping):
        return parse_introspection(schema)
    from ampbase.compiler.introspection import build_introspection  # server extras, only here

    declared = getattr(schema, "schema", None)
    if declared is not None and not hasattr(schema, "models"):
        from ampbase.schema.resolve import resolve_schema

        schema = resolve_schema(declared)
    return parse_introspection(build_introspection(schema))


class Client:
    """A data client: ``models``, ``queries``, ``mutations``, ``subscriptions``, ``enums``."""

    def __init__(self, core: ClientCore) -> None:
        self._core = core
        self.models = Models(core)
        self.queries = CustomOperations(core, core.mis.queries, self.models)
        self.mutations = CustomOperations(core, core.mis.mutations, self.models)
        self.subscriptions = CustomOperations(core, core.mis.subscriptions, self.models)
        self.enums = Enums(core.mis)
        self._state_listeners: list[Callable[[ConnectionState], None]] = []

    @property
    def introspection(self) -> Introspection:
        return self._core.mis

    # -- raw GraphQL ---------------------------------------------------------------------
    def graphql(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        auth_mode: str | None = None,
        auth_token: str | None = None,
        headers: Headers = None,
    ) -> Request[dict[str, Any]]:
        """Run any query or mutation; resolves with the response body (``data``/``errors``)."""
        core = self._core
        auth = core.auth_for(auth_mode, auth_token)

        async def run() -> dict[str, Any]:
            return await core.transport.execute(
                query, dict(variables or {}), auth=auth, headers=core.headers_for(headers)
            )

        return Request(run())

    def result(self, body: Mapping[str, Any]) -> Result[Any]:
        """Map a raw response body the way model methods do (first root field, errors kept)."""
        return map_single(body, lambda value: value)

    # -- cancellation --------------------------------------------------------------------
    def cancel(self, request: object, message: str | None = None) -> bool:
        """Cancel an in-flight request; awaiting it then raises :class:`CancelError`.

        Only a :class:`Request` returned by a client method can be cancelled (a coroutine
        that wraps one cannot, as in JS); anything else returns ``False``.
        """
        if not isinstance(request, Request):
            return False
        return request.cancel(message)

    @staticmethod
    def is_cancel_error(error: BaseException) -> bool:
        return isinstance(error, CancelError)

    # -- connection state ----------------------------------------------------------------
    @property
    def connection_state(self) -> ConnectionState:
        realtime = self._core.realtime_started
        if isinstance(realtime, RealtimeConnection):
            return realtime.state
        return ConnectionState.DISCONNECTED

    def _realtime_connection(self) -> RealtimeConnection | None:
        try:
            realtime = self._core.realtime
        except NotImplementedError:
            return None
        return realtime if isinstance(realtime, RealtimeConnection) else None

    def on_connection_state_change(self, listener: Callable[[ConnectionState], None]) -> Callable[[], None]:
        """Call ``listener(state)`` on every connection state change; returns the remover."""
        realtime = self._realtime_connection()
        if realtime is None:
            return lambda: None
        return realtime.add_state_listener(listener)

    async def connection_states(self) -> AsyncIterator[ConnectionState]:
        """The connection states as they change (endless; ``break`` to stop)."""
        realtime = self._realtime_connection()
        if realtime is None:
            return
        async for state in realtime.states():
            yield state

    # -- lifecycle -------------------------------------------------------------------------
    async def close(self) -> None:
        """Close subscriptions, the realtime socket and the HTTP connections."""
        await self._core.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


@overload
def generate_client(
    outputs: str | PathLike[str] | Mapping[str, Any] | None = ...,
    *,
    sync: Literal[False] = ...,
    **options: Any,
) -> Client: ...


@overload
def generate_client(
    outputs: str | PathLike[str] | Mapping[str, Any] | None = ...,
    *,
    sync: Literal[True],
    **options: Any,
) -> SyncClient: ...


def generate_client(
    outputs: str | PathLike[str] | Mapping[str, Any] | None = None,
    *,
    sync: bool = False,
    **options: Any,
) -> Client | SyncClient:
    """A data client.

    ``outputs``: path to (or parsed) ``amplify_outputs.json``. Options: ``schema`` (resolved
    ``SchemaDef``, ``define_data`` result or MIS dict), ``url``, ``api_key``, ``auth_mode``
    (``apiKey``, ``userPool``, ``oidc``, ``iam``/``identityPool``, ``lambda``, ``none``),
    ``auth_token``, ``token_provider`` (userPool/oidc; sync or async callable returning the
    token), ``credentials`` (:class:`AwsCredentials` or a provider, for ``iam``), ``region``,
    ``headers`` (dict or sync/async function of the request), ``verify`` (httpx style: bool,
    CA bundle path or ``ssl.SSLContext``; also used for ``wss://``), ``realtime_url``,
    ``reconnect_delay``, ``max_reconnect_delay``, ``http_client``, ``transport``,
    ``max_attempts``, ``timeout``. ``sync=True`` returns a blocking client for scripts.
    """
    if sync:
        from ampbase.client.sync import SyncClient

        return SyncClient(lambda: _build_client(outputs, **options))
    return _build_client(outputs, **options)


def _build_client(
    outputs: str | PathLike[str] | Mapping[str, Any] | None = None,
    *,
    schema: Any = None,
    url: str | None = None,
    api_key: str | None = None,
    auth_mode: str | None = None,
    auth_token: str | None = None,
    token_provider: TokenProvider | None = None,
    credentials: AwsCredentials | CredentialsProvider | None = None,
    region: str | None = None,
    headers: Headers = None,
    verify: bool | str | ssl.SSLContext = True,
    realtime_url: str | None = None,
    reconnect_delay: float = 5.0,
    max_reconnect_delay: float = 60.0,
    http_client: httpx.AsyncClient | None = None,
    transport: Transport | None = None,
    realtime: Callable[[], Realtime] | None = None,
    max_attempts: int = 3,
    timeout: float | None = 30.0,
) -> Client:
    data: dict[str, Any] = read_outputs(outputs) if outputs is not None else {}
    if schema is not None:
        mis = load_introspection(schema)
    elif isinstance(data.get("model_introspection"), Mapping):
        mis = parse_introspection(data["model_introspection"])
    else:
        mis = parse_introspection({"models": {}})
    endpoint = url or data.get("url")
    mode = auth_mode or outputs_auth_mode(data.get("default_authorization_type"))
    if not data and auth_mode is None:
        mode = "apiKey" if api_key else "none"
    auth = AuthSettings(
        mode=mode,
        api_key=api_key or data.get("api_key"),
        auth_token=auth_token,
        token_provider=token_provider,
        credentials=credentials,
        region=region or data.get("aws_region"),
    )
    if transport is None:
        if not endpoint:
            raise ConfigError("No GraphQL endpoint: pass outputs=amplify_outputs.json or url=...")
        transport = HttpTransport(
            endpoint, verify=verify, http_client=http_client, max_attempts=max_attempts, timeout=timeout
        )
    realtime_factory = realtime
    if realtime_factory is None and endpoint:
        graphql_url = str(endpoint)

        def realtime_factory() -> Realtime:
            return RealtimeConnection(
                graphql_url,
                url=realtime_url,
                verify=verify,
                reconnect_delay=reconnect_delay,
                max_reconnect_delay=max_reconnect_delay,
            )

    core = ClientCore(mis, transport, auth=auth, headers=headers, realtime_factory=realtime_factory)
    return Client(core)
