"""A batch of decoded kiosk messages taken in, in one transaction, on both databases (no MQTT)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from broker import messages as wire
from broker.inbound import from_kiosk
from broker.topics import Channel, kiosk_topic
from hub.infra.db import DatabaseUnavailable, reading
from hub.inventory import fleet
from hub.worker import events
from hub.worker.batches import apply_batch, apply_one_by_one
from hub.worker.inbox import DeadLetter, InboxEvent
from tests.hub.worker.world import event


def topic(kiosk_id: str, channel: Channel, site: str = "test") -> str:
    return kiosk_topic(site, kiosk_id, channel)


def arrived(message, kiosk_id: str = "kiosk-a", site: str = "test"):
    """``message`` as the worker's door hands it over."""
    return from_kiosk(topic(kiosk_id, message.channel, site), wire.encode(message))


def dead_letters(engine) -> list[DeadLetter]:
    with reading(engine) as session:
        return list(session.exec(select(DeadLetter).order_by(DeadLetter.id)))


def test_events_are_applied_and_acked_to_their_own_kiosk_and_statuses_recorded(library):
    door_a = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    door_b = event(wire.DoorClosedEvent, wire.DoorChange(locker_slot=2), kiosk_id="kiosk-b")
    online = wire.Availability(state="online", since=datetime.now(UTC), outbox_backlog=4)
    batch = [
        arrived(door_a),
        arrived(online, "kiosk-b"),
        from_kiosk(topic("kiosk-a", Channel.STATUS), b""),  # a cleared retained status
        arrived(door_b, "kiosk-b"),
    ]
    result = apply_batch(library, batch)
    assert result.applied == 2
    assert [(t, a.event_id, a.status) for t, a in result.acks] == [
        (topic("kiosk-a", Channel.ACKS), door_a.event_id, "applied"),
        (topic("kiosk-b", Channel.ACKS), door_b.event_id, "applied"),
    ]
    with reading(library) as session:
        status = session.get(fleet.KioskStatus, "kiosk-b")
        assert (status.state, status.outbox_backlog) == ("online", 4)
        assert len(session.exec(select(InboxEvent)).all()) == 2
    assert dead_letters(library) == []


def test_an_event_refused_in_a_batch_is_rejected_alone(library):
    unknown = event(
        wire.LoanOutEvent, wire.LoanOut(card_uid="CAFEBABE", tool_code="DRILL-1", locker_slot=1)
    )
    door = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), seq=2)
    result = apply_batch(library, [arrived(unknown), arrived(door)])
    statuses = {ack.event_id: (ack.status, ack.reason) for _, ack in result.acks}
    assert statuses[door.event_id] == ("applied", None)
    assert statuses[unknown.event_id][0] == "rejected"
    assert "CAFEBABE is not known" in statuses[unknown.event_id][1]


def test_an_undecodable_event_is_dead_lettered_and_rejected_if_its_id_can_be_read(library):
    forged = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), kiosk_id="kiosk-b")
    garbage = from_kiosk(topic("kiosk-a", Channel.EVENTS), b"\xff not json")
    result = apply_batch(library, [arrived(forged, "kiosk-a"), garbage])
    ((ack_topic, ack),) = result.acks
    assert ack_topic == topic("kiosk-a", Channel.ACKS)
    assert (ack.event_id, ack.status) == (forged.event_id, "rejected") and "kiosk_id" in ack.reason
    letters = dead_letters(library)
    assert [(d.kiosk_id, d.payload) for d in letters] == [
        ("kiosk-a", wire.encode(forged)),
        ("kiosk-a", b"\xff not json"),
    ]
    assert "not UTF-8" in letters[1].reason


def test_a_kiosk_the_hub_does_not_know_or_under_another_site_is_refused(library):
    stranger = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), kiosk_id="kiosk-z")
    sneaky = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    result = apply_batch(
        library,
        [
            arrived(stranger, "kiosk-z"),
            arrived(sneaky, site="other-site"),
            from_kiosk(topic("kiosk-z", Channel.STATUS), b"not even JSON"),
        ],
    )
    assert [(t, a.event_id, a.status) for t, a in result.acks] == [
        (topic("kiosk-z", Channel.ACKS), stranger.event_id, "rejected"),
        (topic("kiosk-a", Channel.ACKS, "other-site"), sneaky.event_id, "rejected"),
    ]
    reasons = [d.reason for d in dead_letters(library)]
    assert "'kiosk-z' is not registered" in reasons[0]
    assert "belongs to site 'test', not 'other-site'" in reasons[1]
    assert "'kiosk-z' is not registered" in reasons[2]  # the kiosk is checked first
    with reading(library) as session:
        assert session.exec(select(InboxEvent)).all() == []


def test_a_foreign_topic_is_dead_lettered_with_no_kiosk_and_no_ack(library):
    foreign = "commonshed/v2/test/kiosk/kiosk-a/events"
    payload = wire.encode(event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1)))
    result = apply_batch(library, [from_kiosk(foreign, payload)])
    assert result.acks == []
    ((letter,),) = [dead_letters(library)]
    assert (letter.topic, letter.kiosk_id, letter.payload) == (foreign, None, payload)


def test_one_by_one_a_message_the_hub_cannot_apply_is_dead_lettered_and_rejected(
    library, monkeypatch
):
    def broken(session, event, at):
        raise RuntimeError("applier bug")

    monkeypatch.setitem(events.APPLY, "door_forced", broken)
    forced = event(wire.DoorForcedEvent, wire.DoorChange(locker_slot=1))
    door = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1), seq=2)
    with pytest.raises(RuntimeError):
        apply_batch(library, [arrived(forced), arrived(door)])
    result = apply_one_by_one(library, [arrived(forced), arrived(door)])
    assert {a.event_id: a.status for _, a in result.acks} == {
        forced.event_id: "rejected",
        door.event_id: "applied",
    }
    (letter,) = dead_letters(library)
    assert "the hub could not apply it" in letter.reason and "applier bug" in letter.reason


class DatabaseAway:
    """Make every transaction fail as a database that cannot be reached does."""

    def __init__(self, monkeypatch) -> None:
        import hub.worker.batches as batches

        self.monkeypatch, self.batches = monkeypatch, batches

    def everywhere(self) -> None:
        self.monkeypatch.setattr(self.batches, "transaction", _unreachable)

    def only_for_dead_letters(self) -> None:
        def failing_refusal(*args, **kwargs):
            raise OperationalError("INSERT INTO deadletter", {}, ConnectionError("server closed"))

        self.monkeypatch.setattr(self.batches, "_refuse", failing_refusal)


def _unreachable(engine):
    raise OperationalError("BEGIN", {}, ConnectionError("connection refused"))


@pytest.mark.parametrize("apply", [apply_batch, apply_one_by_one])
def test_a_database_that_cannot_be_reached_is_never_a_rejection(library, monkeypatch, apply):
    DatabaseAway(monkeypatch).everywhere()
    door = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    with pytest.raises(DatabaseUnavailable):
        apply(library, [arrived(door)])  # raised: no ack of any kind goes out


def test_a_dead_letter_that_cannot_be_written_for_want_of_the_database_is_retried_later(
    library, monkeypatch
):
    DatabaseAway(monkeypatch).only_for_dead_letters()
    garbage = from_kiosk(topic("kiosk-a", Channel.EVENTS), b"{not json")
    with pytest.raises(DatabaseUnavailable):
        apply_one_by_one(library, [garbage])


def test_a_dead_letter_that_cannot_be_written_for_another_reason_leaves_the_rest_going(
    library, monkeypatch
):
    import hub.worker.batches as batches

    def broken_refusal(*args, **kwargs):
        raise ValueError("a bug in the dead-letter writer")

    monkeypatch.setattr(batches, "_refuse", broken_refusal)
    garbage = from_kiosk(topic("kiosk-a", Channel.EVENTS), b"{not json")
    door = event(wire.DoorOpenedEvent, wire.DoorChange(locker_slot=1))
    result = apply_one_by_one(library, [garbage, arrived(door)])
    assert [(a.event_id, a.status) for _, a in result.acks] == [(door.event_id, "applied")]


def test_a_kiosks_health_is_recorded_and_a_missing_reader_raises_an_alarm_until_it_is_back(
    library,
):
    def status(reader: str) -> wire.Availability:
        return wire.Availability(
            state="online",
            since=datetime.now(UTC),
            outbox_backlog=3,
            reader=reader,
            reader_reinitialised=2,
            oldest_unacked_s=42.5,
            last_error="kiosk-link: OSError: broken pipe",
            locks_safety="verified",
        )

    apply_batch(library, [arrived(status("missing"))])
    apply_batch(library, [arrived(status("missing"))])  # one alarm, however often it is said
    with reading(library) as session:
        row = session.get(fleet.KioskStatus, "kiosk-a")
        assert (row.reader, row.reader_reinitialised, row.oldest_unacked_s) == ("missing", 2, 42.5)
        assert (row.last_error, row.locks_safety) == (
            "kiosk-link: OSError: broken pipe",
            "verified",
        )
        alarms = session.exec(select(fleet.KioskAlarm)).all()
        assert [(a.kind, a.locker_slot, a.cleared_at) for a in alarms] == [
            ("reader_missing", fleet.WHOLE_KIOSK, None)
        ]
    apply_batch(library, [arrived(status("ok"))])
    with reading(library) as session:
        (alarm,) = session.exec(select(fleet.KioskAlarm)).all()
        assert alarm.cleared_at is not None


def test_an_old_kiosks_status_without_health_is_still_recorded(library):
    old = b'{"v": 1, "state": "online", "since": "2026-11-30T12:00:00Z", "outbox_backlog": 1}'
    apply_batch(library, [from_kiosk(topic("kiosk-a", Channel.STATUS), old)])
    with reading(library) as session:
        row = session.get(fleet.KioskStatus, "kiosk-a")
        assert (row.state, row.outbox_backlog, row.reader) == ("online", 1, None)
    assert dead_letters(library) == []
