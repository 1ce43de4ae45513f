"""broker/PROTOCOL.md against the running hub: every example event and request, sent through a
real Mosquitto to a real ingest worker (SQLite and PostgreSQL), gets back the ack or response
the document shows, and the refusals the document promises are sent.

The example world is the one the document's examples speak of: kiosk-a with lockers 1-5; Ada
(member 1042, card 04A1B2C3D4E5F6, 6.50 hours) who has SAW-002 on loan; Sam the steward
(member 7, card DEADBEEF); DRL-001 in locker 3, SAW-002's home locker 5.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from broker import examples
from broker import messages as wire
from broker.examples import CARD, EXAMPLES, STEWARD_CARD
from broker.topics import Channel
from hub.infra.db import transaction
from hub.inventory.registry import add_tool
from hub.members.roster import add_member, assign_card
from hub.timebank.ledger import credit_from_pool
from hub.worker.events import apply_event
from hub.worker.loop import IngestWorker
from tests.fixtures.mosquitto import Collected, collect
from tests.hub.builders import a_kiosk

KIOSK = examples.KIOSK
# The example events in the order the document shows them; the hub applies each but one.
EVENTS = [
    "loan_out",
    "tool_return_ok",
    "tool_return_needs_repair",
    "repair_logged",
    "maintenance_opened",
    "door_opened",
    "door_closed",
    "door_left_open",
    "door_forced",
    "card_refused",
]


@pytest.fixture
def example_world(engine):
    with transaction(engine) as session:
        a_kiosk(session, KIOSK, slots=5, site="test")
        ada = add_member(session, name="Ada Lovelace", number="1042", roles="member,volunteer")
        assign_card(session, ada.id, CARD)
        sam = add_member(session, name="Sam Steward", number="7", roles="member,steward")
        assign_card(session, sam.id, STEWARD_CARD)
        for code, slot, days in (("DRL-001", 3, 7), ("SAW-002", 5, 3)):
            add_tool(
                session, code=code, name=code, category="tools", kiosk_id=KIOSK, slot=slot,
                loan_days=days,
            )  # fmt: skip
        credit_from_pool(
            session, key="opening-1042", member_id=ada.id, hours=Decimal("6.50"),
            description="opening balance",
        )  # fmt: skip
        out = wire.LoanOutEvent(
            event_id=wire.new_message_id(),
            kiosk_id=KIOSK,
            seq=0,
            kiosk_time=examples.AT.replace(hour=8),
            body=wire.LoanOut(card_uid=CARD, tool_code="SAW-002", locker_slot=5),
        )
        assert apply_event(session, out).status == "applied"
    return engine


@pytest.fixture
def hub(example_world, mosquitto):
    credentials = mosquitto.credentials["hub"]
    worker = IngestWorker(
        example_world,
        host=mosquitto.host,
        port=mosquitto.port,
        username=credentials.username,
        password=credentials.password,
        publish_interval=0.05,
    ).start()
    yield worker
    worker.stop()


class Kiosk:
    """kiosk-a, written from PROTOCOL.md alone: raw paho, the wire's encoders and decoders."""

    def __init__(self, mosquitto) -> None:
        self.mosquitto = mosquitto
        self.client = mosquitto.connect(KIOSK)
        self.inbox: Collected = collect(
            self.client, *(mosquitto.topic(KIOSK, c) for c in examples_channels())
        )
        self.allowlist: wire.AllowList | None = None
        self.acks: dict[str, list[wire.EventAck]] = {}
        self.batches: list[wire.EventAcks] = []
        self.responses: dict[str, wire.Response] = {}

    def topic(self, channel: Channel) -> str:
        return self.mosquitto.topic(KIOSK, channel)

    def publish(self, channel: Channel, payload: bytes, **kwargs: Any) -> None:
        self.client.publish(self.topic(channel), payload, qos=1, **kwargs).wait_for_publish(5)

    def send_event(self, payload: bytes) -> None:
        self.publish(Channel.EVENTS, payload)

    def ask(self, payload: bytes) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self.topic(Channel.RESPONSES)
        props.CorrelationData = b"corr"
        self.publish(Channel.REQUESTS, payload, properties=props)

    def ack_of(self, event_id: str, *, nth: int = 1) -> wire.EventAck:
        """Return the ``nth`` ack the hub sent for ``event_id``."""
        self._receive_until(lambda: len(self.acks.get(event_id, [])) >= nth, event_id)
        return self.acks[event_id][nth - 1]

    def response_to(self, request_id: str) -> wire.Response:
        self._receive_until(lambda: request_id in self.responses, request_id)
        return self.responses[request_id]

    def wait_for_allowlist(self) -> wire.AllowList:
        self._receive_until(lambda: self.allowlist is not None, "an allow-list")
        assert self.allowlist is not None
        return self.allowlist

    def _receive_until(self, done, what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"the hub did not answer {what} within {timeout} s")
            try:
                message = self.inbox.get(timeout=max(0.01, deadline - time.monotonic()))
            except AssertionError:
                continue
            self._take(message)

    def _take(self, message) -> None:
        payload = bytes(message.payload)
        if message.topic.endswith("/acks"):
            decoded = wire.decode_acks(payload)
            if isinstance(decoded, wire.EventAcks):
                self.batches.append(decoded)
            for ack in wire.acks_in(payload):
                self.acks.setdefault(ack.event_id, []).append(ack)
        elif message.topic.endswith("/responses"):
            assert message.properties.CorrelationData == b"corr"
            response = wire.decode_response(payload)
            self.responses[response.request_id] = response
        elif message.topic.endswith("/allowlist"):
            self.allowlist = wire.decode_allowlist(payload)


def examples_channels() -> tuple[Channel, ...]:
    return (Channel.ACKS, Channel.RESPONSES, Channel.ALLOWLIST)


@pytest.fixture
def kiosk(hub, mosquitto):
    kiosk = Kiosk(mosquitto)
    # The allow-list comes after the hub subscribed (same connection, in order): from now on
    # nothing the kiosk publishes is missed.
    kiosk.wait_for_allowlist()
    return kiosk


def test_every_example_event_is_acked_as_the_document_says(kiosk):
    for name in EVENTS:
        kiosk.send_event(wire.encode(EXAMPLES[name]))
        event_id = EXAMPLES[name].event_id
        expected = EXAMPLES["ack_applied"] if name == "loan_out" else _applied(event_id)
        assert kiosk.ack_of(event_id) == expected, name
    kiosk.send_event(wire.encode(EXAMPLES["loan_out"]))
    assert kiosk.ack_of(EXAMPLES["loan_out"].event_id, nth=2) == EXAMPLES["ack_duplicate"]
    rejected = EXAMPLES["loan_out_unknown_card"]
    kiosk.send_event(wire.encode(rejected))
    assert kiosk.ack_of(rejected.event_id) == EXAMPLES["ack_rejected"]
    kiosk.send_event(wire.encode(rejected))
    assert kiosk.ack_of(rejected.event_id, nth=2) == EXAMPLES["ack_duplicate_of_rejected"]


def test_every_example_request_is_answered_as_the_document_shows(kiosk):
    for name in EVENTS[:5]:  # the loans, the needs-repair return, the repair and the ticket
        kiosk.send_event(wire.encode(EXAMPLES[name]))
        kiosk.ack_of(EXAMPLES[name].event_id)
    for request, response in (
        ("request_tool_status", "response_tool_status"),
        ("request_balance", "response_balance"),
        ("request_balance_unknown_card", "response_not_found"),
    ):
        kiosk.ask(wire.encode(EXAMPLES[request]))
        assert kiosk.response_to(EXAMPLES[request].request_id) == EXAMPLES[response], request
    kiosk.ask(examples.MALFORMED_REQUEST)
    expected = EXAMPLES["response_malformed_request"]
    assert kiosk.response_to(expected.request_id) == expected
    kiosk.ask(wire.encode(EXAMPLES["request_member_status"]))
    answered = kiosk.response_to(EXAMPLES["request_member_status"].request_id)
    assert answered.data is not None
    # The one figure that is the hub's to choose: the allow-list version it answered from.
    version = answered.data["allowlist_version"]
    assert version is None or (isinstance(version, int) and version >= 1)
    shown = EXAMPLES["response_member_status"]
    assert shown.data is not None
    as_shown = shown.data | {"allowlist_version": version}
    assert answered == shown.model_copy(update={"data": as_shown})


def test_the_refusals_rule_7_promises_are_sent(kiosk):
    oversized = json.loads(wire.encode(EXAMPLES["door_opened"])) | {"note": "x" * 70_000}
    kiosk.send_event(json.dumps(oversized).encode())
    ack = kiosk.ack_of(oversized["event_id"])
    assert ack.status == "rejected" and "the limit is 65,536" in (ack.reason or "")
    not_a_uuid = json.loads(wire.encode(EXAMPLES["door_closed"])) | {"event_id": "door-7"}
    kiosk.send_event(json.dumps(not_a_uuid).encode())
    ack = kiosk.ack_of("door-7")
    assert ack.status == "rejected" and "event_id" in (ack.reason or "")


def test_a_kiosk_whose_status_asks_for_batched_acks_gets_them(kiosk):
    kiosk.send_event(wire.encode(EXAMPLES["door_opened"]))
    kiosk.ack_of(EXAMPLES["door_opened"].event_id)
    assert kiosk.batches == []  # no status yet: v1.0, single acks
    kiosk.publish(Channel.STATUS, wire.encode(EXAMPLES["status_online"]), retain=True)
    # The status is not ordered with the events (it takes no queue): ask until it took effect.
    deadline = time.monotonic() + 15
    while not kiosk.batches:
        assert time.monotonic() < deadline, "no batched ack after the status asked for them"
        event = EXAMPLES["door_closed"].model_copy(
            update={"event_id": wire.new_message_id(), "kiosk_time": datetime.now(UTC)}
        )
        kiosk.send_event(wire.encode(event))
        kiosk.ack_of(event.event_id)
    entry = kiosk.batches[-1].acks[-1]
    assert entry.status == "applied" and entry.reason is None


def _applied(event_id: str) -> wire.EventAck:
    return wire.EventAck(event_id=event_id, status="applied")


def test_an_event_from_a_kiosk_the_hub_has_not_registered_is_rejected(kiosk, mosquitto):
    """Rule 6: kiosk-b has broker credentials but the hub never registered it."""
    stranger = mosquitto.connect("kiosk-b")
    inbox = collect(stranger, mosquitto.topic("kiosk-b", Channel.ACKS))
    door = EXAMPLES["door_opened"].model_copy(update={"kiosk_id": "kiosk-b"})
    stranger.publish(mosquitto.topic("kiosk-b", Channel.EVENTS), wire.encode(door), qos=1)
    ack = wire.decode_ack(bytes(inbox.get(timeout=15).payload))
    assert (ack.event_id, ack.status) == (door.event_id, "rejected")
    assert "kiosk 'kiosk-b' is not registered" in (ack.reason or "")
