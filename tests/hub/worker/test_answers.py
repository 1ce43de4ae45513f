"""Where the hub answers a kiosk's request: never outside the asking kiosk's own subtree."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker.topics import Channel, KioskTopic, kiosk_topic
from hub.worker.answers import response_route

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
