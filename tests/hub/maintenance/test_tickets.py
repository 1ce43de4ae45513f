"""Tickets: who may open which, the closing rules, blocking and releasing the tool."""

import pytest

from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus
from hub.maintenance import stewarding
from hub.maintenance.tickets import live_tickets, open_ticket
from hub.members.roster import get_member
from tests.hub.maintenance.conftest import T0


def test_only_the_last_blocking_ticket_returns_the_tool_and_an_open_loan_is_kept(shed):
    engine = shed.engine
    shed.lend(T0)
    with transaction(engine) as session:
        first = open_ticket(
            session,
            tool_id=shed.tool_id,
            note="guard cracked",
            blocking=True,
            source="steward",
            opened_by=shed.steward_id,
        )
        second = open_ticket(
            session,
            tool_id=shed.tool_id,
            note="cable frayed",
            source="kiosk",
            opened_by=shed.borrower_id,
        )
    with transaction(engine) as session:
        steward = get_member(session, shed.steward_id)
        stewarding.set_blocking(session, steward, second.id, True)
        stewarding.resolve_ticket(session, steward, first.id, "new guard")
    assert shed.status() == ToolStatus.OUT_OF_SERVICE
    with transaction(engine) as session:
        steward = get_member(session, shed.steward_id)
        stewarding.wont_fix_ticket(session, steward, second.id, "cosmetic only")
    assert shed.status() == ToolStatus.ON_LOAN  # the loan is still open


def test_closing_rules(shed):
    engine = shed.engine
    with transaction(engine) as session:
        ticket = open_ticket(
            session, tool_id=shed.tool_id, note="blunt", source="steward", opened_by=shed.steward_id
        )
        stewarding.start_ticket(session, get_member(session, shed.steward_id), ticket.id)

    def resolve(ticket_id, by=shed.steward_id):
        with transaction(engine) as session:
            stewarding.resolve_ticket(session, get_member(session, by), ticket_id)

    with pytest.raises(InvalidInput, match="note is required"):
        with transaction(engine) as session:
            steward = get_member(session, shed.steward_id)
            stewarding.wont_fix_ticket(session, steward, ticket.id, "")
    with pytest.raises(RuleViolation, match="may not resolve tickets"):
        resolve(ticket.id, by=shed.fixer_id)
    resolve(ticket.id)
    with pytest.raises(Conflict, match=f"Ticket {ticket.id} is already resolved"):
        resolve(ticket.id)
    with pytest.raises(NotFound, match="Ticket 999 does not exist"):
        resolve(999)


@pytest.mark.parametrize(
    "source, opened_by, error, message",
    [
        ("steward", "fixer_id", RuleViolation, "Only stewards may open steward tickets"),
        ("kiosk", None, InvalidInput, "names the member who reported it"),
        ("gossip", None, InvalidInput, "Ticket source 'gossip' is not one of"),
    ],
)
def test_who_may_open_which_ticket(shed, source, opened_by, error, message):
    with pytest.raises(error, match=message):
        with transaction(shed.engine) as session:
            open_ticket(
                session,
                tool_id=shed.tool_id,
                note="x",
                source=source,
                opened_by=getattr(shed, opened_by) if opened_by else None,
            )
    with reading(shed.engine) as session:
        assert live_tickets(session) == []
