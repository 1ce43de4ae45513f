"""broker.inbound: topic and payload decoded at the door, into one typed value, never raising."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from broker import examples
from broker import messages as wire
from broker.inbound import (
    Cleared,
    HubAck,
    HubResponse,
    HubSnapshot,
    KioskEvent,
    KioskRequest,
    KioskStatus,
    Undecodable,
    from_hub,
    from_kiosk,
)
from broker.topics import Channel, KioskTopic, kiosk_topic

EVENTS = kiosk_topic("main", "kiosk-a", Channel.EVENTS)


def door_opened(kiosk_id: str = "kiosk-a") -> wire.DoorOpenedEvent:
    return wire.DoorOpenedEvent(
        event_id=wire.new_message_id(),
        kiosk_id=kiosk_id,
        seq=1,
        kiosk_time=datetime.now(UTC),
        body=wire.DoorChange(locker_slot=1),
    )


def topic(channel: Channel) -> str:
    return kiosk_topic("main", "kiosk-a", channel)


def test_an_event_is_decoded_with_its_topic_taken_apart():
    sent = door_opened()
    message = from_kiosk(EVENTS, wire.encode(sent))
    assert isinstance(message, KioskEvent)
    assert message.where == KioskTopic("main", "kiosk-a", Channel.EVENTS)
    assert message.event == sent
    assert (message.topic, message.payload) == (EVENTS, wire.encode(sent))


def test_a_status_and_a_request_are_decoded():
    online = wire.Availability(state="online", since=datetime.now(UTC), outbox_backlog=2)
    status = from_kiosk(topic(Channel.STATUS), wire.encode(online))
    assert isinstance(status, KioskStatus) and status.availability == online
    asked = wire.ToolStatusRequest(
        request_id=wire.new_message_id(), params=wire.ToolParams(tool_code="DRL-001")
    )
    request = from_kiosk(topic(Channel.REQUESTS), wire.encode(asked))
    assert isinstance(request, KioskRequest) and request.request == asked
    assert request.where.kiosk_id == "kiosk-a"


def test_an_empty_retained_status_is_cleared_but_an_empty_event_is_undecodable():
    assert isinstance(from_kiosk(topic(Channel.STATUS), b""), Cleared)
    empty = from_kiosk(EVENTS, b"")
    assert isinstance(empty, Undecodable) and "not valid JSON" in empty.reason


def test_an_event_claiming_another_kiosk_is_undecodable_with_its_event_id():
    forged = door_opened(kiosk_id="kiosk-b")
    message = from_kiosk(EVENTS, wire.encode(forged))
    assert isinstance(message, Undecodable)
    assert "kiosk_id" in message.reason and message.event_id == forged.event_id
    assert message.where is not None and message.where.kiosk_id == "kiosk-a"


def test_a_bad_payload_keeps_its_topic_and_names_the_field():
    raw = b'{"v": 1, "type": "loan_out"}'
    message = from_kiosk(EVENTS, raw)
    assert isinstance(message, Undecodable)
    assert message.where == KioskTopic("main", "kiosk-a", Channel.EVENTS)
    assert message.payload == raw and "event_id" in message.reason and message.event_id is None


def test_a_foreign_topic_is_undecodable_with_no_kiosk():
    message = from_kiosk("commonshed/v2/main/kiosk/kiosk-a/events", wire.encode(door_opened()))
    assert isinstance(message, Undecodable)
    assert message.where is None and "v2" in message.reason


def test_a_channel_the_sender_does_not_publish_on_is_undecodable():
    ack = wire.EventAck(event_id=wire.new_message_id(), status="applied")
    from_the_wrong_side = from_kiosk(topic(Channel.ACKS), wire.encode(ack))
    assert isinstance(from_the_wrong_side, Undecodable)
    assert "a kiosk does not publish on 'acks'" in from_the_wrong_side.reason
    assert isinstance(from_hub(EVENTS, wire.encode(door_opened())), Undecodable)


def test_what_the_hub_sends_is_decoded_on_the_kiosk():
    ack = wire.EventAck(event_id=wire.new_message_id(), status="duplicate")
    decoded = from_hub(topic(Channel.ACKS), wire.encode(ack))
    assert isinstance(decoded, HubAck) and decoded.acks == (ack,)
    batch = wire.encode_acks([ack, ack.model_copy(update={"event_id": "e-2"})], batched=True)[0]
    several = from_hub(topic(Channel.ACKS), batch)
    assert isinstance(several, HubAck)
    assert [a.event_id for a in several.acks] == [ack.event_id, "e-2"]
    for channel, example in (
        (Channel.ALLOWLIST, examples.EXAMPLES["allowlist"]),
        (Channel.CONFIG, examples.EXAMPLES["config"]),
    ):
        snapshot = from_hub(topic(channel), wire.encode(example))
        assert isinstance(snapshot, HubSnapshot) and snapshot.snapshot == example
        assert isinstance(from_hub(topic(channel), b""), Cleared)
    balance = wire.encode(examples.EXAMPLES["response_balance"])
    response = from_hub(topic(Channel.RESPONSES), balance)
    assert isinstance(response, HubResponse) and response.response.ok


def test_an_allowlist_whose_hash_does_not_match_is_undecodable():
    raw = wire.encode(examples.EXAMPLES["allowlist"]).replace(b"Ada Lovelace", b"Eve Forger")
    message = from_hub(topic(Channel.ALLOWLIST), raw)
    assert isinstance(message, Undecodable) and "content_hash" in message.reason


# --- whatever arrives, the answer is a value -----------------------------------------------

SEGMENT = st.one_of(
    st.sampled_from(["commonshed", "v1", "v2", "main", "kiosk", "kiosk-a", "hub", "", "+", "#"]),
    st.sampled_from([str(channel) for channel in Channel]),
    st.text(max_size=12),
)
TOPICS = st.one_of(
    st.text(max_size=80),
    st.lists(SEGMENT, min_size=1, max_size=8).map("/".join),
    st.builds(
        lambda site, kiosk, channel: f"commonshed/v1/{site}/kiosk/{kiosk}/{channel}",
        st.sampled_from(["main", "Main", "x" * 40]),
        st.sampled_from(["kiosk-a", "hub", "-a"]),
        st.sampled_from(list(Channel)),
    ),
)
EXAMPLE_PAYLOADS = [wire.encode(example) for example in examples.EXAMPLES.values()]
PAYLOADS = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(EXAMPLE_PAYLOADS),
    st.sampled_from(EXAMPLE_PAYLOADS).map(lambda raw: raw.replace(b'"v":1', b'"v":2')),
    st.sampled_from(EXAMPLE_PAYLOADS).map(lambda raw: raw[: len(raw) // 2]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=10,
    ).map(lambda value: json.dumps(value).encode()),
    st.sampled_from([b"[" * 60_000, b'{"a":' * 10_000, b"[" * 100_000]),
)


@given(topic=TOPICS, payload=PAYLOADS)
def test_any_topic_and_payload_decode_to_a_value_or_a_reason(topic, payload):
    for decode in (from_kiosk, from_hub):
        message = decode(topic, payload)
        assert (message.topic, message.payload) == (topic, payload)
        if isinstance(message, Undecodable):
            assert message.reason.strip()
        else:
            assert message.where is not None and str(message.where) == topic
