"""Ingest that scales out without stranding: a worker that stops for good holds nothing back.

Mosquitto 2.0.11 goes on handing an offline *persistent* session its round-robin share of a
shared subscription. The workers therefore keep no session (``SESSION_EXPIRY_S = 0``): a
stopped worker leaves the group at once, and what it had in flight is resent by the kiosk
(which keeps every event until the hub's own ack)."""

from __future__ import annotations

import pytest

from broker import messages as wire
from hub.worker.loop import IngestWorker
from tests.fixtures.mosquitto import collect
from tests.hub.worker.world import event, next_ack

pytestmark = pytest.mark.slow


def a_worker(library, mosquitto, number: int) -> IngestWorker:
    hub = mosquitto.credentials["hub"]
    return IngestWorker(
        library,
        host=mosquitto.host,
        port=mosquitto.port,
        username=hub.username,
        password=hub.password,
        client_id=f"hub-ingest-{number}",
        publish_interval=0.05,
    ).start()


def test_a_worker_stopped_for_good_holds_back_no_event(library, mosquitto):
    first, second = a_worker(library, mosquitto, 1), a_worker(library, mosquitto, 2)
    try:
        kiosk = mosquitto.connect("kiosk-a")
        acks = collect(kiosk, mosquitto.topic("kiosk-a", "acks"))
        warm = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), seq=0)
        kiosk.publish(mosquitto.topic("kiosk-a", "events"), wire.encode(warm), qos=1)
        next_ack(acks, warm.event_id, timeout=20)
        second.stop()  # for good: never comes back
        sent = [
            event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), seq=n) for n in range(1, 21)
        ]
        for one in sent:
            kiosk.publish(mosquitto.topic("kiosk-a", "events"), wire.encode(one), qos=1)
        # Well inside a kiosk's 30 s ack timeout: nobody had to resend anything.
        for one in sent:
            assert next_ack(acks, one.event_id, timeout=15).status == "applied"
    finally:
        first.stop()
        second.stop()
