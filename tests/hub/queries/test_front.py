"""The front page: every panel declared once, read together, and watched by the signature."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from hub.bookings import Booking, add_resource
from hub.bulk.demo import seed
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory import fleet
from hub.inventory.registry import ToolStatus, tool_by_code
from hub.loans.kiosk import Stamp, record_loan_out
from hub.loans.lending import lend_tool, return_tool
from hub.maintenance import plans, tickets
from hub.members.roster import get_member
from hub.queries.front import PANELS, Needs, Panel, change_signature, what_needs_me
from hub.timebank import claims
from hub.worker.heartbeats import record_beat
from hub.worker.inbox import record_dead_letter
from tests.hub.builders import a_kiosk, a_tool


def test_change_signature_moves_with_the_records_and_the_minute(engine):
    now = utcnow().replace(second=0)
    with transaction(engine) as session:
        seed(session, now=now)
    with reading(engine) as session:
        first = change_signature(session, now=now)
        assert change_signature(session, now=now + timedelta(seconds=30)) == first
        assert change_signature(session, now=now + timedelta(minutes=1)) != first
    with transaction(engine) as session:
        return_tool(session, tool_id=tool_by_code(session, "TENT-1").id, now=now)
    with reading(engine) as session:
        assert change_signature(session, now=now) != first


def test_every_field_of_the_page_is_a_declared_panel():
    assert sorted(f.name for f in fields(Needs)) == sorted(p.name for p in PANELS)
    with pytest.raises(ValueError, match="Panel 'quiet' watches nothing"):
        Panel("quiet", read=lambda session, now: [], watch=())


# One change per panel that only that panel shows; a new panel needs its own line here.
CHANGES = {
    "kiosks": lambda s, now: fleet.record_availability(
        s, "shed-1", state="online", since=now, allowlist_version=1, outbox_backlog=9
    ),
    "claims": lambda s, now: claims.log_repair(
        s, member_id=10, tool_id=_tool(s, "SAW-1"), hours="1.00", note="Oiled", source="dashboard"
    ),
    "broken": lambda s, now: tickets.open_ticket(
        s,
        tool_id=_tool(s, "LADDER-1"),
        note="Rung loose",
        source="steward",
        opened_by=1,
        blocking=True,
    ),
    "due": lambda s, now: plans.add_plan(
        s,
        name="Check",
        steward_id=1,
        tool_id=_tool(s, "SAW-1"),
        every_days=1,
        now=now - timedelta(days=2),
    ),
    "overdue": lambda s, now: lend_tool(
        s, tool_id=_tool(s, "SAW-2"), member_id=5, now=now - timedelta(days=30)
    ),
    "conflicts": lambda s, now: record_loan_out(
        s,
        Stamp("shed-2", "e-1", 1, 0, now, now),
        get_member(s, 6),
        tool_by_code(s, "TENT-1"),
    ),
    "bookings": lambda s, now: s.add(
        Booking(
            resource_id=add_resource(s, code="lathe-q", name="Wood lathe").id,
            member_id=5,
            starts_at=now,
            ends_at=now + timedelta(minutes=30),
        )
    ),
    "dead_letters": lambda s, now: record_dead_letter(
        s, topic="commonshed/x", payload=b"{", reason="not JSON"
    ),
    "ingest": lambda s, now: record_beat(
        s, "hub-ingest-1", "events", beat_at=now, progress_at=now, now=now
    ),
}


def _tool(session, code: str) -> int:
    return tool_by_code(session, code).id


def test_a_change_test_for_every_panel():
    assert sorted(CHANGES) == sorted(p.name for p in PANELS)


@pytest.mark.parametrize("panel", sorted(CHANGES))
def test_each_panel_moves_the_signature_when_its_rows_change(engine, panel):
    now = utcnow().replace(second=0)
    with transaction(engine) as session:
        seed(session, now=now - timedelta(minutes=5))
    with reading(engine) as session:
        before = what_needs_me(session, now=now)
        signature = change_signature(session, now=now)
    with transaction(engine) as session:
        CHANGES[panel](session, now)
    with reading(engine) as session:
        after = what_needs_me(session, now=now)
        assert getattr(after, panel) != getattr(before, panel)
        assert change_signature(session, now=now) != signature


def test_the_front_page_costs_the_same_with_many_more_loans_out(engine):
    """No query per loan, tool or claim: the page reads a fixed number of statements."""
    now = utcnow()
    with transaction(engine) as session:
        seed(session, now=now)
    before = _statements(engine, what_needs_me, now)
    with transaction(engine) as session:
        a_kiosk(session, "shed-9", slots=20)
        for slot in range(1, 21):
            tool = a_tool(session, f"SPADE-{slot}", kiosk_id="shed-9", slot=slot)
            lend_tool(session, tool_id=tool.id, member_id=5, now=now - timedelta(days=30))
    with reading(engine) as session:
        assert len(what_needs_me(session, now=now).overdue) == 21
        assert tool_by_code(session, "SPADE-1").status == ToolStatus.ON_LOAN
    assert _statements(engine, what_needs_me, now) == before


def test_the_signature_asks_every_single_value_in_one_round_trip(engine):
    """One statement for all the panels' maxima and counts, one per row set they watch, one
    per state read afresh (the ingest's)."""
    with transaction(engine) as session:
        seed(session)
    row_sets = len({id(query) for panel in PANELS for query in panel.watch_rows})
    states = sum(1 for panel in PANELS if panel.state is not None)
    assert _statements(engine, change_signature, utcnow()) == 1 + row_sets + states


def _statements(engine, read, now) -> int:
    """Count the statements ``read(session, now=now)`` sends to the database."""
    with reading(engine) as session:
        session.exec(select(1)).one()  # the transaction's own BEGIN is not the read's
        count = 0

        def tally(*_):
            nonlocal count
            count += 1

        event.listen(engine, "before_cursor_execute", tally)
        try:
            read(session, now=now)
        finally:
            event.remove(engine, "before_cursor_execute", tally)
    return count
