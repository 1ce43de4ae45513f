"""The rogue-share attack (issue 13) through a real Mosquitto and a real ingest worker.

With ``acl_file`` a kiosk's credentials could join the hub's ``$share/hub`` group: the broker
handed the rogue session its round-robin share of every kiosk's requests and events, refused to
deliver them, and dropped them (10 of 20 requests answered). With the dynamic-security plugin
the rogue is refused at SUBSCRIBE and CONNECT, and the honest kiosk gets every answer.
"""

from __future__ import annotations

import threading

import pytest

from broker import messages as wire
from broker.client import ConnectRefused, request_properties, subscribe_and_wait
from broker.topics import HUB_EVENTS_SHARED, HUB_REQUESTS_SHARED, Channel, shared_filter
from tests.fixtures.mosquitto import collect
from tests.fixtures.waiting import wait_until
from tests.hub.worker.world import CARD, event

NOT_AUTHORIZED = 135
ROUNDS = 20


def rogue_filters(mosquitto) -> list[str]:
    """Every way kiosk-b's credentials might try to see kiosk-a's or the hub's traffic."""
    a_tree = mosquitto.topic("kiosk-a", Channel.ACKS).rsplit("/", 1)[0]
    return [
        HUB_REQUESTS_SHARED,
        HUB_EVENTS_SHARED,
        shared_filter(Channel.STATUS),
        "#",
        "commonshed/#",
        f"{a_tree}/#",
        f"{a_tree}/acks",
        f"{a_tree}/responses",
        f"{a_tree}/requests",
        f"{a_tree}/events",
    ]


def test_a_rogue_kiosk_is_refused_and_the_honest_kiosk_gets_every_answer(worker, mosquitto):
    honest = mosquitto.connect("kiosk-a")
    honest_dropped = threading.Event()
    honest.on_disconnect = lambda *_args: honest_dropped.set()
    inbox = collect(
        honest,
        mosquitto.topic("kiosk-a", Channel.ACKS),
        mosquitto.topic("kiosk-a", Channel.RESPONSES),
    )
    # The attack of the issue: a persistent session, so a granted share would outlive it.
    rogue = mosquitto.connect("kiosk-b", clean_start=False, session_expiry=3600)
    refused = {f: subscribe_and_wait(rogue, f).value for f in rogue_filters(mosquitto)}
    assert refused == dict.fromkeys(rogue_filters(mosquitto), NOT_AUTHORIZED)
    with pytest.raises(ConnectRefused) as taken_over:
        mosquitto.connect("kiosk-b", client_id="kiosk-a")
    assert taken_over.value.reason_code.value == NOT_AUTHORIZED

    requests = [
        wire.MemberStatusRequest(
            request_id=wire.new_message_id(), params=wire.CardParams(card_uid=CARD)
        )
        for _ in range(ROUNDS)
    ]
    door = (wire.DoorOpenedEvent, wire.DoorClosedEvent)
    events = [event(door[n % 2], wire.DoorChange(locker_slot=1), seq=n + 1) for n in range(ROUNDS)]
    responses_topic = mosquitto.topic("kiosk-a", Channel.RESPONSES)
    for n, (request, sent) in enumerate(zip(requests, events, strict=True)):
        properties = request_properties(responses_topic, f"corr-{n}".encode())
        honest.publish(
            mosquitto.topic("kiosk-a", Channel.REQUESTS),
            wire.encode(request),
            qos=1,
            properties=properties,
        )
        honest.publish(mosquitto.topic("kiosk-a", Channel.EVENTS), wire.encode(sent), qos=1)

    answered: set[str] = set()
    acked: set[str] = set()

    def everything_answered() -> bool:
        for message in inbox.drain():
            if message.topic == responses_topic:
                answered.add(wire.decode_response(message.payload).request_id)
            else:
                acked.add(wire.decode_ack(message.payload).event_id)
        return len(answered) == len(acked) == ROUNDS

    wait_until(everything_answered, 30, "20 responses and 20 acks for kiosk-a")
    assert answered == {request.request_id for request in requests}
    assert acked == {sent.event_id for sent in events}
    assert not honest_dropped.is_set(), "the rogue's CONNECT with kiosk-a's id took its session"
