from __future__ import annotations

import json
from typing import Any

import pytest

from ampbase.protocol.actions import (
    Action,
    CloseConnection,
    SendFrame,
    StartSubscription,
    StopSubscription,
)
from ampbase.protocol.appsync_ws import AppSyncConnection, HandshakeRejection

QUERY = "subscription ($filter: ModelSubscriptionTodoFilterInput) { onCreateTodo(filter: $filter) { id } }"
AUTH = {"host": "127.0.0.1:4443", "x-api-key": "da2-key", "x-amz-user-agent": "aws-amplify/6"}


def start_frame(sub_id: str = "s1", variables: dict[str, Any] | None = None) -> str:
    data = json.dumps({"query": QUERY, "variables": variables or {}})
    return json.dumps(
        {"id": sub_id, "payload": {"data": data, "extensions": {"authorization": AUTH}}, "type": "start"}
    )


def frames(actions: list[Action]) -> list[dict[str, Any]]:
    return [a.frame for a in actions if isinstance(a, SendFrame)]


def only_error(actions: list[Action]) -> dict[str, Any]:
    assert len(actions) == 1
    action = actions[0]
    assert isinstance(action, SendFrame)
    assert action.frame["type"] == "error"
    error = action.frame["payload"]["errors"][0]
    assert set(error) == {"errorType", "message"}
    return action.frame


def acked() -> AppSyncConnection:
    conn = AppSyncConnection()
    conn.receive('{"type":"connection_init"}')
    return conn


def test_connection_init_is_acknowledged_with_timeout_then_keep_alive() -> None:
    conn = AppSyncConnection()
    actions = conn.receive('{"type":"connection_init"}')
    assert frames(actions) == [
        {"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}},
        {"type": "ka"},
    ]
    assert conn.acknowledged


def test_start_is_handed_to_the_driver_and_acknowledged_when_ready() -> None:
    conn = acked()
    actions = conn.receive(start_frame("s1", {"filter": {"content": {"eq": "x"}}}))
    assert actions == [
        StartSubscription("s1", QUERY, {"filter": {"content": {"eq": "x"}}}, None, AUTH),
    ]
    assert conn.pending_ids == {"s1"}
    assert frames(conn.subscription_ready("s1")) == [{"type": "start_ack", "id": "s1"}]
    assert conn.active_ids == {"s1"}


def test_data_frames_are_sent_only_for_active_subscriptions() -> None:
    conn = acked()
    conn.receive(start_frame("s1"))
    assert conn.data("s1", {"data": {"onCreateTodo": {"id": "1"}}}) == []  # not acked yet
    conn.subscription_ready("s1")
    assert frames(conn.data("s1", {"data": {"onCreateTodo": {"id": "1"}}})) == [
        {"type": "data", "id": "s1", "payload": {"data": {"onCreateTodo": {"id": "1"}}}}
    ]
    assert conn.data("unknown", {"data": {}}) == []


def test_a_pre_encoded_payload_is_spliced_into_the_same_frame_text() -> None:
    conn = acked()
    conn.receive(start_frame('s"1'))
    conn.subscription_ready('s"1')
    payload = {"data": {"onCreateTodo": {"id": "1", "content": "thé"}}}
    encoded = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    [plain] = conn.data('s"1', payload)
    [spliced] = conn.data('s"1', payload, payload_json=encoded)
    assert isinstance(plain, SendFrame) and isinstance(spliced, SendFrame)
    assert spliced.text == plain.text
    assert json.loads(spliced.text) == {"type": "data", "id": 's"1', "payload": payload}
    assert conn.data("unknown", payload, payload_json=encoded) == []


def test_an_oversized_pre_encoded_event_counts_utf8_bytes() -> None:
    conn = AppSyncConnection(max_message_bytes=1000)
    conn.receive('{"type":"connection_init"}')
    conn.receive(start_frame("s1"))
    conn.subscription_ready("s1")
    payload = {"data": {"onCreateTodo": {"content": "é" * 490}}}  # under 1000 characters, over 1000 bytes
    actions = conn.data("s1", payload, payload_json=json.dumps(payload, ensure_ascii=False))
    assert actions[0] == StopSubscription("s1")
    assert frames(actions)[0]["payload"]["errors"][0]["errorType"] == "PayloadTooLargeError"


def test_stop_unregisters_and_completes() -> None:
    conn = acked()
    conn.receive(start_frame("s1"))
    conn.subscription_ready("s1")
    actions = conn.receive('{"id":"s1","type":"stop"}')
    assert actions == [StopSubscription("s1"), SendFrame({"type": "complete", "id": "s1"})]
    assert conn.active_ids == frozenset()
    assert conn.data("s1", {"data": {"x": 1}}) == []


def test_stop_while_pending_makes_the_late_ready_unregister() -> None:
    conn = acked()
    conn.receive(start_frame("s1"))
    conn.receive('{"id":"s1","type":"stop"}')
    assert conn.subscription_ready("s1") == [StopSubscription("s1")]
    assert len(conn) == 0


def test_failed_start_becomes_an_error_frame_with_its_id() -> None:
    conn = acked()
    conn.receive(start_frame("s1"))
    frame = only_error(conn.subscription_failed("s1", "Unauthorized", "Not Authorized"))
    assert frame == {
        "type": "error",
        "id": "s1",
        "payload": {"errors": [{"errorType": "Unauthorized", "message": "Not Authorized"}]},
    }
    assert len(conn) == 0
    assert conn.subscription_failed("s1", "Unauthorized", "again") == []


def test_subscription_error_ends_an_active_subscription() -> None:
    conn = acked()
    conn.receive(start_frame("s1"))
    conn.subscription_ready("s1")
    actions = conn.subscription_error("s1", "InternalFailure", "boom")
    assert actions[0] == StopSubscription("s1")
    assert frames(actions)[0]["id"] == "s1"
    assert conn.active_ids == frozenset()


def test_duplicate_active_id_is_an_error_but_reuse_after_stop_is_fine() -> None:
    conn = acked()
    conn.receive(start_frame("s1"))
    conn.subscription_ready("s1")
    frame = only_error(conn.receive(start_frame("s1")))
    assert frame["id"] == "s1"
    assert frame["payload"]["errors"][0]["errorType"] == "DuplicatedOperationError"
    assert conn.active_ids == {"s1"}  # the original subscription is untouched
    conn.receive('{"id":"s1","type":"stop"}')
    assert isinstance(conn.receive(start_frame("s1"))[0], StartSubscription)


def test_ids_may_be_reused_on_a_new_connection() -> None:
    first = acked()
    first.receive(start_frame("s1"))
    first.subscription_ready("s1")
    second = acked()  # the client reconnected and re-sends the same id
    assert isinstance(second.receive(start_frame("s1"))[0], StartSubscription)


def test_the_hundred_and_first_subscription_is_refused() -> None:
    conn = acked()
    for i in range(100):
        assert isinstance(conn.receive(start_frame(f"s{i}"))[0], StartSubscription)
        conn.subscription_ready(f"s{i}")
    frame = only_error(conn.receive(start_frame("s100")))
    assert frame["payload"]["errors"][0] == {
        "errorType": "MaxSubscriptionsReachedError",
        "message": "Max number of 100 subscriptions reached",
    }
    conn.receive('{"id":"s0","type":"stop"}')
    assert isinstance(conn.receive(start_frame("s100"))[0], StartSubscription)


def test_start_before_connection_init_is_an_error() -> None:
    conn = AppSyncConnection()
    frame = only_error(conn.receive(start_frame("s1")))
    assert frame["id"] == "s1"
    assert frame["payload"]["errors"][0]["errorType"] == "BadRequestException"
    assert len(conn) == 0


@pytest.mark.parametrize(
    ("message", "error_type", "has_id"),
    [
        ("not json", "BadRequestException", False),
        ("[1, 2]", "BadRequestException", False),
        ('{"id":"x"}', "BadRequestException", True),
        ('{"type":"subscribe","id":"x"}', "UnsupportedOperation", True),
        ('{"type":"ka"}', "UnsupportedOperation", False),
        ('{"type":"start","payload":{}}', "BadRequestException", False),
        ('{"type":"start","id":"","payload":{}}', "BadRequestException", False),
        ('{"type":"start","id":"x"}', "BadRequestException", True),
        ('{"type":"start","id":"x","payload":{"data":42}}', "BadRequestException", True),
        ('{"type":"start","id":"x","payload":{"data":"{nope"}}', "BadRequestException", True),
        ('{"type":"start","id":"x","payload":{"data":"[]"}}', "BadRequestException", True),
        ('{"type":"start","id":"x","payload":{"data":"{}"}}', "BadRequestException", True),
        (
            '{"type":"start","id":"x","payload":{"data":"{\\"query\\":\\"q\\",\\"variables\\":[]}"}}',
            "BadRequestException",
            True,
        ),
        (
            '{"type":"start","id":"x","payload":{"data":"{\\"query\\":\\"q\\"}","extensions":[]}}',
            "BadRequestException",
            True,
        ),
        (
            '{"type":"start","id":"x","payload":{"data":"{\\"query\\":\\"q\\"}",'
            '"extensions":{"authorization":"k"}}}',
            "BadRequestException",
            True,
        ),
        ('{"type":"stop"}', "BadRequestException", False),
        ('{"type":"stop","id":"nobody"}', "BadRequestException", True),
    ],
)
def test_bad_frames_become_error_frames_and_keep_the_connection(
    message: str, error_type: str, has_id: bool
) -> None:
    conn = acked()
    conn.receive(start_frame("live"))
    conn.subscription_ready("live")
    frame = only_error(conn.receive(message))
    assert frame["payload"]["errors"][0]["errorType"] == error_type
    assert ("id" in frame) == has_id
    assert not conn.closed
    assert conn.active_ids == {"live"}
    assert frames(conn.data("live", {"data": {"onCreateTodo": None}}))[0]["type"] == "data"


def test_unknown_type_uses_appsync_wording() -> None:
    frame = only_error(acked().receive('{"type":"unknown"}'))
    assert frame["payload"]["errors"][0]["message"] == "unknown not supported through the realtime channel"


def test_oversized_message_is_refused_without_parsing() -> None:
    conn = AppSyncConnection(max_message_bytes=100)
    frame = only_error(conn.receive('{"type":"connection_init","pad":"' + "x" * 200 + '"}'))
    assert "exceeds the limit of 100 bytes" in frame["payload"]["errors"][0]["message"]
    assert not conn.acknowledged


def test_oversized_event_ends_the_subscription_with_a_clear_error() -> None:
    conn = AppSyncConnection(max_message_bytes=1000)
    conn.receive('{"type":"connection_init"}')
    conn.receive(start_frame("s1"))
    conn.subscription_ready("s1")
    actions = conn.data("s1", {"data": {"onCreateTodo": {"content": "x" * 2000}}})
    assert actions[0] == StopSubscription("s1")
    error = frames(actions)[0]
    assert error["id"] == "s1"
    assert error["payload"]["errors"][0]["errorType"] == "PayloadTooLargeError"


def test_bytes_frames_are_accepted() -> None:
    conn = AppSyncConnection()
    assert frames(conn.receive(b'{"type":"connection_init"}'))[0]["type"] == "connection_ack"


def test_rejected_handshake_answers_connection_error_and_closes() -> None:
    conn = AppSyncConnection(connection_error=HandshakeRejection())
    actions = conn.receive('{"type":"connection_init"}')
    assert frames(actions) == [
        {
            "type": "connection_error",
            "payload": {
                "errors": [
                    {
                        "errorType": "UnauthorizedException",
                        "message": "You are not authorized to make this call.",
                        "errorCode": 401,
                    }
                ]
            },
        }
    ]
    assert isinstance(actions[-1], CloseConnection)
    assert conn.receive(start_frame("s1")) == []


def test_keepalive_only_after_acknowledgement() -> None:
    conn = AppSyncConnection()
    assert conn.keepalive() == []
    conn.receive('{"type":"connection_init"}')
    assert frames(conn.keepalive()) == [{"type": "ka"}]


def test_payload_data_given_as_an_object_is_tolerated() -> None:
    conn = acked()
    frame = json.dumps({"id": "s1", "type": "start", "payload": {"data": {"query": QUERY}}})
    assert conn.receive(frame) == [StartSubscription("s1", QUERY, {}, None, {})]


def test_start_keeps_the_exact_payload_data_text_for_signature_checks() -> None:
    conn = acked()
    action = conn.receive(start_frame("s1"))[0]
    assert isinstance(action, StartSubscription)
    assert action.body == json.dumps({"query": QUERY, "variables": {}})


def test_legacy_apollo_start_with_the_request_in_the_payload_is_accepted() -> None:
    conn = acked()
    frame = json.dumps({"id": "1", "type": "start", "payload": {"query": QUERY, "variables": {"a": 1}}})
    assert conn.receive(frame) == [StartSubscription("1", QUERY, {"a": 1}, None, {})]
