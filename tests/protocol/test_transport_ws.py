from __future__ import annotations

import json
from typing import Any

import pytest

from ampbase.protocol.actions import CloseConnection, SendFrame, StartSubscription, StopSubscription
from ampbase.protocol.transport_ws import AuthenticateConnection, TransportAction, TransportWsConnection

QUERY = "subscription { onCreateTodo { id } }"


def subscribe(sub_id: str = "1", **payload: Any) -> str:
    return json.dumps({"id": sub_id, "type": "subscribe", "payload": {"query": QUERY, **payload}})


def frames(actions: list[TransportAction]) -> list[dict[str, Any]]:
    return [a.frame for a in actions if isinstance(a, SendFrame)]


def acked() -> TransportWsConnection:
    conn = TransportWsConnection()
    conn.receive('{"type":"connection_init"}')
    conn.accept()
    return conn


def closed_with(actions: list[TransportAction]) -> CloseConnection:
    assert len(actions) == 1
    action = actions[0]
    assert isinstance(action, CloseConnection)
    return action


def test_connection_init_asks_the_driver_to_authenticate_its_payload() -> None:
    conn = TransportWsConnection()
    actions = conn.receive('{"type":"connection_init","payload":{"x-api-key":"da2-k","n":1}}')
    assert actions == [AuthenticateConnection({"x-api-key": "da2-k", "n": "1"})]
    assert frames(conn.accept()) == [{"type": "connection_ack"}]


def test_nested_header_objects_in_the_init_payload_are_flattened() -> None:
    conn = TransportWsConnection()
    actions = conn.receive('{"type":"connection_init","payload":{"headers":{"Authorization":"tok"}}}')
    assert actions == [AuthenticateConnection({"Authorization": "tok"})]


def test_rejected_credentials_close_with_4403() -> None:
    conn = TransportWsConnection()
    conn.receive('{"type":"connection_init"}')
    assert closed_with(conn.reject()).code == 4403
    assert conn.receive(subscribe()) == []


def test_second_connection_init_closes_with_4429() -> None:
    conn = acked()
    close = closed_with(conn.receive('{"type":"connection_init"}'))
    assert (close.code, close.reason) == (4429, "Too many initialisation requests")


def test_subscribe_before_ack_closes_with_4401() -> None:
    conn = TransportWsConnection()
    assert closed_with(conn.receive(subscribe())).code == 4401


def test_subscribe_next_complete_round_trip() -> None:
    conn = acked()
    actions = conn.receive(subscribe("1", variables={"filter": {"id": {"eq": "a"}}}))
    assert actions == [StartSubscription("1", QUERY, {"filter": {"id": {"eq": "a"}}}, None, {})]
    assert conn.subscription_ready("1") == []
    assert frames(conn.data("1", {"data": {"onCreateTodo": {"id": "a"}}})) == [
        {"id": "1", "type": "next", "payload": {"data": {"onCreateTodo": {"id": "a"}}}}
    ]
    assert conn.receive('{"type":"complete","id":"1"}') == [StopSubscription("1")]
    assert conn.data("1", {"data": {}}) == []
    assert conn.receive('{"type":"complete","id":"1"}') == []


def test_a_pre_encoded_payload_is_spliced_into_the_same_next_frame() -> None:
    conn = acked()
    conn.receive(subscribe("1"))
    conn.subscription_ready("1")
    payload = {"data": {"onCreateTodo": {"id": "a", "content": "ü"}}}
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    [plain] = conn.data("1", payload)
    [spliced] = conn.data("1", payload, payload_json=encoded)
    assert isinstance(plain, SendFrame) and isinstance(spliced, SendFrame)
    assert spliced.text == plain.text
    assert json.loads(spliced.text) == {"id": "1", "type": "next", "payload": payload}


def test_per_operation_authorization_extension_is_passed_on() -> None:
    conn = acked()
    action = conn.receive(subscribe("1", extensions={"authorization": {"x-api-key": "k2"}}))[0]
    assert isinstance(action, StartSubscription)
    assert action.authorization == {"x-api-key": "k2"}


def test_duplicate_id_closes_with_4409() -> None:
    conn = acked()
    conn.receive(subscribe("1"))
    conn.subscription_ready("1")
    close = closed_with(conn.receive(subscribe("1")))
    assert (close.code, close.reason) == (4409, "Subscriber for 1 already exists")


def test_failed_operation_gets_an_error_frame_and_the_id_is_free_again() -> None:
    conn = acked()
    conn.receive(subscribe("1"))
    errors = [{"message": "Cannot query field 'x'", "extensions": {"errorType": "ValidationError"}}]
    assert frames(conn.subscription_failed("1", errors)) == [{"id": "1", "type": "error", "payload": errors}]
    assert isinstance(conn.receive(subscribe("1"))[0], StartSubscription)


def test_server_side_complete_and_error() -> None:
    conn = acked()
    conn.receive(subscribe("1"))
    conn.subscription_ready("1")
    conn.receive(subscribe("2"))
    conn.subscription_ready("2")
    assert conn.complete("1") == [StopSubscription("1"), SendFrame({"id": "1", "type": "complete"})]
    actions = conn.subscription_error("2", [{"message": "x"}])
    assert actions[0] == StopSubscription("2")
    assert frames(actions) == [{"id": "2", "type": "error", "payload": [{"message": "x"}]}]
    assert conn.active_ids == frozenset()


def test_ping_is_answered_with_pong_and_pong_is_ignored() -> None:
    conn = TransportWsConnection()
    assert frames(conn.receive('{"type":"ping"}')) == [{"type": "pong"}]
    assert conn.receive('{"type":"pong"}') == []


def test_keepalive_pings_after_ack() -> None:
    conn = TransportWsConnection()
    assert conn.keepalive() == []
    conn.receive('{"type":"connection_init"}')
    conn.accept()
    assert frames(conn.keepalive()) == [{"type": "ping"}]


def test_init_timeout_closes_with_4408_only_without_init() -> None:
    assert closed_with(TransportWsConnection().init_timeout()).code == 4408
    assert acked().init_timeout() == []


def test_subscription_limit_is_an_operation_error() -> None:
    conn = TransportWsConnection(max_subscriptions=2)
    conn.receive('{"type":"connection_init"}')
    conn.accept()
    conn.receive(subscribe("1"))
    conn.receive(subscribe("2"))
    (frame,) = frames(conn.receive(subscribe("3")))
    assert frame["type"] == "error"
    assert frame["id"] == "3"
    assert not conn.closed


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[]",
        '{"type":"start"}',
        '{"type":"subscribe","payload":{"query":"q"}}',
        '{"type":"subscribe","id":"1"}',
        '{"type":"subscribe","id":"1","payload":{"query":1}}',
        '{"type":"subscribe","id":"1","payload":{"query":"q","variables":[]}}',
        '{"type":"subscribe","id":"1","payload":{"query":"q","operationName":3}}',
        '{"type":"subscribe","id":"1","payload":{"query":"q","extensions":"x"}}',
        '{"type":"complete"}',
    ],
)
def test_invalid_messages_close_with_4400(message: str) -> None:
    conn = acked()
    close = closed_with(conn.receive(message))
    assert close.code == 4400
    assert conn.closed
    assert conn.receive('{"type":"ping"}') == []


def test_connection_init_with_non_object_payload_closes_with_4400() -> None:
    conn = TransportWsConnection()
    assert closed_with(conn.receive('{"type":"connection_init","payload":"x"}')).code == 4400


def test_oversized_message_closes_with_4400() -> None:
    conn = TransportWsConnection(max_message_bytes=50)
    close = closed_with(conn.receive('{"type":"ping","pad":"' + "x" * 100 + '"}'))
    assert (close.code, close.reason) == (4400, "Message too large")
