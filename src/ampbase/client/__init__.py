"""The Python data client: ``generate_client`` mirrors ``generateClient()`` of ``aws-amplify/data``.

Imports only httpx and websockets (no server extras). See ``docs/python-client.md``.
"""

from __future__ import annotations

from ampbase.client.auth import AuthMode, AwsCredentials, sigv4_headers
from ampbase.client.client import Client, generate_client
from ampbase.client.models import ObserveQuery, Snapshot, Subscription
from ampbase.client.realtime import CONNECTION_STATE_CHANGE, ConnectionState, SubscriptionError
from ampbase.client.requests import CancelError, Request
from ampbase.client.results import ListResult, Record, Result
from ampbase.client.sync import SyncClient, generate_sync_client
from ampbase.client.transport import RequestInfo

__all__ = [
    "CONNECTION_STATE_CHANGE",
    "AuthMode",
    "AwsCredentials",
    "CancelError",
    "Client",
    "ConnectionState",
    "ListResult",
    "ObserveQuery",
    "Record",
    "Request",
    "RequestInfo",
    "Result",
    "Snapshot",
    "Subscription",
    "SubscriptionError",
    "SyncClient",
    "generate_client",
    "generate_sync_client",
    "sigv4_headers",
]
