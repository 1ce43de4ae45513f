from datetime import timedelta
from decimal import Decimal

import pytest

from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation, ToolUnavailable
from hub.infra.clock import utcnow
from hub.infra.db import reading, transaction
from hub.inventory.registry import ToolStatus, get_tool
from hub.loans.lending import lend_tool, return_tool
from hub.maintenance.history import HistoryKind, tool_history
from hub.maintenance.models import TicketSource, TicketStatus
from hub.maintenance.plans import add_plan, due_plans, log_service, open_due_tickets, plan_status
from hub.maintenance.returns import return_with_condition
from hub.maintenance.tickets import (
    get_ticket,
    live_tickets,
    mark_blocking,
    open_ticket,
    resolve_ticket,
    start_ticket,
    wont_fix_ticket,
)
from hub.timebank.claims import ClaimStatus, approve_claim, log_repair
from hub.timebank.ledger import balance, community_account, member_balance
from tests.hub.builders import a_kiosk, a_member, a_tool

T0 = utcnow().replace(microsecond=0) - timedelta(days=400)


@pytest.fixture
def shed(engine):
    """A kiosk, a drill, a borrower, a fixer and a steward; returns a namespace of ids."""
    with transaction(engine) as session:
        a_kiosk(session)
        tool = a_tool(session)
        borrower, fixer = a_member(session, "Ada Lovelace"), a_member(session, "Bob Builder")
        steward = a_member(session, "Sam Steward", roles="steward")
        return Shed(engine, tool.id, borrower.id, fixer.id, steward.id)


class Shed:
    def __init__(self, engine, tool_id, borrower_id, fixer_id, steward_id):
        self.engine, self.tool_id = engine, tool_id
        self.borrower_id, self.fixer_id, self.steward_id = borrower_id, fixer_id, steward_id

    def lend(self, at, hours_out=None):
        """Lend the drill at ``at``; return it ``hours_out`` later if given."""
        with transaction(self.engine) as session:
            lend_tool(session, tool_id=self.tool_id, member_id=self.borrower_id, now=at)
            if hours_out is not None:
                return_tool(session, tool_id=self.tool_id, now=at + timedelta(hours=hours_out))

    def status(self):
        with reading(self.engine) as session:
            return get_tool(session, self.tool_id).status


def test_return_needing_repair_to_approved_claim_puts_the_tool_back(shed):
    engine = shed.engine
    with transaction(engine) as session:
        lend_tool(session, tool_id=shed.tool_id, member_id=shed.borrower_id, kiosk_id="shed-1")
    with transaction(engine) as session:
        outcome = return_with_condition(
            session,
            tool_id=shed.tool_id,
            condition="needs_repair",
            note="chuck wobbles",
            kiosk_id="shed-1",
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
        approve_claim(session, claim.id, steward_id=shed.steward_id)
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
        outcome = return_with_condition(session, tool_id=shed.tool_id, condition="ok")
    assert outcome.ticket is None and outcome.loan.return_condition == "ok"
    assert shed.status() == ToolStatus.AVAILABLE


def test_needs_repair_without_a_note_is_refused_and_opens_nothing(shed):
    shed.lend(T0)
    with pytest.raises(InvalidInput, match="note is required"):
        with transaction(shed.engine) as session:
            return_with_condition(session, tool_id=shed.tool_id, condition="needs_repair")
    with reading(shed.engine) as session:
        assert live_tickets(session) == []
    assert shed.status() == ToolStatus.ON_LOAN


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
        mark_blocking(session, second.id, steward_id=shed.steward_id)
        resolve_ticket(session, first.id, steward_id=shed.steward_id, note="new guard")
    assert shed.status() == ToolStatus.OUT_OF_SERVICE
    with transaction(engine) as session:
        wont_fix_ticket(session, second.id, steward_id=shed.steward_id, note="cosmetic only")
    assert shed.status() == ToolStatus.ON_LOAN  # the loan is still open


def test_closing_rules(shed):
    engine = shed.engine
    with transaction(engine) as session:
        ticket = open_ticket(
            session, tool_id=shed.tool_id, note="blunt", source="steward", opened_by=shed.steward_id
        )
        start_ticket(session, ticket.id, member_id=shed.fixer_id)
    with pytest.raises(InvalidInput, match="note is required"):
        with transaction(engine) as session:
            wont_fix_ticket(session, ticket.id, steward_id=shed.steward_id, note="")
    with pytest.raises(RuleViolation, match="Only stewards may resolve tickets"):
        with transaction(engine) as session:
            resolve_ticket(session, ticket.id, steward_id=shed.fixer_id)
    with transaction(engine) as session:
        resolve_ticket(session, ticket.id, steward_id=shed.steward_id)
    with pytest.raises(Conflict, match=f"Ticket {ticket.id} is already resolved"):
        with transaction(engine) as session:
            resolve_ticket(session, ticket.id, steward_id=shed.steward_id)
    with pytest.raises(NotFound, match="Ticket 999 does not exist"):
        with transaction(engine) as session:
            resolve_ticket(session, 999, steward_id=shed.steward_id)


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


def _plan(shed, **thresholds):
    with transaction(shed.engine) as session:
        return add_plan(
            session,
            name="Blade check",
            steward_id=shed.steward_id,
            tool_id=shed.tool_id,
            now=T0,
            **thresholds,
        )


def _status(shed, plan, now):
    with reading(shed.engine) as session:
        return plan_status(session, plan, get_tool(session, shed.tool_id), now)


def test_plan_falls_due_at_the_loan_count(shed):
    plan = _plan(shed, every_loans=3)
    for n in range(2):
        shed.lend(T0 + timedelta(days=n), hours_out=1)
    assert not _status(shed, plan, T0 + timedelta(days=5)).is_due
    shed.lend(T0 + timedelta(days=2), hours_out=1)
    status = _status(shed, plan, T0 + timedelta(days=5))
    assert status.is_due and status.loans == 3 and status.loans_over == 0
    assert status.reasons() == ["3 loans (every 3: 0 over)"]


def test_plan_falls_due_on_the_day(shed):
    plan = _plan(shed, every_days=30)
    assert not _status(shed, plan, T0 + timedelta(days=29, hours=23)).is_due
    assert _status(shed, plan, T0 + timedelta(days=30)).days_over == timedelta()
    late = _status(shed, plan, T0 + timedelta(days=33))
    assert late.days_over == timedelta(days=3) and late.progress == pytest.approx(1.1)


def test_plan_falls_due_by_hours_of_use_counting_an_open_loan(shed):
    plan = _plan(shed, every_use_hours=10)
    shed.lend(T0 + timedelta(days=1), hours_out=4)
    shed.lend(T0 + timedelta(days=2), hours_out=5)
    assert _status(shed, plan, T0 + timedelta(days=3)).use == timedelta(hours=9)
    shed.lend(T0 + timedelta(days=3))  # still out
    assert not _status(shed, plan, T0 + timedelta(days=3, minutes=59)).is_due
    status = _status(shed, plan, T0 + timedelta(days=3, hours=2))
    assert status.use_over == timedelta(hours=1)


def test_whichever_threshold_comes_first_and_due_plans_lists_most_overdue_first(shed):
    with transaction(shed.engine) as session:
        a_tool(session, "SAW-1", slot=2)
    plan = _plan(shed, every_loans=100, every_days=10)
    with transaction(shed.engine) as session:
        add_plan(
            session,
            name="Saw teeth",
            steward_id=shed.steward_id,
            category="power tools",
            every_days=5,
            now=T0,
        )
    with reading(shed.engine) as session:
        due = due_plans(session, now=T0 + timedelta(days=11))
    assert [(s.plan.name, s.tool_code) for s in due] == [
        ("Saw teeth", "DRILL-1"),
        ("Saw teeth", "SAW-1"),
        ("Blade check", "DRILL-1"),
    ]
    assert due[-1].plan.id == plan.id and due[-1].days_over == timedelta(days=1)


def test_a_blocking_plan_stops_lending_until_a_service_resets_it(shed):
    plan = _plan(shed, every_loans=2, blocks_when_overdue=True)
    shed.lend(T0 + timedelta(days=1), hours_out=1)
    shed.lend(T0 + timedelta(days=2), hours_out=1)
    with pytest.raises(ToolUnavailable, match="overdue for maintenance 'Blade check': 2 loans"):
        shed.lend(T0 + timedelta(days=3))
    with transaction(shed.engine) as session:
        log_service(
            session,
            plan_id=plan.id,
            tool_id=shed.tool_id,
            member_id=shed.fixer_id,
            note="blade sharpened",
            now=T0 + timedelta(days=3),
        )
    shed.lend(T0 + timedelta(days=4), hours_out=1)
    assert shed.status() == ToolStatus.AVAILABLE


def test_the_schedule_opens_one_ticket_per_due_plan_and_resolving_it_is_a_service(shed):
    plan = _plan(shed, every_days=30, blocks_when_overdue=True)
    when = T0 + timedelta(days=31)
    with transaction(shed.engine) as session:
        (ticket,) = open_due_tickets(session, now=when)
        assert open_due_tickets(session, now=when) == []
    assert ticket.source == TicketSource.SCHEDULE and ticket.blocking
    assert ticket.plan_id == plan.id and "Blade check" in ticket.note
    assert shed.status() == ToolStatus.OUT_OF_SERVICE
    with transaction(shed.engine) as session:
        resolve_ticket(session, ticket.id, steward_id=shed.steward_id, now=when)
    assert shed.status() == ToolStatus.AVAILABLE
    status = _status(shed, plan, when + timedelta(days=1))
    assert not status.is_due and status.since == when


def test_plans_refuse_bad_thresholds_and_non_stewards(shed):
    cases = [
        ({"every_loans": 0}, InvalidInput, "every_loans must be a whole number"),
        ({}, InvalidInput, "needs every_loans, every_days or every_use_hours"),
        ({"category": "saws", "every_days": 3}, InvalidInput, "one tool or for one"),
    ]
    for extra, error, message in cases:
        with pytest.raises(error, match=message):
            _plan(shed, **extra)
    with pytest.raises(RuleViolation, match="Only stewards may add maintenance plans"):
        with transaction(shed.engine) as session:
            add_plan(
                session, name="x", steward_id=shed.fixer_id, tool_id=shed.tool_id, every_days=3
            )


def test_tool_history_tells_who_did_what_in_order(shed):
    engine = shed.engine
    shed.lend(T0)
    with transaction(engine) as session:
        outcome = return_with_condition(
            session,
            tool_id=shed.tool_id,
            condition="needs_repair",
            note="battery dead",
            now=T0 + timedelta(hours=3),
        )
        claim = log_repair(
            session,
            member_id=shed.fixer_id,
            tool_id=shed.tool_id,
            hours="0.5",
            note="new cells",
            ticket_id=outcome.ticket.id,
            source="kiosk",
            now=T0 + timedelta(hours=5),
        )
        approve_claim(session, claim.id, steward_id=shed.steward_id, now=T0 + timedelta(hours=6))
    with reading(engine) as session:
        history = tool_history(session, shed.tool_id)
    assert [entry.kind for entry in history] == [
        HistoryKind.LENT,
        HistoryKind.RETURNED,
        HistoryKind.TICKET_OPENED,
        HistoryKind.REPAIRED,
        HistoryKind.TICKET_CLOSED,
    ]
    assert [entry.member_name for entry in history] == [
        "Ada Lovelace",
        "Ada Lovelace",
        "Ada Lovelace",
        "Bob Builder",
        "Bob Builder",
    ]
    assert "battery dead" in history[1].summary and "0.50 h: new cells" in history[3].summary
    assert history == sorted(history, key=lambda entry: entry.at)
