"""Two sites for the reports: north (two kiosks) and south (one), with loans, a return across
sites, fault tickets, an approved repair and door alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.infra.db import transaction
from hub.inventory import fleet
from hub.loans.lending import lend_tool, return_tool
from hub.maintenance.tickets import open_ticket
from hub.timebank import stewarding
from hub.timebank.claims import log_repair
from tests.hub.builders import a_kiosk, a_member, a_tool

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def two_sites(engine):
    """Build the two sites (at ``NOW``) and return the engine.

    north: n-1 (DRILL-1) and n-2 (SAW-1); south: s-1 (SANDER-1).
    - DRILL-1 lent at n-1 8 days ago and returned at s-1 (a return across sites), lent at n-1
      again yesterday and returned there.
    - SANDER-1 lent at s-1 2 days ago, returned there; its fault ticket's repair (1.50 h) is
      approved. SAW-1 lent at n-2 20 days ago: out and overdue, with a steward's fault ticket.
    - Door alarms: n-1 two, s-1 one.
    """
    day = timedelta(days=1)
    with transaction(engine) as session:
        a_kiosk(session, "n-1", site="north")
        a_kiosk(session, "n-2", site="north")
        a_kiosk(session, "s-1", site="south")
        drill = a_tool(session, "DRILL-1", kiosk_id="n-1", slot=1)
        saw = a_tool(session, "SAW-1", kiosk_id="n-2", slot=1)
        sander = a_tool(session, "SANDER-1", kiosk_id="s-1", slot=1)
        ada, bea = a_member(session, "Ada Lovelace"), a_member(session, "Bea Borrower")
        fixer = a_member(session, "Bob Builder")
        steward = a_member(session, "Sam Steward", roles="steward")

        lend_tool(session, tool_id=saw.id, member_id=bea.id, kiosk_id="n-2", now=NOW - 20 * day)
        for lent_at, back_at in (("n-1", "s-1"), ("n-1", "n-1")):
            out = NOW - (8 * day if back_at == "s-1" else day)
            lend_tool(session, tool_id=drill.id, member_id=ada.id, kiosk_id=lent_at, now=out)
            return_tool(session, tool_id=drill.id, kiosk_id=back_at, now=out + timedelta(hours=2))
        out = NOW - 2 * day
        lend_tool(session, tool_id=sander.id, member_id=ada.id, kiosk_id="s-1", now=out)
        return_tool(session, tool_id=sander.id, kiosk_id="s-1", now=out + timedelta(hours=1))
        ticket = open_ticket(
            session, tool_id=sander.id, note="belt torn", source="return", opened_by=ada.id, now=out
        )
        claim = log_repair(
            session,
            member_id=fixer.id,
            tool_id=sander.id,
            hours="1.50",
            note="new belt",
            ticket_id=ticket.id,
            source="kiosk",
            now=NOW - day,
        )
        stewarding.approve_claim(session, steward, claim.id, return_to_service=True, now=NOW - day)
        open_ticket(
            session,
            tool_id=saw.id,
            note="blade blunt",
            source="steward",
            opened_by=steward.id,
            now=NOW - day,
        )
        for kiosk in ("n-1", "n-1", "s-1"):
            fleet.raise_alarm(session, kiosk, 1, fleet.AlarmKind.DOOR_LEFT_OPEN, NOW - day)
    return engine
