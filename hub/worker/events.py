"""Apply kiosk events to the hub's records, each exactly once.

A kiosk event is a fact: the kiosk decided from its allow-list and the locker opened, so the
hub records what happened even if its own rules have moved on since (a member suspended a
second ago still took the drill). What a kiosk may not claim (``trust``: a card nobody holds, a
steward's action by a non-steward, a locker that does not exist) makes the event ``rejected``:
it is kept in the inbox with its reason, acknowledged so the kiosk stops resending it, and
shown to stewards. This module decodes and dispatches; loans and returns belong to
``hub.loans`` (through ``hub.maintenance.returns`` for a return's repair ticket), their order
and clocks to ``hub.worker.sequence``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, update
from sqlmodel import Session, select

from broker import messages as wire
from hub.errors import DomainError
from hub.infra.clock import as_utc, utcnow
from hub.inventory import fleet
from hub.inventory.registry import rehome_tool, tool_by_code
from hub.loans import holds
from hub.loans import kiosk as kiosk_loans
from hub.loans.kiosk import Stamp
from hub.loans.records import UnmatchedReturn
from hub.maintenance import models, returns, tickets
from hub.members.roster import Member, card_by_uid, get_member
from hub.timebank import claims
from hub.worker import trust
from hub.worker.inbox import InboxEvent
from hub.worker.lookups import read_ahead
from hub.worker.sequence import HELD, Held, Sequencer

# An inbox row as the Core insert takes it: column name -> value.
InboxRow = dict[str, object]

Status = Literal["applied", "duplicate", "rejected"]


@dataclass(frozen=True)
class Outcome:
    """What became of one event; it is what the hub acknowledges to the kiosk."""

    event_id: str
    status: Status
    reason: str | None = None

    def ack(self) -> wire.EventAck:
        return wire.EventAck(event_id=self.event_id, status=self.status, reason=self.reason)


def apply_event(session: Session, event: wire.Event) -> Outcome:
    """Apply ``event`` once, in the caller's transaction, with its inbox row beside it."""
    return apply_events(session, [event])[0]


class NeedsIsolation(Exception):
    """An event was refused in a batch applied without savepoints: roll back, isolate, redo."""


def apply_events(
    session: Session, events: list[wire.Event], *, isolate: bool = True
) -> list[Outcome]:
    """Apply a batch of events, each once, with their inbox rows, in the caller's transaction.

    One query finds the ids already processed. Loan events wait for a gap in their kiosk's
    sequence to fill (``hub.worker.sequence``): they are stored ``held`` and acknowledged, and
    applied when it fills. With ``isolate`` each effect runs in its own savepoint, so a refused
    event rolls back alone and is recorded ``rejected``; without it nothing pays for
    savepoints, and a refusal raises NeedsIsolation for the caller to roll back and redo the
    batch isolated. (Most batches hold no refusal: the kiosk decided with the same allow-list.)
    A concurrent worker that commits the same id first makes the final flush fail with an
    IntegrityError: the caller retries, and the ids are then seen.
    """
    seen = _processed(session, [event.event_id for event in events])
    read_ahead(session, [event for event in events if event.event_id not in seen])
    batch = _Batch(session, utcnow(), isolate)
    batch.sequencer.prepare([event for event in events if event.event_id not in seen])
    outcomes = [batch.take(event, seen) for event in events]
    batch.finish()
    for kiosk_id in {event.kiosk_id for event in events}:
        fleet.note_seen(session, kiosk_id)
    return outcomes


def release_held_events(session: Session) -> int:
    """Apply the held events whose kiosk's gap has waited past the hold; return how many."""
    batch = _Batch(session, utcnow(), isolate=True)
    released = batch.sequencer.release_waited_too_long()
    for held in released:
        batch.apply_released(held)
    batch.finish()
    return len(released)


def _processed(session: Session, event_ids: list[str]) -> dict[str, str | None]:
    """Return {event id: its rejection reason, None if it was applied} for the ids already in
    the inbox: a ``duplicate`` ack carries the original outcome (broker/PROTOCOL.md, rule 3)."""
    query = select(InboxEvent.event_id, InboxEvent.outcome, InboxEvent.reason).where(
        InboxEvent.event_id.in_(set(event_ids))
    )
    return {
        event_id: reason if outcome == "rejected" else None
        for event_id, outcome, reason in session.exec(query).all()
    }


class _Batch:
    """One batch's events on their way in: the sequencer, and the inbox rows to write."""

    def __init__(self, session: Session, now: datetime, isolate: bool) -> None:
        self.session, self.now, self.isolate = session, now, isolate
        self.sequencer = Sequencer(session, now)
        self.rows: dict[str, InboxRow] = {}  # event id -> its new inbox row

    def take(self, event: wire.Event, seen: dict[str, str | None]) -> Outcome:
        """Apply one event not yet seen (or answer ``duplicate``), adding its inbox row."""
        if event.event_id in seen:
            return Outcome(event.event_id, "duplicate", seen[event.event_id])
        placed = self.sequencer.place(event)
        for held in placed.before:  # an older sequence's, or held past the wait
            self.apply_released(held)
        epoch = self.sequencer.epoch(event.kiosk_id)
        if placed.hold:
            self._row(event, epoch, HELD, None, payload=wire.encode(event))
            outcome = Outcome(
                event.event_id, "applied", "held until this kiosk's earlier events arrive"
            )
        else:
            outcome = self._apply(event, self.now, epoch)
            self._row(event, epoch, outcome.status, outcome.reason)
        for held in placed.after:  # the gap this event filled
            self.apply_released(held)
        # A later copy in this batch acks ``duplicate`` with the original outcome: a reason
        # only if it was rejected (a held or conflicting loan was applied).
        seen[event.event_id] = outcome.reason if outcome.status == "rejected" else None
        return outcome

    def apply_released(self, held: Held) -> None:
        """Apply an event let out of the hold and record its outcome on its inbox row."""
        outcome = self._apply(held.event, held.received_at, held.epoch)
        values = {"outcome": outcome.status, "reason": outcome.reason, "payload": None}
        row = self.rows.get(held.event.event_id)
        if row is not None:
            row.update(values)
        else:
            self.session.execute(
                update(InboxEvent)
                .where(InboxEvent.event_id == held.event.event_id)
                .values(**values)
            )

    def finish(self) -> None:
        for kiosk_id in sorted(self.sequencer.kiosks):
            # The events just placed may be the ones a waiting return was waiting for.
            kiosk_loans.retry_waiting_returns(self.session, kiosk_id, self._waiting_stamp)
        self.sequencer.save()
        if self.rows:
            # NOTE: one Core executemany: building an ORM object per row cost ~40% of the
            # ingest time (bench/hub_ingest_bench.py --profile).
            self.session.execute(insert(InboxEvent), list(self.rows.values()))
        self.session.flush()

    def _apply(self, event: wire.Event, received_at: datetime, epoch: int) -> Outcome:
        """Check the event against the trust rules and apply its effect; refused, it is
        ``rejected`` with the reason naming the rule."""
        stamp = Stamp(
            kiosk_id=event.kiosk_id,
            event_id=event.event_id,
            seq=event.seq,
            epoch=epoch,
            at=self.sequencer.hub_time(event, received_at),
            received_at=received_at,
            arrived=self._arrived(event.kiosk_id, epoch),
        )
        try:
            if self.isolate:
                with self.session.begin_nested():  # the effect alone rolls back on refusal
                    note = _checked_effect(self.session, event, stamp)
            else:
                note = _checked_effect(self.session, event, stamp)
        except DomainError as refused:
            if not self.isolate:
                raise NeedsIsolation(event.event_id) from refused
            return Outcome(event.event_id, "rejected", refused.message[: wire.REASON_MAX])
        return Outcome(event.event_id, "applied", note[: wire.REASON_MAX] if note else None)

    def _arrived(self, kiosk_id: str, epoch: int) -> Callable[[int, int], bool]:
        def arrived(after: int, before: int) -> bool:
            return self.sequencer.all_arrived(kiosk_id, epoch, after, before)

        return arrived

    def _waiting_stamp(self, back: UnmatchedReturn) -> Stamp:
        """Return where a waiting return stands, to try pairing it again."""
        return Stamp(
            kiosk_id=back.kiosk_id,
            event_id=back.event_id or "",
            seq=back.seq if back.seq is not None else -1,
            epoch=back.seq_epoch if back.seq_epoch is not None else -1,
            at=as_utc(back.returned_at),
            received_at=self.now,
            arrived=self._arrived(back.kiosk_id, back.seq_epoch or 0),
        )

    def _row(
        self,
        event: wire.Event,
        epoch: int,
        outcome: str,
        reason: str | None,
        *,
        payload: bytes | None = None,
    ) -> None:
        self.rows[event.event_id] = {
            "event_id": event.event_id,
            "kiosk_id": event.kiosk_id,
            "seq": event.seq,
            "epoch": epoch,
            "kind": event.type,
            "kiosk_time": as_utc(event.kiosk_time),
            "received_at": self.now,
            "outcome": outcome,
            "reason": reason,
            "payload": payload,
        }


def _checked_effect(session: Session, event: wire.Event, stamp: Stamp) -> str | None:
    """Refuse what the kiosk may not claim (``trust``), else apply the event's effect."""
    trust.check_event(session, event)
    return APPLY[event.type](session, event, stamp)


# --- one function per event type: decode the claim, hand it to the room that owns it ------


def _loan_out(session: Session, event: wire.LoanOutEvent, stamp: Stamp) -> str | None:
    """Record the loan the kiosk made (``hub.loans.kiosk`` pairs and places it)."""
    member, tool = (
        _member(session, event.body.card_uid),
        tool_by_code(session, event.body.tool_code),
    )
    return kiosk_loans.record_loan_out(session, stamp, member, tool).note


def _tool_return(session: Session, event: wire.ToolReturnEvent, stamp: Stamp) -> str | None:
    """Record the return; "needs repair" opens a blocking ticket."""
    body = event.body
    member, tool = _member(session, body.card_uid), tool_by_code(session, body.tool_code)
    outcome = returns.record_kiosk_return(
        session, stamp, member, tool, condition=body.condition, note=body.note
    )
    # Returned at another kiosk: the empty locker it went into is its home now.
    rehome_tool(session, tool.id, event.kiosk_id, body.locker_slot)
    holds.advance_queue(session, tool, utcnow())  # back and OK: kept for the first in line
    return outcome.note


def _repair_logged(session: Session, event: wire.RepairLoggedEvent, stamp: Stamp) -> None:
    """Record the repair and claim its hours (a steward approves them on the dashboard)."""
    body = event.body
    member, tool = _member(session, body.card_uid), tool_by_code(session, body.tool_code)
    ticket = next(iter(tickets.live_tickets(session, tool_id=tool.id)), None)
    claims.log_repair(
        session,
        member_id=member.id,
        tool_id=tool.id,
        hours=body.hours,
        note=body.note,
        source=models.RepairSource.KIOSK,
        ticket_id=ticket.id if ticket else None,
        now=stamp.at,
    )


def _maintenance_opened(session: Session, event: wire.MaintenanceOpenedEvent, stamp: Stamp) -> None:
    """Open a blocking ticket for the tool a steward flagged at the kiosk."""
    steward, tool = (
        _member(session, event.body.card_uid),
        tool_by_code(session, event.body.tool_code),
    )
    tickets.open_ticket(
        session,
        tool_id=tool.id,
        note=event.body.note,
        source=models.TicketSource.KIOSK,
        opened_by=steward.id,
        blocking=True,
        now=stamp.at,
    )


def _door_opened(session: Session, event: wire.DoorOpenedEvent, stamp: Stamp) -> None:
    """Nothing to store beyond the inbox row: an opened door after an unlock is normal."""


def _door_closed(session: Session, event: wire.DoorClosedEvent, stamp: Stamp) -> None:
    fleet.clear_door_left_open(session, event.kiosk_id, event.body.locker_slot, stamp.at)


def _door_left_open(session: Session, event: wire.DoorLeftOpenEvent, stamp: Stamp) -> None:
    fleet.raise_alarm(
        session,
        event.kiosk_id,
        event.body.locker_slot,
        fleet.AlarmKind.DOOR_LEFT_OPEN,
        stamp.at,
        event.event_id,
    )


def _door_forced(session: Session, event: wire.DoorForcedEvent, stamp: Stamp) -> None:
    fleet.raise_alarm(
        session,
        event.kiosk_id,
        event.body.locker_slot,
        fleet.AlarmKind.DOOR_FORCED,
        stamp.at,
        event.event_id,
    )


def _card_refused(session: Session, event: wire.CardRefusedEvent, stamp: Stamp) -> None:
    body = event.body
    fleet.record_refusal(
        session, event.kiosk_id, body.card_uid, body.reason, body.tool_code, stamp.at
    )


def _member(session: Session, card_uid: str) -> Member:
    """Return the card's holder, even if the card was revoked since the kiosk honoured it.

    A card the hub has never issued makes the event rejected.
    """
    return get_member(session, card_by_uid(session, card_uid).member_id)


# NOTE: every event type on the wire needs an applier here (tests/hub/worker/test_events.py).
# Each applier takes its own event model; APPLY dispatches by the event's type, hence Any.
APPLY: dict[str, Callable[[Session, Any, Stamp], str | None]] = {
    "loan_out": _loan_out,
    "tool_return": _tool_return,
    "repair_logged": _repair_logged,
    "maintenance_opened": _maintenance_opened,
    "door_opened": _door_opened,
    "door_closed": _door_closed,
    "door_left_open": _door_left_open,
    "door_forced": _door_forced,
    "card_refused": _card_refused,
}
