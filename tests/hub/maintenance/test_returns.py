"""Returns with their one question answered: OK, or needs repair (and the repair that follows)."""

import json
from decimal import Decimal

import pytest
from sqlmodel import select

from hub.errors import InvalidInput, NotFound, ToolUnavailable
from hub.infra.audit import AuditEntry
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus
from hub.loans.lending import lend_tool
from hub.maintenance.models import TicketSource, TicketStatus
from hub.maintenance.returns import return_with_condition
from hub.maintenance.tickets import (
    get_ticket,
    live_tickets,
)
from hub.members.ranks import OPERATOR, NotSteward
from hub.members.roster import get_member
from hub.timebank import stewarding
from hub.timebank.claims import ClaimStatus, log_repair
from hub.timebank.ledger import balance, community_account, member_balance
from tests.hub.maintenance.conftest import T0


def test_return_needing_repair_to_approved_claim_puts_the_tool_back(shed):
    engine = shed.engine
    with transaction(engine) as session:
        lend_tool(session, tool_id=shed.tool_id, member_id=shed.borrower_id, kiosk_id="shed-1")
    with transaction(engine) as session:
        outcome = return_with_condition(
            session,
            OPERATOR,
            tool_id=shed.tool_id,
            condition="needs_repair",
            note="chuck wobbles",
        )
    ticket = outcome.ticket
    assert ticket.blocking and ticket.source == TicketSource.RETURN
    assert ticket.opened_by == shed.borrower_id and ticket.loan_id == outcome.loan.id
    assert shed.status() == ToolStatus.OUT_OF_SERVICE
    with pytest.raises(ToolUnavailable, match=f"out of service: ticket {ticket.id}: chuck"):
        with transaction(engine) as session:
            lend_tool(session, tool_id=shed.tool_id, member_id=shed.borrower_id)

    with transaction(engine) as session:
        claim = log_repair(
            session,
            member_id=shed.fixer_id,
            tool_id=shed.tool_id,
            hours="1.75",
            note="new chuck",
            ticket_id=ticket.id,
            source="dashboard",
        )
    assert claim.status == ClaimStatus.PENDING
    with reading(engine) as session:
        assert get_ticket(session, ticket.id).status == TicketStatus.IN_PROGRESS
    assert shed.status() == ToolStatus.OUT_OF_SERVICE

    with transaction(engine) as session:
        stewarding.approve_claim(
            session, get_member(session, shed.steward_id), claim.id, return_to_service=True
        )
    with reading(engine) as session:
        assert member_balance(session, shed.fixer_id) == Decimal("1.75")
        assert balance(session, community_account(session).id) == Decimal("-1.75")
        closed = get_ticket(session, ticket.id)
        assert closed.status == TicketStatus.RESOLVED and closed.resolved_by == shed.fixer_id
    assert shed.status() == ToolStatus.AVAILABLE
    with transaction(engine) as session:
        assert lend_tool(session, tool_id=shed.tool_id, member_id=shed.borrower_id).id


def test_ok_return_opens_no_ticket(shed):
    shed.lend(T0)
    with transaction(shed.engine) as session:
        outcome = return_with_condition(session, OPERATOR, tool_id=shed.tool_id, condition="ok")
    assert outcome.ticket is None and outcome.loan.return_condition == "ok"
    assert shed.status() == ToolStatus.AVAILABLE


def test_needs_repair_without_a_note_is_refused_and_opens_nothing(shed):
    shed.lend(T0)
    with pytest.raises(InvalidInput, match="note is required"):
        with transaction(shed.engine) as session:
            return_with_condition(session, OPERATOR, tool_id=shed.tool_id, condition="needs_repair")
    with reading(shed.engine) as session:
        assert live_tickets(session) == []
    assert shed.status() == ToolStatus.ON_LOAN


def test_a_desk_return_is_a_stewards_and_audited_on_the_loan(shed):
    shed.lend(T0)
    with pytest.raises(NotSteward, match="may not record a return at the desk"):
        with transaction(shed.engine) as session:
            borrower = get_member(session, shed.borrower_id)
            return_with_condition(session, borrower, tool_id=shed.tool_id, condition="ok")
    assert shed.status() == ToolStatus.ON_LOAN
    with transaction(shed.engine) as session:
        steward = get_member(session, shed.steward_id)
        outcome = return_with_condition(
            session, steward, tool_id=shed.tool_id, condition="needs_repair", note="cord frayed"
        )
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "loan.return_at_desk")
        ).one()
    assert entry.target == f"loan:{outcome.loan.id}" and entry.actor_member_id == shed.steward_id
    assert json.loads(entry.before)["returned_at"] is None
    assert json.loads(entry.after)["return_condition"] == "needs_repair"
    with pytest.raises(NotFound, match="is not on loan"):
        with transaction(shed.engine) as session:
            return_with_condition(session, OPERATOR, tool_id=shed.tool_id, condition="ok")
