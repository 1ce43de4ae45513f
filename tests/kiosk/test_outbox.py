"""The outbox: written before it is sent, seq monotonic and never reused, kept until acked."""

from __future__ import annotations

from broker import messages as wire
from kiosk.outbox import Outbox


def door(slot: int = 1) -> wire.DoorChange:
    return wire.DoorChange(locker_slot=slot)


def ack(event, status="applied", reason=None) -> wire.EventAck:
    return wire.EventAck(event_id=event.event_id, status=status, reason=reason)


def test_events_get_fresh_ids_and_the_next_seq_oldest_first(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db", "kiosk-a")
    written = [outbox.record(wire.DoorOpenedEvent, door(slot)) for slot in (1, 2, 3)]
    assert [e.seq for e in written] == [0, 1, 2]
    assert len({e.event_id for e in written}) == 3
    pending = outbox.pending()
    assert [p.seq for p in pending] == [0, 1, 2]
    assert wire.decode_event(pending[0].payload, kiosk_id="kiosk-a") == written[0]
    assert [p.seq for p in outbox.pending(after=0, limit=1)] == [1]
    outbox.close()


def test_seq_survives_reopening_and_is_never_reused_after_acks(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db", "kiosk-a")
    first = [outbox.record(wire.DoorOpenedEvent, door()) for _ in range(3)]
    assert outbox.acknowledge([ack(e) for e in first]) == 3
    outbox.close()
    reopened = Outbox(tmp_path / "outbox.db", "kiosk-a")
    assert reopened.backlog() == 0
    assert reopened.record(wire.DoorClosedEvent, door()).seq == 3
    reopened.close()


def test_an_event_stays_until_acked_and_a_repeated_ack_changes_nothing(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db", "kiosk-a")
    event = outbox.record(wire.DoorOpenedEvent, door())
    other = outbox.record(wire.DoorClosedEvent, door())
    assert outbox.acknowledge([ack(event, "duplicate")]) == 1
    assert outbox.acknowledge([ack(event)]) == 0
    assert [p.event_id for p in outbox.pending()] == [other.event_id]
    outbox.close()


def test_a_rejected_event_leaves_the_outbox_and_is_kept_with_its_reason(tmp_path):
    outbox = Outbox(tmp_path / "outbox.db", "kiosk-a")
    event = outbox.record(wire.DoorOpenedEvent, door())
    outbox.acknowledge([ack(event, "rejected", "Locker 1 is not registered.")])
    assert outbox.backlog() == 0
    [rejection] = outbox.rejections()
    assert (rejection.event_id, rejection.reason) == (event.event_id, "Locker 1 is not registered.")
    outbox.close()


def test_two_threads_share_the_file_through_their_own_connections(tmp_path):
    import threading

    writer = Outbox(tmp_path / "outbox.db", "kiosk-a")
    seqs = []

    def write_some():
        mine = Outbox(tmp_path / "outbox.db", "kiosk-a")
        seqs.extend(mine.record(wire.DoorOpenedEvent, door()).seq for _ in range(50))
        mine.close()

    thread = threading.Thread(target=write_some)
    thread.start()
    seqs.extend(writer.record(wire.DoorClosedEvent, door()).seq for _ in range(50))
    thread.join()
    assert sorted(seqs) == list(range(100)) and writer.backlog() == 100
    writer.close()


def test_the_status_is_republished_when_the_backlog_moves_notably():
    from kiosk.link import notable_change

    assert notable_change(0, 1) and notable_change(5, 0)  # starting or ending a backlog
    assert not notable_change(3, 8)  # a few events come and go all day
    assert notable_change(3, 13) and notable_change(1000, 1200)
    assert not notable_change(1000, 1150)
