"""Apply kiosk events to the hub's records, each exactly once.

A kiosk event is a fact: the kiosk decided from its allow-list and the locker opened, so the
hub records what happened even if its own rules have moved on since (a member suspended a
second ago still took the drill). Rules the hub must still enforce, such as a card nobody
holds, make the event ``rejected``: it is kept in the inbox with its reason, acknowledged so the
kiosk stops resending it, and shown to stewards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import insert
from sqlmodel import Session, select

from broker import messages as wire
from hub.errors import DomainError
from hub.infra.clock import as_utc, utcnow
from hub.inventory import fleet
from hub.inventory.registry import Tool, ToolStatus, rehome_tool, tool_by_code
from hub.loans.lending import Loan, open_loan, record_unmatched_return, take_unmatched_return
from hub.maintenance import models, returns, tickets
from hub.members.roster import Member, card_by_uid, get_member
from hub.timebank import claims
from hub.worker.inbox import InboxEvent
from hub.worker.lookups import read_ahead

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

    One query finds the ids already processed. With ``isolate`` each effect runs in its own
    savepoint, so a refused event rolls back alone and is recorded ``rejected``; without it
    nothing pays for savepoints, and a refusal raises NeedsIsolation for the caller to roll
    back and redo the batch isolated. (Most batches hold no refusal: the kiosk decided with
    the same allow-list.) A concurrent worker that commits the same id first makes the final
    flush fail with an IntegrityError: the caller retries, and the ids are then seen.
    """
    seen = _processed(session, [event.event_id for event in events])
    read_ahead(session, [event for event in events if event.event_id not in seen])
    inbox_rows: list[InboxRow] = []
    outcomes = [_apply_new(session, event, seen, isolate, inbox_rows) for event in events]
    if inbox_rows:
        # NOTE: one Core executemany: building an ORM object per row cost ~40% of the ingest
        # time (bench/hub_ingest_bench.py --profile).
        session.execute(insert(InboxEvent), inbox_rows)
    session.flush()
    for kiosk_id in {event.kiosk_id for event in events}:
        fleet.note_seen(session, kiosk_id)
    return outcomes


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


def _apply_new(
    session: Session,
    event: wire.Event,
    seen: dict[str, str | None],
    isolate: bool,
    inbox_rows: list[InboxRow],
) -> Outcome:
    """Apply one event not yet seen (or answer ``duplicate``), adding its inbox row."""
    if event.event_id in seen:
        return Outcome(event.event_id, "duplicate", seen[event.event_id])
    at = as_utc(event.kiosk_time)
    try:
        if isolate:
            with session.begin_nested():  # the effect alone rolls back on refusal
                APPLY[event.type](session, event, at)
        else:
            APPLY[event.type](session, event, at)
        outcome = Outcome(event.event_id, "applied")
    except DomainError as refused:
        if not isolate:
            raise NeedsIsolation(event.event_id) from refused
        outcome = Outcome(event.event_id, "rejected", refused.message)
    inbox_rows.append(
        {
            "event_id": event.event_id,
            "kiosk_id": event.kiosk_id,
            "seq": event.seq,
            "kind": event.type,
            "kiosk_time": at,
            "received_at": utcnow(),
            "outcome": outcome.status,
            "reason": outcome.reason,
        }
    )
    seen[event.event_id] = outcome.reason
    return outcome


# --- one function per event type ----------------------------------------------------------


def _loan_out(session: Session, event: wire.LoanOutEvent, at: datetime) -> None:
    """Record the loan the kiosk allowed, in its place among the tool's other loans."""
    member, tool = (
        _member(session, event.body.card_uid),
        tool_by_code(session, event.body.tool_code),
    )
    loan = Loan(
        tool_id=tool.id,
        member_id=member.id,
        kiosk_id=event.kiosk_id,
        out_at=at,
        due_at=at + timedelta(days=tool.loan_days),
        event_id=event.event_id,
    )
    if (back := take_unmatched_return(session, tool.id, after=at)) is not None:
        # Its return overtook it on the way to the hub: the loan is already over.
        loan.returned_at, loan.return_kiosk_id = back.returned_at, back.kiosk_id
        loan.return_condition, loan.return_note = back.condition, back.note
    else:
        _settle_open_loan(session, tool, loan, event.kiosk_id, at)
    if loan.returned_at is None and tool.status == ToolStatus.AVAILABLE:
        tool.status = ToolStatus.ON_LOAN
    session.add_all([loan, tool])
    session.flush()


def _settle_open_loan(
    session: Session, tool: Tool, loan: Loan, kiosk_id: str, at: datetime
) -> None:
    """Make room for ``loan``: a tool is on one open loan at a time."""
    current = open_loan(session, tool.id)
    if current is None:
        return
    if as_utc(current.out_at) > at:  # this loan is older than the open one: it ended before
        loan.returned_at = current.out_at
        loan.return_note = "Back before the next loan; its return was not recorded."
        return
    # The return reached us after this loan (another kiosk, or a lost tap): it is back.
    current.returned_at, current.return_kiosk_id = at, kiosk_id
    current.return_note = "Closed by the next loan: the return was not recorded."
    session.add(current)
    session.flush()


def _tool_return(session: Session, event: wire.ToolReturnEvent, at: datetime) -> None:
    """Close the loan with its condition; "needs repair" opens a blocking ticket."""
    body = event.body
    member, tool = _member(session, body.card_uid), tool_by_code(session, body.tool_code)
    if open_loan(session, tool.id) is None:
        _late_return(session, event, member, tool, at)
    else:
        returns.return_with_condition(
            session,
            tool_id=tool.id,
            condition=body.condition,
            note=body.note,
            kiosk_id=event.kiosk_id,
            member_id=member.id,
            now=at,
        )
    # Returned at another kiosk: the empty locker it went into is its home now.
    rehome_tool(session, tool.id, event.kiosk_id, body.locker_slot)


def _late_return(
    session: Session, event: wire.ToolReturnEvent, member: Member, tool: Tool, at: datetime
) -> None:
    """A return with no open loan: its loan was closed already, or has not arrived yet."""
    body = event.body
    loan = session.exec(
        select(Loan).where(Loan.tool_id == tool.id).order_by(Loan.out_at.desc())
    ).first()
    if loan is not None and loan.return_condition is None and as_utc(loan.out_at) <= at:
        loan.return_condition, loan.return_note = body.condition, body.note
        session.add(loan)
    else:
        record_unmatched_return(
            session,
            tool_id=tool.id,
            member_id=member.id,
            kiosk_id=event.kiosk_id,
            returned_at=at,
            condition=body.condition,
            note=body.note,
            event_id=event.event_id,
        )
        loan = None
    if body.condition == "needs_repair":
        tickets.open_ticket(
            session,
            tool_id=tool.id,
            note=body.note,
            source=models.TicketSource.RETURN,
            opened_by=member.id,
            blocking=True,
            loan_id=loan.id if loan else None,
            now=at,
        )


def _repair_logged(session: Session, event: wire.RepairLoggedEvent, at: datetime) -> None:
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
        now=at,
    )


def _maintenance_opened(session: Session, event: wire.MaintenanceOpenedEvent, at: datetime) -> None:
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
        now=at,
    )


def _door_opened(session: Session, event: wire.DoorOpenedEvent, at: datetime) -> None:
    """Nothing to store beyond the inbox row: an opened door after an unlock is normal."""


def _door_closed(session: Session, event: wire.DoorClosedEvent, at: datetime) -> None:
    fleet.clear_door_left_open(session, event.kiosk_id, event.body.locker_slot, at)


def _door_left_open(session: Session, event: wire.DoorLeftOpenEvent, at: datetime) -> None:
    fleet.raise_alarm(
        session,
        event.kiosk_id,
        event.body.locker_slot,
        fleet.AlarmKind.DOOR_LEFT_OPEN,
        at,
        event.event_id,
    )


def _door_forced(session: Session, event: wire.DoorForcedEvent, at: datetime) -> None:
    fleet.raise_alarm(
        session,
        event.kiosk_id,
        event.body.locker_slot,
        fleet.AlarmKind.DOOR_FORCED,
        at,
        event.event_id,
    )


def _card_refused(session: Session, event: wire.CardRefusedEvent, at: datetime) -> None:
    body = event.body
    fleet.record_refusal(session, event.kiosk_id, body.card_uid, body.reason, body.tool_code, at)


def _member(session: Session, card_uid: str) -> Member:
    """Return the card's holder, even if the card was revoked since the kiosk honoured it.

    A card the hub has never issued makes the event rejected.
    """
    return get_member(session, card_by_uid(session, card_uid).member_id)


# NOTE: every event type on the wire needs an applier here (tests/hub/worker/test_events.py).
# Each applier takes its own event model; APPLY dispatches by the event's type, hence Any.
APPLY: dict[str, Callable[[Session, Any, datetime], None]] = {
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
