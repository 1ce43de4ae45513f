"""How the hub answers a kiosk's request: never outside the asking kiosk's own subtree, and
with an error response when it cannot (a malformed request, a failing database)."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker import messages as wire
from broker.inbound import Undecodable, from_kiosk
from broker.topics import Channel, KioskTopic, kiosk_topic
from hub.infra.db import make_engine
from hub.worker.answers import answer, refuse_malformed, response_route

ASKED_BY = KioskTopic("test", "kiosk-a", Channel.REQUESTS)
OWN = kiosk_topic("test", "kiosk-a", Channel.RESPONSES)


def asked(response_topic: str | None = None, correlation: bytes | None = None) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    if response_topic is not None:
        props.ResponseTopic = response_topic
    if correlation is not None:
        props.CorrelationData = correlation
    return props


def test_the_answer_goes_to_the_kiosks_own_responses_with_the_correlation_echoed():
    topic, props = response_route(ASKED_BY, asked(OWN, b"corr-1"))
    assert topic == OWN and props.CorrelationData == b"corr-1"


def test_a_response_topic_below_the_kiosks_own_is_honoured():
    assert response_route(ASKED_BY, asked(OWN + "/screen"))[0] == OWN + "/screen"


def test_a_response_topic_of_another_kiosk_is_ignored():
    other = kiosk_topic("test", "kiosk-b", Channel.RESPONSES)
    for wanted in (other, OWN + "-b", kiosk_topic("test", "kiosk-a", Channel.ACKS)):
        assert response_route(ASKED_BY, asked(wanted))[0] == OWN


def test_a_request_without_properties_is_answered_on_its_own_topic():
    topic, props = response_route(ASKED_BY, None)
    assert topic == OWN and not hasattr(props, "CorrelationData")


def test_a_database_that_fails_is_answered_internal_error(tmp_path):
    broken = make_engine(f"sqlite:///{tmp_path / 'no-tables.db'}")  # never migrated
    try:
        request = wire.ToolStatusRequest(
            request_id=wire.new_message_id(), params=wire.ToolParams(tool_code="DRL-001")
        )
        response = answer(broken, request)
    finally:
        broken.dispose()
    assert not response.ok and response.error is not None
    assert response.error.code == "internal_error" and response.request_id == request.request_id


def test_a_malformed_request_is_refused_when_its_id_can_be_read():
    topic = kiosk_topic("test", "kiosk-a", Channel.REQUESTS)
    unreadable = from_kiosk(topic, b'{"v": 1, "kind": "balance"}')
    readable = from_kiosk(topic, b'{"v": 1, "request_id": "q-7", "kind": "balance"}')
    assert isinstance(unreadable, Undecodable) and refuse_malformed(unreadable) is None
    assert isinstance(readable, Undecodable)
    refusal = refuse_malformed(readable)
    assert refusal is not None and refusal.request_id == "q-7"
    assert refusal.error is not None and refusal.error.code == "malformed_request"
    assert "balance.params: Field required" in refusal.error.message
