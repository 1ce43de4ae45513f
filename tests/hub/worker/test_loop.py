"""The hub's ingest worker against a real Mosquitto (from broker/'s config) and both databases."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlmodel import func, select

from broker import messages as wire
from broker.client import Will, subscribe_and_wait
from broker.topics import Channel
from hub.infra.db import reading, transaction
from hub.inventory.fleet import CardRefusal, KioskAlarm, KioskStatus
from hub.inventory.registry import ToolStatus, tool_by_code
from hub.loans.lending import Loan, open_loan
from hub.maintenance.tickets import live_tickets
from hub.members.ranks import OPERATOR
from hub.members.roster import member_by_number
from hub.members.standing import suspend_member
from hub.queries.tools import tool_board
from hub.timebank.claims import CreditClaim
from hub.worker.inbox import DeadLetter, InboxEvent
from tests.fixtures.mosquitto import allow_any_site, collect
from tests.fixtures.waiting import wait_until
from tests.hub.worker.world import CARD, event, next_ack


@pytest.fixture
def kiosk(mosquitto):
    """kiosk-a's connection, collecting the acks, allow-list and config the hub sends it."""
    client = mosquitto.connect("kiosk-a")
    inbox = collect(
        client,
        mosquitto.topic("kiosk-a", Channel.ACKS),
        mosquitto.topic("kiosk-a", Channel.ALLOWLIST),
        mosquitto.topic("kiosk-a", Channel.CONFIG),
        mosquitto.topic("kiosk-a", Channel.RESPONSES),
    )
    return client, inbox


def send(mosquitto, client, message) -> None:
    client.publish(mosquitto.topic("kiosk-a", Channel.EVENTS), wire.encode(message), qos=1)


def count(engine, table) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def test_borrow_return_needing_repair_and_repair_log_become_hub_records(
    worker, kiosk, mosquitto, library
):
    client, inbox = kiosk
    out = event(wire.LoanOutEvent, wire.LoanOut(card_uid=CARD, tool_code="DRILL-1", locker_slot=1))
    send(mosquitto, client, out)
    assert next_ack(inbox, out.event_id).status == "applied"
    back = event(
        wire.ToolReturnEvent,
        wire.ToolReturn(
            card_uid=CARD,
            tool_code="DRILL-1",
            locker_slot=1,
            condition="needs_repair",
            note="chuck wobbles",
        ),
        seq=2,
    )
    send(mosquitto, client, back)
    assert next_ack(inbox, back.event_id).status == "applied"
    repair = event(
        wire.RepairLoggedEvent,
        wire.RepairLogged(
            card_uid=CARD, tool_code="DRILL-1", hours=Decimal("1.5"), note="new chuck"
        ),
        seq=3,
    )
    send(mosquitto, client, repair)
    assert next_ack(inbox, repair.event_id).status == "applied"
    with reading(library) as session:
        drill = tool_by_code(session, "DRILL-1")
        loan = session.exec(select(Loan)).one()
        assert (loan.return_condition, loan.event_id) == ("needs_repair", out.event_id)
        assert drill.status == ToolStatus.OUT_OF_SERVICE
        assert [t.note for t in live_tickets(session, tool_id=drill.id)] == ["chuck wobbles"]
        claim = session.exec(select(CreditClaim)).one()
        assert claim.hours == Decimal("1.50") and claim.status == "pending"


def test_a_redelivered_event_has_one_effect_and_is_acked_duplicate(
    worker, kiosk, mosquitto, library
):
    client, inbox = kiosk
    refused = event(
        wire.CardRefusedEvent, wire.CardRefused(card_uid="CAFEBABE", reason="unknown_card")
    )
    send(mosquitto, client, refused)
    assert next_ack(inbox, refused.event_id).status == "applied"
    send(mosquitto, client, refused)
    assert next_ack(inbox, refused.event_id).status == "duplicate"
    assert count(library, CardRefusal) == 1 and count(library, InboxEvent) == 1


def test_door_alarms_are_raised_and_cleared(worker, kiosk, mosquitto, library):
    client, inbox = kiosk
    for seq, kind in enumerate(
        (wire.DoorForcedEvent, wire.DoorLeftOpenEvent, wire.DoorClosedEvent), start=1
    ):
        sent = event(kind, wire.DoorChange(locker_slot=2), seq=seq)
        send(mosquitto, client, sent)
        next_ack(inbox, sent.event_id)
    with reading(library) as session:
        alarms = {a.kind: a.cleared_at for a in session.exec(select(KioskAlarm))}
    assert alarms["door_forced"] is None and alarms["door_left_open"] is not None


def test_unknown_card_event_is_rejected_with_reason_and_kept(worker, kiosk, mosquitto, library):
    client, inbox = kiosk
    out = event(
        wire.LoanOutEvent, wire.LoanOut(card_uid="CAFEBABE", tool_code="DRILL-1", locker_slot=1)
    )
    send(mosquitto, client, out)
    ack = next_ack(inbox, out.event_id)
    assert ack.status == "rejected" and "CAFEBABE is not known" in ack.reason
    with reading(library) as session:
        assert session.get(InboxEvent, out.event_id).outcome == "rejected"
        assert open_loan(session, tool_by_code(session, "DRILL-1").id) is None


MALFORMED = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.dictionaries(
        st.sampled_from(["v", "event_id", "type", "seq", "body", "kiosk_id", "x"]),
        st.one_of(
            st.none(), st.integers(), st.text(max_size=30), st.lists(st.integers(), max_size=3)
        ),
        max_size=6,
    ).map(lambda d: json.dumps(d).encode()),
    st.just(b'{"v": 2, "type": "loan_out"}'),
    st.just(("x" * 70_000).encode()),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=MALFORMED)
def test_malformed_payloads_go_to_the_dead_letter_and_the_worker_carries_on(
    worker, kiosk, mosquitto, library, payload
):
    client, inbox = kiosk
    before = count(library, DeadLetter)
    client.publish(mosquitto.topic("kiosk-a", Channel.EVENTS), payload, qos=1)
    good = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    send(mosquitto, client, good)
    assert next_ack(inbox, good.event_id).status == "applied"  # still alive, still in order
    assert count(library, DeadLetter) == before + 1
    with reading(library) as session:
        letter = session.exec(select(DeadLetter).order_by(DeadLetter.id.desc())).first()
    assert letter.payload == payload and letter.reason


def test_event_claiming_another_kiosk_is_dead_lettered(worker, kiosk, mosquitto, library):
    client, inbox = kiosk
    forged = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), kiosk_id="kiosk-b")
    send(mosquitto, client, forged)  # on kiosk-a's own topic, claiming to be kiosk-b
    ack = next_ack(inbox, forged.event_id)
    assert ack.status == "rejected" and "kiosk_id" in ack.reason
    assert count(library, InboxEvent) == 0


def test_allowlist_and_config_are_retained_and_a_suspension_is_pushed_at_once(
    worker, kiosk, mosquitto, library
):
    client, inbox = kiosk
    allowlist = _next_snapshot(inbox, "allowlist")
    assert allowlist.entries[CARD].status == "active"
    config = _next_snapshot(inbox, "config")
    assert config.lockers[1].tool_code == "DRILL-1" and config.lockers[2] is None
    with transaction(library) as session:
        suspend_member(session, OPERATOR, member_by_number(session, "1001").id, "tools overdue")
    # How fast is bench/'s business; here: pushed without any kiosk asking.
    updated = _next_snapshot(inbox, "allowlist")
    assert updated.entries[CARD].status == "suspended" and updated.version > allowlist.version


def test_kiosk_status_and_last_will_update_fleet_health(worker, mosquitto, library):
    will = wire.Availability(state="offline")
    kiosk_b = mosquitto.connect(
        "kiosk-b", will=Will(mosquitto.topic("kiosk-b", Channel.STATUS), wire.encode(will))
    )
    online = wire.Availability(
        state="online", since=datetime.now(UTC), allowlist_version=1, outbox_backlog=3
    )
    kiosk_b.publish(
        mosquitto.topic("kiosk-b", Channel.STATUS), wire.encode(online), qos=1, retain=True
    )
    wait_until(lambda: _state(library, "kiosk-b") == ("online", 3), 10, "kiosk-b online, backlog 3")
    kiosk_b._sock.close()  # drop the connection without DISCONNECT: the broker sends the will
    wait_until(lambda: _state(library, "kiosk-b")[0] == "offline", 10, "kiosk-b's will")


def test_member_status_request_is_answered_on_the_response_topic(worker, kiosk, mosquitto):
    client, inbox = kiosk
    _next_snapshot(inbox, "allowlist")  # the worker has its allow-list in memory
    request = wire.MemberStatusRequest(
        request_id=wire.new_message_id(), params=wire.CardParams(card_uid=CARD)
    )
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = mosquitto.topic("kiosk-a", Channel.RESPONSES)
    props.CorrelationData = b"corr-1"
    client.publish(
        mosquitto.topic("kiosk-a", Channel.REQUESTS), wire.encode(request), qos=1, properties=props
    )
    while True:
        message = inbox.get()
        if message.topic.endswith("/responses"):
            break
    response = wire.decode_response(message.payload)
    assert response.ok and response.data["number"] == "1001"
    assert response.request_id == request.request_id
    assert message.properties.CorrelationData == b"corr-1"


def _next_snapshot(inbox, channel: str, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = inbox.get(timeout=deadline - time.monotonic())
        if message.topic.endswith("/" + channel):
            return wire.DECODERS[Channel(channel)](message.payload)
    raise AssertionError(f"no {channel} within {timeout} s")


def _next_snapshot_where(inbox, channel: str, holds, timeout: float = 10.0):
    """Return the first ``channel`` snapshot for which ``holds`` is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snapshot = _next_snapshot(inbox, channel, timeout=deadline - time.monotonic())
        if holds(snapshot):
            return snapshot
    raise AssertionError(f"no {channel} as expected within {timeout} s")


def _state(engine, kiosk_id: str):
    with reading(engine) as session:
        status = session.get(KioskStatus, kiosk_id)
        return (status.state, status.outbox_backlog) if status else (None, None)


def test_kiosk_speaking_under_another_site_is_dead_lettered(worker, mosquitto, library):
    allow_any_site(mosquitto, "kiosk-a")  # the broker refuses it otherwise; test the hub's check
    client = mosquitto.connect("kiosk-a")
    sneaky = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    topic = mosquitto.topic("kiosk-a", Channel.EVENTS).replace("/test/", "/other-site/")
    client.publish(topic, wire.encode(sneaky), qos=1)
    wait_until(lambda: count(library, DeadLetter) == 1, 10, "the dead letter")
    with reading(library) as session:
        assert "belongs to site 'test'" in session.exec(select(DeadLetter)).one().reason
    assert count(library, InboxEvent) == 0


def test_a_return_at_another_kiosk_rehomes_the_tool_there(worker, kiosk, mosquitto, library):
    client, inbox = kiosk
    out = event(wire.LoanOutEvent, wire.LoanOut(card_uid=CARD, tool_code="DRILL-1", locker_slot=1))
    send(mosquitto, client, out)
    next_ack(inbox, out.event_id)
    # NOTE: an allow-list built just before the loan committed may still arrive first.
    lent = _next_snapshot_where(
        inbox, "allowlist", lambda allowlist: allowlist.entries[CARD].loans == ["DRILL-1"]
    )
    assert lent.entries[CARD].loans == ["DRILL-1"]
    kiosk_b = mosquitto.connect("kiosk-b")
    acks_b = collect(
        kiosk_b,
        mosquitto.topic("kiosk-b", Channel.ACKS),
        mosquitto.topic("kiosk-b", Channel.CONFIG),
    )
    back = event(
        wire.ToolReturnEvent,
        wire.ToolReturn(card_uid=CARD, tool_code="DRILL-1", locker_slot=2, condition="ok"),
        kiosk_id="kiosk-b",
    )
    kiosk_b.publish(mosquitto.topic("kiosk-b", Channel.EVENTS), wire.encode(back), qos=1)
    assert next_ack(acks_b, back.event_id).status == "applied"
    with reading(library) as session:
        board = {row.tool.code: (row.kiosk_id, row.slot) for row in tool_board(session)}
        assert board["DRILL-1"] == ("kiosk-b", 2)
        assert open_loan(session, tool_by_code(session, "DRILL-1").id) is None
    # NOTE: next_ack skipped whatever came before the ack, a new config included: subscribing
    # again brings the retained config back (a newer one still arrives after it).
    subscribe_and_wait(kiosk_b, mosquitto.topic("kiosk-b", Channel.CONFIG))
    wait_until(lambda: _config_has(acks_b, 2, "DRILL-1"), 10, "kiosk-b's config with DRILL-1")


def _config_has(collected, slot: int, tool_code: str) -> bool:
    for message in collected.drain():
        if message.topic.endswith("/config"):
            entry = wire.decode_config(message.payload).lockers.get(slot)
            if entry and entry.tool_code == tool_code:
                return True
    return False
