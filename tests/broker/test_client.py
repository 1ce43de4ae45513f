"""broker.client against a real Mosquitto: TCP_NODELAY, request/response, persistent sessions."""

import socket

from broker.client import reply_properties, request_properties
from broker.examples import EXAMPLES
from broker.messages import Response, decode_request, decode_response, encode
from broker.topics import (
    HUB_EVENTS_SHARED,
    HUB_REQUESTS_SHARED,
    Channel,
    kiosk_topic,
    parse_topic,
)
from tests.fixtures.mosquitto import Collected, collect


def test_clients_have_tcp_nodelay_on(mosquitto):
    client = mosquitto.connect("kiosk-a")
    assert client.socket().getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_request_is_answered_on_the_kiosks_response_topic(mosquitto):
    hub = mosquitto.connect("hub")
    hub_inbox = collect(hub, HUB_REQUESTS_SHARED)
    kiosk = mosquitto.connect("kiosk-a")
    responses = collect(kiosk, mosquitto.topic("kiosk-a", Channel.RESPONSES))
    request = EXAMPLES["request_balance"]
    response_topic = mosquitto.topic("kiosk-a", Channel.RESPONSES)
    kiosk.publish(
        mosquitto.topic("kiosk-a", Channel.REQUESTS),
        encode(request),
        qos=1,
        properties=request_properties(response_topic, request.request_id.encode()),
    )

    asked = hub_inbox.get()
    origin = parse_topic(asked.topic)
    assert decode_request(asked.payload) == request
    assert asked.properties.ResponseTopic == response_topic
    answer = Response(request_id=request.request_id, ok=True, data={"balance_hours": "6.50"})
    hub.publish(
        kiosk_topic(origin.site, origin.kiosk_id, Channel.RESPONSES),
        encode(answer),
        qos=1,
        properties=reply_properties(asked),
    )

    answered = responses.get()
    assert decode_response(answered.payload) == answer
    assert answered.properties.CorrelationData == request.request_id.encode()


def test_the_hubs_persistent_session_keeps_a_backlog_beyond_mosquittos_default(mosquitto):
    backlog = 1500  # Mosquitto's default max_queued_messages is 1000
    hub = mosquitto.connect("hub", client_id="hub-ingest-1", clean_start=False, session_expiry=3600)
    collect(hub, HUB_EVENTS_SHARED)
    hub.disconnect()
    hub.loop_stop()

    kiosk = mosquitto.connect("kiosk-a")
    topic = mosquitto.topic("kiosk-a", Channel.EVENTS)
    for n in range(backlog):
        kiosk.publish(topic, b"%d" % n, qos=1)
    kiosk.publish(topic, b"last", qos=1).wait_for_publish(10)

    inbox = Collected()
    mosquitto.connect(
        "hub",
        client_id="hub-ingest-1",
        clean_start=False,
        session_expiry=3600,
        on_message=inbox.on_message,
    )
    received = [inbox.get().payload for _ in range(backlog + 1)]
    assert received == [b"%d" % n for n in range(backlog)] + [b"last"]
