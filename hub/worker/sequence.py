"""Each kiosk's sequence and clock as the hub tracks them: loan events are paired in the order
their kiosk made them (``seq``), and every event is placed on the hub's clock.

Held events. A kiosk numbers its events 0, 1, 2, ... (``kiosk.outbox``). When a ``loan_out`` or
``tool_return`` arrives while an earlier ``seq`` of its kiosk is still missing (a resend after a
broker restart is on its way), it is *held*: stored in the inbox with outcome ``held`` and its
payload, acknowledged (the kiosk must not resend it forever), and applied once the gap fills
(on the missing event's arrival, in ``seq`` order) or once ``settings.seq_hold()`` has passed
(the next event of that kiosk, or the housekeeping job, releases it; the pairing rules of
``hub.loans.kiosk`` then record a conflict rather than guess). Other events are applied at once:
their order does not change a loan, and an alarm should not wait.

Restarts. A kiosk whose outbox starts again (a fresh SD card counts from 0 again) is noticed when
an event reuses a ``seq`` the hub already has from it with another id (the inbox keeps every
event): its sequence starts a new ``epoch`` there; what the old one still held is released.
The first event the hub hears from a kiosk starts its sequence: earlier ones arriving later are
applied as they come (the pairing rules still order a loan and its return).

Clocks. Every event keeps the kiosk's clock (``kiosk_time``) and the hub's receive time
(``received_at``) in the inbox. An event's hub time is its kiosk time, but never later than the
hub received it (a fast clock cannot date a loan in the future); due dates count from the
receive time (the hub's clock decides overdue). ``clock_offset_s`` estimates how far the kiosk's
clock runs ahead of the hub's (negative: behind) as the largest ``kiosk_time - received_at`` over
the last ``OFFSET_WINDOW`` (delivery only ever delays an event, so the freshest one shows the
clock best); beyond ``settings.clock_skew_bound()`` the kiosks page flags it. A kiosk behind and
a kiosk delivering a backlog look alike for a while, so a slow clock is flagged, not corrected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Field, Session, SQLModel, col, select

from broker import messages as wire
from hub.infra.clock import as_utc
from hub.infra.settings import seq_hold
from hub.worker.inbox import InboxEvent

log = logging.getLogger("commonshed.ingest")

HELD = "held"
PAIRED_IN_ORDER = frozenset({"loan_out", "tool_return"})  # the events a gap holds back
OFFSET_WINDOW = timedelta(minutes=10)
NOT_STARTED = -1  # next_seq of a kiosk the hub has not heard from yet


class KioskSequence(SQLModel, table=True):
    """Where each kiosk's sequence stands at the hub, and how its clock compares."""

    kiosk_id: str = Field(primary_key=True, foreign_key="kiosk.id", max_length=32)
    epoch: int = 0
    next_seq: int = 0  # the lowest seq of this epoch not received yet
    # Where the hub began hearing this epoch: every seq from here to next_seq has arrived
    # (earlier ones may still come, late); None for a sequence begun before this was kept.
    first_seq: int | None = None
    gap_since: datetime | None = None  # since when a later event waits for a missing one
    clock_offset_s: float | None = None
    clock_offset_at: datetime | None = None


@dataclass(frozen=True)
class Held:
    """An event taken out of the hold, to apply now: the event, when the hub received it, and
    the epoch of its kiosk's sequence it belongs to (a restart releases the old epoch's)."""

    event: wire.Event
    received_at: datetime
    epoch: int


@dataclass
class Placed:
    """Where a new event went: held or not, and the held events to apply before and after it."""

    hold: bool
    before: list[Held] = field(default_factory=list)
    after: list[Held] = field(default_factory=list)


@dataclass
class _Kiosk:
    """One kiosk's sequence during a batch: the stored row, where the sequence stands now, and
    the seqs beyond its gap.

    NOTE: ``epoch``, ``next_seq`` and ``gap_since`` move here and reach the row once, in
    ``Sequencer.save``: kept on the row, they were written by the autoflush before nearly every
    query, an UPDATE per event (bench/hub_ingest_bench.py --in-process). The row stays locked
    (``_kiosk``) until the batch commits, so no other worker reads it in between.
    """

    row: KioskSequence
    epoch: int
    next_seq: int
    gap_since: datetime | None
    first_seq: int | None
    ahead: dict[int, tuple[str, bytes | None, datetime]] = field(default_factory=dict)
    placed: set[int] = field(default_factory=set)  # seqs of this epoch taken in this batch
    # Seqs below next_seq that this batch carries and the inbox already holds (read at once).
    taken_before: set[int] | None = None
    prepared_epoch: int | None = None  # the epoch taken_before was read for


class Sequencer:
    """The sequences of the kiosks in one batch, kept in the batch's transaction."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self.kiosks: dict[str, _Kiosk] = {}

    # --- clocks ---------------------------------------------------------------------------

    def prepare(self, events: list[wire.Event]) -> None:
        """Read what placing this batch's new events needs, a query per kiosk at most, and
        update each kiosk's clock offset from them."""
        self.note_clocks(events)
        late: dict[str, set[int]] = {}
        for event in events:
            if 0 <= event.seq < self._kiosk(event.kiosk_id).next_seq:
                late.setdefault(event.kiosk_id, set()).add(event.seq)
        for kiosk_id, seqs in late.items():
            kiosk = self.kiosks[kiosk_id]
            kiosk.prepared_epoch = kiosk.epoch
            kiosk.taken_before = set(
                self.session.exec(
                    select(InboxEvent.seq).where(
                        InboxEvent.kiosk_id == kiosk_id,
                        InboxEvent.epoch == kiosk.epoch,
                        col(InboxEvent.seq).in_(seqs),
                    )
                ).all()
            )

    def note_clocks(self, events: list[wire.Event]) -> None:
        """Update each kiosk's clock offset from this batch's events."""
        best: dict[str, timedelta] = {}
        for event in events:
            offset = as_utc(event.kiosk_time) - self.now
            best[event.kiosk_id] = max(best.get(event.kiosk_id, offset), offset)
        for kiosk_id, offset in sorted(best.items()):  # rows locked in one order: no deadlock
            row = self._kiosk(kiosk_id).row
            fresh = row.clock_offset_at and self.now - as_utc(row.clock_offset_at) < OFFSET_WINDOW
            seconds = offset.total_seconds()
            if not fresh or row.clock_offset_s is None or seconds >= row.clock_offset_s:
                row.clock_offset_s, row.clock_offset_at = seconds, self.now
                self.session.add(row)

    def hub_time(self, event: wire.Event, received_at: datetime) -> datetime:
        """Return the event's time on the hub's clock (module docstring, "Clocks")."""
        return min(as_utc(event.kiosk_time), as_utc(received_at))

    # --- sequence -------------------------------------------------------------------------

    def epoch(self, kiosk_id: str) -> int:
        return self._kiosk(kiosk_id).epoch

    def place(self, event: wire.Event) -> Placed:
        """Place a new event in its kiosk's sequence: whether to hold it, and the held events
        to apply before it (a restart, or the end of a wait, lets them go) and after it (the
        gap it filled)."""
        kiosk = self._kiosk(event.kiosk_id)
        if kiosk.next_seq < 0:
            # The first event the hub hears from this kiosk: its sequence starts here (the
            # hub cannot know whether earlier ones are on their way, so it does not wait).
            kiosk.next_seq = kiosk.first_seq = event.seq
        before = self._release_if_waited_too_long(kiosk)
        if self._restarted(kiosk, event):
            before += self._release_all(kiosk)
            kiosk.epoch += 1
            kiosk.next_seq, kiosk.placed = event.seq, set()
            kiosk.first_seq = event.seq
        kiosk.placed.add(event.seq)
        placed = Placed(hold=False, before=before)
        if event.seq == kiosk.next_seq:
            kiosk.next_seq += 1
            placed.after = self._advance(kiosk)
        elif event.seq > kiosk.next_seq:
            placed.hold = event.type in PAIRED_IN_ORDER
            payload = wire.encode(event) if placed.hold else None
            kiosk.ahead[event.seq] = (event.event_id, payload, self.now)
        self._note_gap(kiosk)
        return placed

    def all_arrived(self, kiosk_id: str, epoch: int, after: int, before: int) -> bool:
        """Tell whether every seq strictly between ``after`` and ``before`` of the kiosk's
        ``epoch`` has reached the hub, so nothing unknown lies between two of its events.

        Within what the hub has heard contiguously (``first_seq`` to ``next_seq``) no query is
        needed; a range reaching before where the hub began hearing asks the inbox.
        """
        if before - after <= 1:
            return True
        kiosk = self._kiosk(kiosk_id)
        if epoch != kiosk.epoch:
            return True  # an older run of the sequence: what it missed is not coming
        heard_from = kiosk.next_seq if kiosk.first_seq is None else kiosk.first_seq
        wanted = {
            seq
            for seq in range(after + 1, before)
            if not heard_from <= seq < kiosk.next_seq
            and seq not in kiosk.ahead
            and seq not in kiosk.placed
        }
        if not wanted:
            return True
        found = self.session.exec(
            select(InboxEvent.seq).where(
                InboxEvent.kiosk_id == kiosk_id,
                InboxEvent.epoch == epoch,
                col(InboxEvent.seq).in_(wanted),
            )
        ).all()
        return wanted <= set(found)

    def release_waited_too_long(self) -> list[Held]:
        """Release the held events of every kiosk whose gap has waited past the hold."""
        since = self.now - seq_hold()
        rows = self.session.exec(
            select(KioskSequence).where(col(KioskSequence.gap_since) < since)
        ).all()
        released: list[Held] = []
        for row in rows:
            released += self._release_if_waited_too_long(self._kiosk(row.kiosk_id))
        return released

    def _release_if_waited_too_long(self, kiosk: _Kiosk) -> list[Held]:
        gap_since = kiosk.gap_since
        if gap_since is None or self.now - as_utc(gap_since) <= seq_hold():
            return []
        missing = [
            seq
            for seq in range(kiosk.next_seq, max(kiosk.ahead, default=kiosk.next_seq))
            if seq not in kiosk.ahead
        ]
        log.warning(
            "kiosk %s: seq %s still missing after %s; pairing its later loan events anyway",
            kiosk.row.kiosk_id,
            ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else ""),
            seq_hold(),
        )
        return self._release_all(kiosk)

    def _release_all(self, kiosk: _Kiosk) -> list[Held]:
        """Give up on the gaps: take everything beyond them, held events released in order."""
        released = [
            self._held(seq, kiosk) for seq in sorted(kiosk.ahead) if kiosk.ahead[seq][1] is not None
        ]
        if kiosk.ahead:
            kiosk.next_seq = max(kiosk.ahead) + 1
        kiosk.ahead.clear()
        self._note_gap(kiosk)
        return released

    def _advance(self, kiosk: _Kiosk) -> list[Held]:
        """Move past every seq now contiguous, releasing the held ones among them."""
        released = []
        while kiosk.next_seq in kiosk.ahead:
            if kiosk.ahead[kiosk.next_seq][1] is not None:
                released.append(self._held(kiosk.next_seq, kiosk))
            del kiosk.ahead[kiosk.next_seq]
            kiosk.next_seq += 1
        return released

    def _held(self, seq: int, kiosk: _Kiosk) -> Held:
        _event_id, payload, received_at = kiosk.ahead[seq]
        assert payload is not None
        return Held(wire.decode_event(payload), received_at, kiosk.epoch)

    def _restarted(self, kiosk: _Kiosk, event: wire.Event) -> bool:
        """Tell whether ``event`` starts its kiosk's sequence again (a fresh outbox)."""
        if event.seq in kiosk.ahead or event.seq in kiosk.placed:
            return True
        if event.seq >= kiosk.next_seq:
            return False
        if kiosk.taken_before is not None and event.seq in kiosk.taken_before:
            return True
        if kiosk.taken_before is not None and kiosk.epoch == kiosk.prepared_epoch:
            return False
        taken = self.session.exec(
            select(InboxEvent.event_id).where(
                InboxEvent.kiosk_id == event.kiosk_id,
                InboxEvent.epoch == kiosk.epoch,
                InboxEvent.seq == event.seq,
            )
        ).first()
        return taken is not None

    def _note_gap(self, kiosk: _Kiosk) -> None:
        if not kiosk.ahead:
            kiosk.gap_since = None
        elif kiosk.gap_since is None:
            kiosk.gap_since = self.now

    def save(self) -> None:
        """Write where each kiosk's sequence now stands to its row (once per batch)."""
        for kiosk in self.kiosks.values():
            row = kiosk.row
            row.epoch, row.next_seq, row.gap_since = kiosk.epoch, kiosk.next_seq, kiosk.gap_since
            row.first_seq = kiosk.first_seq
            self.session.add(row)

    def _kiosk(self, kiosk_id: str) -> _Kiosk:
        """Return the kiosk's sequence for this batch, loading its row and, if a gap is open,
        the events stored beyond it."""
        kiosk = self.kiosks.get(kiosk_id)
        if kiosk is None:
            # NOTE: locked (PostgreSQL) so two workers sharing a kiosk's events take its
            # sequence in turn; SQLite has one writer at a time anyway.
            row = self.session.get(KioskSequence, kiosk_id, with_for_update=True)
            if row is None:
                row = KioskSequence(kiosk_id=kiosk_id, next_seq=NOT_STARTED)
            kiosk = _Kiosk(row, row.epoch, row.next_seq, row.gap_since, row.first_seq)
            self.kiosks[kiosk_id] = kiosk
            if row.gap_since is not None:
                kiosk.ahead = self._stored_ahead(row)
        return kiosk

    def _stored_ahead(self, row: KioskSequence) -> dict[int, tuple[str, bytes | None, datetime]]:
        query = select(
            InboxEvent.seq, InboxEvent.event_id, InboxEvent.payload, InboxEvent.received_at
        ).where(
            InboxEvent.kiosk_id == row.kiosk_id,
            InboxEvent.epoch == row.epoch,
            InboxEvent.seq >= row.next_seq,
        )
        return {
            seq: (event_id, payload, as_utc(received_at))
            for seq, event_id, payload, received_at in self.session.exec(query)
        }
