"""Kiosk events applied straight to the database: order independence and exactly-once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event
from sqlmodel import select

from broker import messages as wire
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus, tool_by_code
from hub.loans.lending import Loan, UnmatchedReturn
from hub.worker.events import APPLY, apply_event, apply_events
from tests.hub.builders import a_kiosk, a_member, a_tool
from tests.hub.worker.world import CARD, event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def library(engine):
    with transaction(engine) as session:
        a_kiosk(session, "kiosk-a", slots=2, site="test")
        a_member(session, "Ada", uid=CARD)
        a_tool(session, "DRILL-1", kiosk_id="kiosk-a", slot=1)
    return engine


def loan_out(seq: int, minutes: int):
    body = wire.LoanOut(card_uid=CARD, tool_code="DRILL-1", locker_slot=1)
    return event(wire.LoanOutEvent, body, seq=seq, at=T0 + timedelta(minutes=minutes))


def tool_return(seq: int, minutes: int, condition: str = "ok"):
    note = "bent" if condition == "needs_repair" else None
    body = wire.ToolReturn(
        card_uid=CARD, tool_code="DRILL-1", locker_slot=1, condition=condition, note=note
    )
    return event(wire.ToolReturnEvent, body, seq=seq, at=T0 + timedelta(minutes=minutes))


def loans(engine) -> list[tuple[datetime, datetime | None, str | None]]:
    with reading(engine) as session:
        rows = session.exec(select(Loan).order_by(Loan.out_at)).all()
        return [(r.out_at, r.returned_at, r.return_condition) for r in rows]


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (1, 0, 3, 2), (3, 2, 1, 0), (1, 3, 0, 2)])
def test_loans_come_out_right_whatever_order_the_events_arrive_in(library, order):
    events = [loan_out(0, 0), tool_return(1, 30), loan_out(2, 60), tool_return(3, 90)]
    for index in order:
        with transaction(library) as session:
            assert apply_event(session, events[index]).status == "applied"
    assert loans(library) == [
        (T0, T0 + timedelta(minutes=30), "ok"),
        (T0 + timedelta(minutes=60), T0 + timedelta(minutes=90), "ok"),
    ]
    with reading(library) as session:
        assert tool_by_code(session, "DRILL-1").status == ToolStatus.AVAILABLE
        assert session.exec(select(UnmatchedReturn)).all() == []


def test_a_return_needing_repair_that_overtook_its_loan_still_opens_a_ticket(library):
    with transaction(library) as session:
        apply_event(session, tool_return(1, 30, "needs_repair"))
    with transaction(library) as session:
        apply_event(session, loan_out(0, 0))
    assert loans(library) == [(T0, T0 + timedelta(minutes=30), "needs_repair")]
    with reading(library) as session:
        assert tool_by_code(session, "DRILL-1").status == ToolStatus.OUT_OF_SERVICE


def test_a_batch_with_the_same_event_twice_applies_it_once(library):
    out = loan_out(0, 0)
    with transaction(library) as session:
        outcomes = apply_events(session, [out, out], isolate=False)
    assert [o.status for o in outcomes] == ["applied", "duplicate"]
    assert len(loans(library)) == 1


def test_every_event_type_on_the_wire_has_an_applier():
    assert set(APPLY) == set(wire.EVENT_TYPES)


# --- what a batch costs the database: reads once per batch, per event only what it writes ----

SHELF = 10  # tools in lockers 1..10 of kiosk-a


@pytest.fixture
def shelf(engine):
    with transaction(engine) as session:
        a_kiosk(session, "kiosk-a", slots=SHELF, site="test")
        a_member(session, "Ada", uid=CARD)
        for slot in range(1, SHELF + 1):
            a_tool(session, f"TOOL-{slot}", kiosk_id="kiosk-a", slot=slot)
    return engine


def taps(first_seq: int, slots: range, *, returning: bool) -> list[wire.Event]:
    """Per slot, as a kiosk sends a tap: the door opens, the tool goes out (or back), it shuts."""
    events: list[wire.Event] = []
    seq = first_seq
    for slot in slots:
        code = f"TOOL-{slot}"
        if returning:
            body = wire.ToolReturn(card_uid=CARD, tool_code=code, locker_slot=slot, condition="ok")
            middle = event(wire.ToolReturnEvent, body, seq=seq + 1)
        else:
            lent = wire.LoanOut(card_uid=CARD, tool_code=code, locker_slot=slot)
            middle = event(wire.LoanOutEvent, lent, seq=seq + 1)
        door = wire.DoorChange(locker_slot=slot)
        events += [
            event(wire.DoorOpenedEvent, door, seq=seq),
            middle,
            event(wire.DoorClosedEvent, door, seq=seq + 2),
        ]
        seq += 3
    return events


def statements_for(engine, events: list[wire.Event]) -> int:
    """Apply ``events`` as one batch (no savepoints, as the ingest first tries); return how
    many SQL statements that executed."""
    executed: list[str] = []

    def count(*args) -> None:
        executed.append(args[2])

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        with transaction(engine) as session:
            outcomes = apply_events(session, events, isolate=False)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert {outcome.status for outcome in outcomes} == {"applied"}
    return len(executed)


# One batch may write its kiosk's clock offset and the other not: the estimate moves with the
# real time between the two batches (a CI run on PostgreSQL saw 16 against 15).
CLOCK_OFFSET_WRITE = 1


def test_a_tap_costs_only_its_loan_writes_and_one_read(shelf):
    """Doors, lockers, cards, tools, the sequence and waiting returns are read once a batch:
    each tap adds at most one read of the tool's loans and its two writes (the loan, the tool).
    (At most: a batch writes its kiosk's clock offset only when it moved.)"""
    statements_for(shelf, taps(0, range(1, 2), returning=False))  # the kiosk's first batch
    two = statements_for(shelf, taps(3, range(2, 4), returning=False))
    seven = statements_for(shelf, taps(9, range(4, 11), returning=False))
    assert seven - two <= 5 * 3 + CLOCK_OFFSET_WRITE
    two = statements_for(shelf, taps(30, range(1, 3), returning=True))
    seven = statements_for(shelf, taps(36, range(3, 10), returning=True))
    assert seven - two <= 5 * 3 + CLOCK_OFFSET_WRITE
    with reading(shelf) as session:
        out = session.exec(select(Loan).where(Loan.returned_at.is_(None))).all()
        assert [loan.tool_id for loan in out] == [tool_by_code(session, "TOOL-10").id]
