"""The kiosk's link: what the hub sends is decoded once, in the link's thread, and routed.

These drive the link's thread step by step, with messages handed over as paho would; no broker.
"""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt
import pytest

from broker import examples
from broker import messages as wire
from broker.topics import Channel, kiosk_topic
from kiosk.config import MqttSettings
from kiosk.link import Link
from kiosk.outbox import Outbox


@pytest.fixture
def link(tmp_path):
    snapshots: list[tuple[str, bytes, object]] = []
    link = Link(
        kiosk_id="kiosk-a",
        site="main",
        mqtt_settings=MqttSettings(host="127.0.0.1", port=1, username="kiosk-a"),
        outbox_path=tmp_path / "outbox.db",
        on_snapshot=lambda kind, payload, document: snapshots.append((kind, payload, document)),
        versions=lambda: (None, None),
    )
    link.snapshots = snapshots
    return link


@pytest.fixture
def outbox(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db", "kiosk-a")
    yield outbox
    outbox.close()


def hand_over(link: Link, channel: Channel, payload: bytes) -> None:
    """Deliver ``payload`` on this kiosk's ``channel`` as paho's network thread does."""
    message = mqtt.MQTTMessage(topic=kiosk_topic("main", "kiosk-a", channel).encode())
    message.payload = payload
    link.client.on_message(link.client, None, message)


def test_an_ack_from_the_hub_removes_its_event_from_the_outbox(link, outbox):
    sent = outbox.record(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    ack = wire.EventAck(event_id=sent.event_id, status="applied")
    hand_over(link, Channel.ACKS, wire.encode(ack))
    assert link._step(outbox)
    assert outbox.backlog() == 0 and link.figures.acknowledged == 1


def test_an_allowlist_is_passed_on_decoded_and_a_deleted_one_is_ignored(link, outbox):
    allowlist = examples.EXAMPLES["allowlist"]
    hand_over(link, Channel.ALLOWLIST, wire.encode(allowlist))
    hand_over(link, Channel.CONFIG, b"")  # a retained config deleted
    link._step(outbox)
    assert link.snapshots == [("allowlist", wire.encode(allowlist), allowlist)]


def test_what_does_not_decode_is_logged_and_goes_no_further(link, outbox, caplog):
    sent = outbox.record(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    tampered = wire.encode(examples.EXAMPLES["config"]).replace(b"Shed door", b"Shed roof")
    with caplog.at_level(logging.ERROR, logger="commonshed.kiosk.link"):
        hand_over(link, Channel.ACKS, b'{"v": 1, "status": "applied"}')
        hand_over(link, Channel.CONFIG, tampered)
        link._step(outbox)
    assert link.snapshots == [] and outbox.backlog() == 1 and outbox.get(sent.event_id)
    assert "ignored a malformed ack: event_id" in caplog.text
    assert "refused a config from the hub: content_hash" in caplog.text


def test_a_batch_of_acks_settles_each_event_and_a_duplicate_of_a_rejection_is_a_rejection(
    link, outbox
):
    sent = [outbox.record(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1)) for _ in range(3)]
    acks = [
        wire.EventAck(event_id=sent[0].event_id, status="applied"),
        wire.EventAck(event_id=sent[1].event_id, status="duplicate"),
        wire.EventAck(event_id=sent[2].event_id, status="duplicate", reason="Slot 1 is gone."),
    ]
    (batch,) = wire.encode_acks(acks, batched=True)
    hand_over(link, Channel.ACKS, batch)
    assert link._step(outbox)
    assert outbox.backlog() == 0 and link.figures.acknowledged == 3
    assert [(r.event_id, r.reason) for r in outbox.rejections()] == [
        (sent[2].event_id, "Slot 1 is gone.")
    ]


def test_the_link_says_in_its_status_whether_it_wants_batched_acks(tmp_path):
    def status_of(batched_acks: bool) -> wire.Availability:
        link = Link(
            kiosk_id="kiosk-a",
            site="main",
            mqtt_settings=MqttSettings(host="127.0.0.1", port=1, username="kiosk-a"),
            outbox_path=tmp_path / f"{batched_acks}.db",
            on_snapshot=lambda *_: None,
            versions=lambda: (None, None),
            batched_acks=batched_acks,
        )
        published: list[bytes] = []
        link.client.publish = lambda topic, payload, **_: published.append(payload)
        outbox = Outbox(link.outbox_path, "kiosk-a")
        link._report(outbox, force=True)
        outbox.close()
        return wire.decode_availability(published[-1])

    assert status_of(True).speaks(wire.BATCHED_ACKS)
    assert status_of(False).features is None
