"""The trust boundary through a real Mosquitto and the real ingest, on both databases: what a
kiosk may not claim is refused with the rule named, and nothing but the inbox row is written."""

from __future__ import annotations

import time

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlmodel import func, select

from broker import messages as wire
from broker.topics import Channel, kiosk_topic
from hub.infra.db import reading, transaction
from hub.inventory.fleet import KioskAlarm
from hub.inventory.registry import ToolStatus, tool_by_code
from hub.maintenance.models import Ticket
from hub.worker.inbox import DeadLetter, InboxEvent
from hub.worker.loop import IngestWorker
from tests.fixtures.mosquitto import SITE, collect, start_mosquitto

try:  # a dynamic-security broker confines a kiosk to its own site unless granted any site
    from tests.fixtures.mosquitto import allow_any_site  # type: ignore[attr-defined]
except ImportError:  # the password-file ACL let any kiosk write under any site ('+')
    allow_any_site = None
from tests.hub.builders import a_member
from tests.hub.worker.world import CARD, event, next_ack

STEWARD_CARD = "5AFE0001"


@pytest.fixture
def broker(tmp_path):
    """Mosquitto with a login for kiosk-x too, a kiosk the hub never registered."""
    running = start_mosquitto(tmp_path / "broker", kiosks=("kiosk-a", "kiosk-b", "kiosk-x"))
    yield running
    running.close()


@pytest.fixture
def worker(library, broker):
    with transaction(library) as session:
        a_member(session, "Sam Steward", uid=STEWARD_CARD, roles="steward")
    hub = broker.credentials["hub"]
    running = IngestWorker(
        library,
        host=broker.host,
        port=broker.port,
        username=hub.username,
        password=hub.password,
        publish_interval=0.05,
    ).start()
    _wait_until_subscribed(broker)
    yield running
    running.stop()


def _wait_until_subscribed(broker) -> None:
    """Wait for kiosk-a's retained config: the worker publishes it just after subscribing, so
    events published from now on reach it (not an empty shared group)."""
    probe = broker.connect("kiosk-a")
    configs = collect(probe, kiosk_topic(SITE, "kiosk-a", Channel.CONFIG))
    configs.get(timeout=20)
    probe.disconnect()


def connected(broker, kiosk_id: str, site: str = SITE):
    """Return kiosk ``kiosk_id``'s client, collecting its acks and responses."""
    client = broker.connect(kiosk_id)
    inbox = collect(
        client,
        kiosk_topic(site, kiosk_id, Channel.ACKS),
        kiosk_topic(site, kiosk_id, Channel.RESPONSES),
    )
    return client, inbox


def response_to(inbox, request_id: str, timeout: float = 10.0) -> wire.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = inbox.get(timeout=deadline - time.monotonic())
        if message.topic.endswith("/responses"):
            response = wire.decode_response(message.payload)
            if response.request_id == request_id:
                return response
    raise AssertionError(f"no response to {request_id}")


def publish_event(client, message, kiosk_id: str = "kiosk-a", site: str = SITE) -> None:
    client.publish(kiosk_topic(site, kiosk_id, Channel.EVENTS), wire.encode(message), qos=1)


def count(engine, table, *where) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(table).where(*where)).one()


def test_maintenance_opened_with_a_plain_members_card_is_rejected(worker, broker, library):
    client, inbox = connected(broker, "kiosk-a")
    body = wire.MaintenanceOpened(card_uid=CARD, tool_code="DRILL-1", note="chuck loose")
    opened = event(wire.MaintenanceOpenedEvent, body)
    publish_event(client, opened)
    ack = next_ack(inbox, opened.event_id)
    assert ack.status == "rejected"
    assert "maintenance_opened needs a steward's card" in ack.reason
    assert count(library, Ticket) == 0
    with reading(library) as session:
        assert tool_by_code(session, "DRILL-1").status == ToolStatus.AVAILABLE
        assert session.get(InboxEvent, opened.event_id).outcome == "rejected"


def test_maintenance_opened_with_a_stewards_card_is_applied(worker, broker, library):
    client, inbox = connected(broker, "kiosk-a")
    body = wire.MaintenanceOpened(card_uid=STEWARD_CARD, tool_code="DRILL-1", note="chuck loose")
    opened = event(wire.MaintenanceOpenedEvent, body)
    publish_event(client, opened)
    assert next_ack(inbox, opened.event_id).status == "applied"
    with reading(library) as session:
        assert tool_by_code(session, "DRILL-1").status == ToolStatus.OUT_OF_SERVICE


@pytest.mark.parametrize(
    "kind, body",
    [
        (wire.DoorForcedEvent, wire.DoorChange(locker_slot=99)),
        (wire.LoanOutEvent, wire.LoanOut(card_uid=CARD, tool_code="DRILL-1", locker_slot=99)),
    ],
)
def test_a_locker_slot_the_kiosk_does_not_have_is_rejected(worker, broker, library, kind, body):
    client, inbox = connected(broker, "kiosk-a")
    claim = event(kind, body)
    publish_event(client, claim)
    ack = next_ack(inbox, claim.event_id)
    assert ack.status == "rejected"
    assert "locker slot 99, which kiosk 'kiosk-a' does not have" in ack.reason
    assert count(library, KioskAlarm) == 0
    with reading(library) as session:
        assert tool_by_code(session, "DRILL-1").status == ToolStatus.AVAILABLE


def test_events_of_a_kiosk_the_hub_never_registered_are_refused(worker, broker, library):
    client, inbox = connected(broker, "kiosk-x")
    door = event(wire.DoorForcedEvent, wire.DoorChange(locker_slot=1), kiosk_id="kiosk-x")
    publish_event(client, door, kiosk_id="kiosk-x")
    ack = next_ack(inbox, door.event_id)
    assert ack.status == "rejected" and "'kiosk-x' is not registered at the hub" in ack.reason
    assert count(library, InboxEvent) == 0 and count(library, KioskAlarm) == 0
    assert count(library, DeadLetter) == 1


def ask(client, kiosk_id: str, site: str = SITE) -> str:
    request = wire.MemberStatusRequest(
        request_id=wire.new_message_id(), params=wire.CardParams(card_uid=CARD)
    )
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = kiosk_topic(site, kiosk_id, Channel.RESPONSES)
    client.publish(
        kiosk_topic(site, kiosk_id, Channel.REQUESTS),
        wire.encode(request),
        qos=1,
        properties=props,
    )
    return request.request_id


def test_requests_of_an_unregistered_kiosk_get_an_error_response(worker, broker, library):
    client, inbox = connected(broker, "kiosk-x")
    response = response_to(inbox, ask(client, "kiosk-x"))
    assert not response.ok and response.data is None
    assert "'kiosk-x' is not registered at the hub" in response.error.message


def test_requests_under_another_site_get_an_error_response(worker, broker, library):
    if allow_any_site is not None:
        allow_any_site(broker, "kiosk-a")  # so the request reaches the hub's own check
    client, inbox = connected(broker, "kiosk-a", site="elsewhere")
    response = response_to(inbox, ask(client, "kiosk-a", site="elsewhere"))
    assert not response.ok
    assert "belongs to site 'test', not 'elsewhere'" in response.error.message


def test_a_registered_kiosk_still_gets_its_answer(worker, broker, library):
    client, inbox = connected(broker, "kiosk-a")
    response = response_to(inbox, ask(client, "kiosk-a"))
    assert response.ok and response.data["number"] == "1001"
