"""Acks that scale: a v1.0 kiosk (single acks) and a batched-ack kiosk side by side, each with
the real kiosk link and outbox, through a real Mosquitto to a real ingest worker."""

from __future__ import annotations

from broker import messages as wire
from broker.inbound import Cleared, KioskStatus, from_kiosk
from broker.topics import Channel
from hub.worker.acks import AckForms
from kiosk.config import MqttSettings
from kiosk.link import Link
from kiosk.outbox import Outbox
from tests.fixtures.mosquitto import SITE, collect
from tests.fixtures.waiting import wait_until

EVENTS_EACH = 60


def a_link(mosquitto, tmp_path, kiosk_id: str, *, batched_acks: bool) -> Link:
    credentials = mosquitto.credentials[kiosk_id]
    return Link(
        kiosk_id=kiosk_id,
        site=SITE,
        mqtt_settings=MqttSettings(
            host=mosquitto.host,
            port=mosquitto.port,
            username=credentials.username,
            password=credentials.password,
        ),
        outbox_path=tmp_path / f"{kiosk_id}.db",
        on_snapshot=lambda *_: None,
        versions=lambda: (None, None),
        batched_acks=batched_acks,
    )


def test_v1_and_batched_ack_kiosks_side_by_side(worker, mosquitto, tmp_path):
    # An observer with the hub's rights sees every ack message on the wire, as sent.
    observer = collect(
        mosquitto.connect("hub"),
        mosquitto.topic("kiosk-a", Channel.ACKS),
        mosquitto.topic("kiosk-b", Channel.ACKS),
    )
    old = a_link(mosquitto, tmp_path, "kiosk-a", batched_acks=False).start()
    new = a_link(mosquitto, tmp_path, "kiosk-b", batched_acks=True).start()
    try:
        wait_until(
            lambda: worker.ack_forms.batched(mosquitto.topic("kiosk-b", Channel.ACKS)),
            15,
            "the hub to read kiosk-b's status asking for batched acks",
        )
        for link in (old, new):
            outbox = Outbox(link.outbox_path, link.kiosk_id)
            for _ in range(EVENTS_EACH // 2):
                outbox.record(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
                outbox.record(wire.DoorClosedEvent, wire.DoorChange(locker_slot=1))
            outbox.close()
            link.wake()
        wait_until(
            lambda: old.figures.acknowledged == new.figures.acknowledged == EVENTS_EACH,
            30,
            "both kiosks' outboxes emptied by the hub's acks",
        )
    finally:
        old.stop()
        new.stop()
    singles, batches = _ack_messages(observer.drain())
    assert batches.get("kiosk-a", 0) == 0 and singles["kiosk-a"] == EVENTS_EACH
    assert singles.get("kiosk-b", 0) == 0
    assert 1 <= batches["kiosk-b"] < EVENTS_EACH  # several acks travelled together


def _ack_messages(messages) -> tuple[dict[str, int], dict[str, int]]:
    """Count single-ack and batched-ack messages per kiosk."""
    singles: dict[str, int] = {}
    batches: dict[str, int] = {}
    for message in messages:
        kiosk_id = message.topic.split("/")[4]
        decoded = wire.decode_acks(bytes(message.payload))
        counts = batches if isinstance(decoded, wire.EventAcks) else singles
        counts[kiosk_id] = counts.get(kiosk_id, 0) + 1
    return singles, batches


def _status(kiosk_id: str, status: wire.Availability | None) -> KioskStatus | Cleared:
    topic = f"commonshed/v1/{SITE}/kiosk/{kiosk_id}/status"
    message = from_kiosk(topic, wire.encode(status) if status else b"")
    assert isinstance(message, KioskStatus | Cleared)
    return message


def test_ack_forms_follow_each_kiosks_latest_status():
    forms = AckForms()
    ack_topic = f"commonshed/v1/{SITE}/kiosk/kiosk-b/acks"
    acks = [(ack_topic, wire.EventAck(event_id=f"e-{n}", status="applied")) for n in range(3)]
    assert len(forms.payloads(acks)) == 3  # nothing heard: v1.0, one ack per message
    forms.note(_status("kiosk-b", wire.Availability(state="online", features=["batched_acks"])))
    (only,) = forms.payloads(acks)
    assert only[0] == ack_topic and len(wire.acks_in(only[1])) == 3
    forms.note(_status("kiosk-b", wire.Availability(state="offline")))  # its will: back to v1.0
    assert len(forms.payloads(acks)) == 3
    forms.note(_status("kiosk-b", wire.Availability(state="online", features=["batched_acks"])))
    forms.note(_status("kiosk-b", None))  # its retained status deleted
    assert len(forms.payloads(acks)) == 3
